import type { Kysely } from 'kysely';
import type { Database, ScreenshotLogsTable } from '../store/schema.js';

/** Tables added by migration 0004_monitoring (typed here so that store/schema.ts stays as it is). */
export interface DashboardUsersTable {
  username: string;
  /** `scrypt$N$r$p$salt$hash` (base64url parts). */
  password_hash: string;
  created_at: number;
}

export interface DashboardSessionsTable {
  /** SHA-256 of the session id; the id itself lives only in the browser's cookie. */
  id_hash: string;
  username: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
}

/** Timings by phase (0004); null on rows written before, and on failures before any capture. */
export interface LogTimings {
  queue_wait_ms?: number | null;
  navigation_ms?: number | null;
  wait_ms?: number | null;
  capture_ms?: number | null;
  encode_ms?: number | null;
}

/** Sign-in attempts per client address in the current throttle window (0006). */
export interface DashboardLoginAttemptsTable {
  client: string;
  window_started_at: number;
  attempts: number;
}

export interface DashboardDatabase extends Omit<Database, 'screenshot_logs'> {
  screenshot_logs: ScreenshotLogsTable & LogTimings;
  dashboard_users: DashboardUsersTable;
  dashboard_sessions: DashboardSessionsTable;
  dashboard_login_attempts: DashboardLoginAttemptsTable;
}

export function dashboardDb(db: Kysely<Database>): Kysely<DashboardDatabase> {
  return db as unknown as Kysely<DashboardDatabase>;
}
