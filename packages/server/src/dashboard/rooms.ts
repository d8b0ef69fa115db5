import type { Clock } from '../clock.js';
import type { Store } from '../store/database.js';
import { TeamStore } from '../team/team-store.js';
import { DashboardAuth } from './auth.js';
import { DashboardQueries } from './queries.js';
import { projectLookup, type ProjectLookup } from './route-access.js';
import { TwoFactor } from './two-factor.js';

/**
 * What the dashboard reads and writes besides the services the API shares: its accounts and sessions,
 * second factors, the team, its cross-room queries and the project lookups of route access. The
 * composition root (snapwire.ts) builds them over the store, so no page, hook or route holds the database.
 */
export interface DashboardRooms {
  auth: DashboardAuth;
  twoFactor: TwoFactor;
  team: TeamStore;
  queries: DashboardQueries;
  projects: ProjectLookup;
}

export function createDashboardRooms(store: Store, clock: Clock, sessionTtlMs: number): DashboardRooms {
  return {
    auth: new DashboardAuth(store.db, clock, sessionTtlMs),
    twoFactor: new TwoFactor(store.db, clock, 'Snapwire'),
    team: new TeamStore(store.db, clock, store.dialect),
    queries: new DashboardQueries(store.db),
    projects: projectLookup(store.db),
  };
}
