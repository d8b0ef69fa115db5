import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

// The schema is declared once, in store/schema.ts; these names stay for the dashboard's modules.
export type {
  DashboardLoginAttemptsTable,
  DashboardSessionsTable,
  DashboardUsersTable,
} from '../store/schema.js';
export type DashboardDatabase = Database;

export function dashboardDb(db: Kysely<Database>): Kysely<DashboardDatabase> {
  return db;
}
