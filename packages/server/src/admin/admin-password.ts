// The dashboard admin's password outside the dashboard: made at the first start (shown in the start
// banner) and reset by `snapwire admin reset-password` when it is lost.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { DashboardAuth } from '../dashboard/auth.js';
import type { Database } from '../store/schema.js';

export const MIN_ADMIN_PASSWORD_LENGTH = 12;

/** Makes the admin account when missing; returns the generated password (first start, none configured). */
export async function ensureAdminAccount(
  db: Kysely<Database>,
  clock: Clock,
  configured: string | undefined,
): Promise<string | undefined> {
  // The session TTL does not matter here: no session is made.
  return new DashboardAuth(db, clock, 0).ensureAdmin(configured);
}

/**
 * Sets a new admin password (the one given, or a generated one) and signs out every admin session.
 * Returns the password in force.
 */
export async function resetAdminPassword(
  db: Kysely<Database>,
  clock: Clock,
  password?: string,
): Promise<string> {
  if (password !== undefined && password.length < MIN_ADMIN_PASSWORD_LENGTH) {
    throw new AdminPasswordError(`the password must have at least ${MIN_ADMIN_PASSWORD_LENGTH} characters`);
  }
  const next = password ?? randomBytes(18).toString('base64url');
  // The session TTL does not matter here: no session is made.
  await new DashboardAuth(db, clock, 0).setAdminPassword(next);
  return next;
}

export class AdminPasswordError extends Error {}
