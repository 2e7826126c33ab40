/** ct-watch.test.ts run a second time with the gateway's registry on a real PostgreSQL 15: current sets from the coverage counters and the mismatch reports through the PostgreSQL repositories. */
import '../support/use-postgres';
import './ct-watch.test';
