/** Shared Hono environment of the dashboard's routes: the session and the API client of its operator. */
import type { ApiClient } from '../api/api-client';
import type { Session } from './session-store';

export interface DashboardEnv {
  Variables: {
    session: Session;
    api: ApiClient;
  };
}
