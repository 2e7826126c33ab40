/** drift-watch.test.ts run a second time with the gateway's registry on a real PostgreSQL 15: current sets from the coverage counters and the at-risk devices through the PostgreSQL repositories. */
import '../support/use-postgres';
import './drift-watch.test';
