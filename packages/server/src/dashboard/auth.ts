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

export function sha256(value: string): string {
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
/**
 * Sign-in attempts allowed per account (the user name as typed) within one window, from any address: a
 * guesser spreading over many addresses is slowed too. Higher than the per-address budget, so that one
 * noisy address does not lock its owner out by itself.
 */
export const LOGIN_ACCOUNT_ATTEMPTS = 20;
/** The throttle's key of an account: never an address (addresses have no colon-free "account:" form). */
// Names are matched without case (an email in any case is one account), so they are counted that way too.
export const accountThrottleKey = (username: string) =>
  `account:${username.trim().toLowerCase().slice(0, 200)}`;
/** A session's last-seen time is written at most this often (not a write per request). */
const LAST_SEEN_EVERY_MS = 60_000;

export interface Session {
  username: string;
  csrfToken: string;
  /** SHA-256 of the session id: names the session on the sessions page (the id itself never shown). */
  handle: string;
}

/** Where a sign-in came from (kept on the session: the sessions page shows it). */
export interface Client {
  address: string;
  userAgent?: string | undefined;
}

export interface SessionSummary {
  handle: string;
  createdAt: number;
  lastSeenAt: number | null;
  expiresAt: number;
  sourceAddress: string | null;
  userAgent: string | null;
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
        await this.setAdminPassword(configured);
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

  /**
   * Sets the admin's password (making the admin when missing, as `snapwire admin reset-password` does after
   * the admin was removed) and signs out every admin session.
   */
  async setAdminPassword(password: string): Promise<void> {
    const hash = await hashPassword(password);
    const updated = await this.db
      .updateTable('dashboard_users')
      .set({ password_hash: hash })
      .where('username', '=', ADMIN_USER)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) {
      await this.db
        .insertInto('dashboard_users')
        .values({ username: ADMIN_USER, role: 'owner', password_hash: hash, created_at: this.clock.now() })
        .execute();
    }
    await this.db.deleteFrom('dashboard_sessions').where('username', '=', ADMIN_USER).execute();
  }

  /** The user's stored name when they exist and the password is theirs (an unknown user costs the same time). */
  async checkPassword(username: string, password: string): Promise<string | undefined> {
    const user = await this.db
      .selectFrom('dashboard_users')
      .selectAll()
      .where('username', '=', username.trim().toLowerCase())
      .executeTakeFirst();
    // Hash anyway for an unknown user, so that timing does not tell which names exist.
    const ok = await verifyPassword(password, user?.password_hash ?? (await hashPassword('x')));
    // The stored name: an invited member signs in with their email in any case (team/team-store.ts).
    return user && ok ? user.username : undefined;
  }

  /**
   * Password only, then a session: for tools and tests. The sign-in route (session.ts) checks the password
   * and, when the user has it on, the second factor (two-factor.ts) before startSession().
   */
  async signIn(
    username: string,
    password: string,
    client?: Client,
  ): Promise<{ id: string; session: Session } | undefined> {
    const user = await this.checkPassword(username, password);
    if (user === undefined) return undefined;
    return this.startSession(user, client);
  }

  /** A new session for a user whose password (and second factor, if any) was checked. */
  async startSession(username: string, client?: Client): Promise<{ id: string; session: Session }> {
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
        last_seen_at: now,
        source_address: client?.address ?? null,
        user_agent: client?.userAgent?.slice(0, 300) ?? null,
      })
      .execute();
    return { id, session: { username, csrfToken, handle: sha256(id) } };
  }

  async session(id: string | undefined): Promise<Session | undefined> {
    if (!id) return undefined;
    const row = await this.db
      .selectFrom('dashboard_sessions')
      .selectAll()
      .where('id_hash', '=', sha256(id))
      .executeTakeFirst();
    const now = this.clock.now();
    if (!row || row.expires_at <= now) return undefined;
    if (row.last_seen_at === null || now - Number(row.last_seen_at) >= LAST_SEEN_EVERY_MS) {
      await this.db
        .updateTable('dashboard_sessions')
        .set({ last_seen_at: now })
        .where('id_hash', '=', row.id_hash)
        .execute();
    }
    return { username: row.username, csrfToken: row.csrf_token, handle: row.id_hash };
  }

  /** A user's live sessions, newest first. */
  async sessionsOf(username: string): Promise<SessionSummary[]> {
    const rows = await this.db
      .selectFrom('dashboard_sessions')
      .selectAll()
      .where('username', '=', username)
      .where('expires_at', '>', this.clock.now())
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map((row) => ({
      handle: row.id_hash,
      createdAt: Number(row.created_at),
      lastSeenAt: row.last_seen_at === null ? null : Number(row.last_seen_at),
      expiresAt: Number(row.expires_at),
      sourceAddress: row.source_address,
      userAgent: row.user_agent,
    }));
  }

  /** Ends one session of `username` (by its handle); false when there is no such session of theirs. */
  async revoke(username: string, handle: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('dashboard_sessions')
      .where('username', '=', username)
      .where('id_hash', '=', handle)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Ends every session of `username` except `keep` (a handle); returns how many ended. */
  async revokeAll(username: string, keep?: string): Promise<number> {
    let query = this.db.deleteFrom('dashboard_sessions').where('username', '=', username);
    if (keep) query = query.where('id_hash', '!=', keep);
    return Number((await query.executeTakeFirst()).numDeletedRows);
  }

  async usernames(): Promise<string[]> {
    const rows = await this.db.selectFrom('dashboard_users').select('username').orderBy('username').execute();
    return rows.map((row) => row.username);
  }

  async userExists(username: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('dashboard_users')
      .select('username')
      .where('username', '=', username)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Counts a sign-in attempt of `client` before its password is checked, in one atomic statement (an
   * upsert that restarts an expired window), so that parallel attempts can never all see the same count;
   * stored in the database, so the limit holds across every process sharing it. Returns the seconds to wait
   * when the client is over its budget, else undefined.
   */
  async reserveAttempt(client: string, limit = LOGIN_ATTEMPTS): Promise<number | undefined> {
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
    if (Number(row.attempts) <= limit) return undefined;
    return Math.max(1, Math.ceil((Number(row.window_started_at) + LOGIN_WINDOW_MS - now) / 1000));
  }

  /**
   * Counts an attempt against both the address and the account (the user name as typed), both in the
   * store: the fleet shares both counts. Returns the seconds to wait when either is over its budget.
   */
  async reserveSignIn(address: string, username: string): Promise<number | undefined> {
    const byAddress = await this.reserveAttempt(address);
    const byAccount = await this.reserveAttempt(accountThrottleKey(username), LOGIN_ACCOUNT_ATTEMPTS);
    if (byAddress === undefined && byAccount === undefined) return undefined;
    return Math.max(byAddress ?? 0, byAccount ?? 0);
  }

  /** A successful sign-in clears the client's count. */
  async clearAttempts(client: string): Promise<void> {
    await this.db.deleteFrom('dashboard_login_attempts').where('client', '=', client).execute();
  }

  async signOut(id: string | undefined): Promise<void> {
    if (id) await this.db.deleteFrom('dashboard_sessions').where('id_hash', '=', sha256(id)).execute();
  }
}

/**
 * Retention (retention/retention-sweeper.ts, wired in snapwire.ts): removes expired dashboard sessions and
 * sign-in counts whose window started more than `loginWindowMs` ago.
 */
export async function sweepExpiredSignIns(
  db: Kysely<Database>,
  now: number,
  loginWindowMs: number,
): Promise<{ sessions: number; loginAttempts: number }> {
  const sessions = await db
    .deleteFrom('dashboard_sessions')
    .where('expires_at', '<=', now)
    .executeTakeFirst();
  const loginAttempts = await db
    .deleteFrom('dashboard_login_attempts')
    .where('window_started_at', '<', now - loginWindowMs)
    .executeTakeFirst();
  return { sessions: Number(sessions.numDeletedRows), loginAttempts: Number(loginAttempts.numDeletedRows) };
}
