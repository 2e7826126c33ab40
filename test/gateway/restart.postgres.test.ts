/** restart.test.ts run a second time with every gateway's registry on a real PostgreSQL 15 (PINGW_DATABASE_URL). */
import '../support/use-postgres';
import './restart.test';
