/** token-lifecycle.test.ts run a second time with the gateway's registry on a real PostgreSQL 15. */
import '../support/use-postgres';
import './token-lifecycle.test';
