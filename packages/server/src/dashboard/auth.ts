import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../store/schema.js';

export const ADMIN_USER = 'admin';

// Passwords are hashed with scrypt: it ships with Node (no native add-on to build, unlike bcrypt or argon2),
// and it is memory-hard (N=2^15, r=8 needs 32 MiB per hash), so guessing on GPUs costs far more than with
// a plain or iterated hash. About 60 ms per hash on one core of the test machine: fine for a sign-in.
const SCRYPT = { N: 32768, r: 8, p: 1, keyLength: 64 } as const;

function scryptAsync(
  password: string,
  salt: Buffer,
  keyLength: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p, keyLength } = SCRYPT;
  const key = await scryptAsync(password, salt, keyLength, { N, r, p, maxmem: 128 * N * r * 2 });
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const N = Number(n);
  const key = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, {
    N,
    r: Number(r),
    p: Number(p),
    maxmem: 128 * N * Number(r) * 2,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Where to go after signing in: only a path inside the dashboard, printable ASCII without CR/LF or
 * backslashes (a header value that could split the answer, or `/\\host` that browsers read as another
 * origin, falls back to the dashboard's home).
 */
export function safeNext(next: string | undefined): string {
  const fallback = '/dashboard';
  if (typeof next !== 'string' || next.length > 2048) return fallback;
  if (!/^[\x21-\x7e]*$/.test(next) || next.includes('\\')) return fallback;
  if (next !== '/dashboard' && !next.startsWith('/dashboard/') && !next.startsWith('/dashboard?')) {
    return fallback;
  }
  return next;
}

/** Sign-in attempts allowed per client address within one window, then 429 until the window ends. */
export const LOGIN_ATTEMPTS = 10;
export const LOGIN_WINDOW_MS = 15 * 60_000;

export interface Session {
  username: string;
  csrfToken: string;
}

/** The dashboard's admin account and its server-side sessions. */
export class DashboardAuth {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly sessionTtlMs: number,
  ) {}

  /**
   * Makes sure the admin account exists. SNAPWIRE_ADMIN_PASSWORD, when set, is the password (set again
   * at each start if it changed); otherwise one is generated at the first start and returned to be
   * printed once.
   */
  async ensureAdmin(configured: string | undefined): Promise<string | undefined> {
    const existing = await this.db
      .selectFrom('dashboard_users')
      .selectAll()
      .where('username', '=', ADMIN_USER)
      .executeTakeFirst();
    if (existing) {
      if (configured && !(await verifyPassword(configured, existing.password_hash))) {
        await this.db
          .updateTable('dashboard_users')
          .set({ password_hash: await hashPassword(configured) })
          .where('username', '=', ADMIN_USER)
          .execute();
        await this.db.deleteFrom('dashboard_sessions').where('username', '=', ADMIN_USER).execute();
      }
      return undefined;
    }
    // Once the team has an owner (the admin was removed after another owner was made), none is added.
    const owner = await this.db
      .selectFrom('dashboard_users')
      .select('username')
      .where('role', '=', 'owner')
      .executeTakeFirst();
    if (owner) return undefined;
    const password = configured ?? randomBytes(18).toString('base64url');
    try {
      await this.db
        .insertInto('dashboard_users')
        .values({
          username: ADMIN_USER,
          role: 'owner',
          password_hash: await hashPassword(password),
          created_at: this.clock.now(),
        })
        .execute();
    } catch {
      return undefined; // another process created it first
    }
    return configured ? undefined : password;
  }

  async signIn(username: string, password: string): Promise<{ id: string; session: Session } | undefined> {
    const user = await this.db
      .selectFrom('dashboard_users')
      .selectAll()
      .where('username', '=', username.trim().toLowerCase())
      .executeTakeFirst();
    // Hash anyway for an unknown user, so that timing does not tell which names exist.
    const ok = await verifyPassword(password, user?.password_hash ?? (await hashPassword('x')));
    if (!user || !ok) return undefined;
    username = user.username;
    const id = randomToken();
    const csrfToken = randomToken();
    const now = this.clock.now();
    await this.db.deleteFrom('dashboard_sessions').where('expires_at', '<', now).execute();
    await this.db
      .insertInto('dashboard_sessions')
      .values({
        id_hash: sha256(id),
        username,
        csrf_token: csrfToken,
        created_at: now,
        expires_at: now + this.sessionTtlMs,
      })
      .execute();
    return { id, session: { username, csrfToken } };
  }

  async session(id: string | undefined): Promise<Session | undefined> {
    if (!id) return undefined;
    const row = await this.db
      .selectFrom('dashboard_sessions')
      .selectAll()
      .where('id_hash', '=', sha256(id))
      .executeTakeFirst();
    if (!row || row.expires_at <= this.clock.now()) return undefined;
    return { username: row.username, csrfToken: row.csrf_token };
  }

  /**
   * Counts a sign-in attempt of `client` before its password is checked, in one atomic statement (an
   * upsert that restarts an expired window), so that parallel attempts can never all see the same count;
   * stored in the database, so the limit holds across every process sharing it. Returns the seconds to wait
   * when the client is over its budget, else undefined.
   */
  async reserveAttempt(client: string): Promise<number | undefined> {
    const now = this.clock.now();
    const windowStart = now - LOGIN_WINDOW_MS;
    const row = await this.db
      .insertInto('dashboard_login_attempts')
      .values({ client, window_started_at: now, attempts: 1 })
      .onConflict((oc) =>
        oc.column('client').doUpdateSet({
          attempts: sql<number>`case when dashboard_login_attempts.window_started_at < ${windowStart} then 1 else dashboard_login_attempts.attempts + 1 end`,
          window_started_at: sql<number>`case when dashboard_login_attempts.window_started_at < ${windowStart} then ${now} else dashboard_login_attempts.window_started_at end`,
        }),
      )
      .returning(['attempts', 'window_started_at'])
      .executeTakeFirstOrThrow();
    if (Number(row.attempts) <= LOGIN_ATTEMPTS) return undefined;
    return Math.max(1, Math.ceil((Number(row.window_started_at) + LOGIN_WINDOW_MS - now) / 1000));
  }

  /** A successful sign-in clears the client's count. */
  async clearAttempts(client: string): Promise<void> {
    await this.db.deleteFrom('dashboard_login_attempts').where('client', '=', client).execute();
  }

  async signOut(id: string | undefined): Promise<void> {
    if (id) await this.db.deleteFrom('dashboard_sessions').where('id_hash', '=', sha256(id)).execute();
  }
}
