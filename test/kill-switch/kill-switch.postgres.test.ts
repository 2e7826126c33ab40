/** kill-switch.test.ts run a second time with the gateway's registry on a real PostgreSQL 15: kill_switches and the live coverage query through the PostgreSQL repositories. */
import '../support/use-postgres';
import './kill-switch.test';
