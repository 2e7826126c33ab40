/** guided-rotation.test.ts run a second time with the gateway's registry on a real PostgreSQL 15: rotation_plans, the rotation gate and atRiskOffline through the PostgreSQL repositories. */
import '../support/use-postgres';
import './guided-rotation.test';
