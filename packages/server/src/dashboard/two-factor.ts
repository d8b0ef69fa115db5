import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { Secret, TOTP } from 'otpauth';
import type { Clock } from '../clock.js';
import type { Database } from '../store/schema.js';
import { randomToken, sha256 } from './auth.js';

/** RFC 6238 defaults that every authenticator app reads: SHA-1, 6 digits, 30-second steps. */
const PERIOD_SECONDS = 30;
/** One step either side: a phone's clock a little off still signs in. */
const WINDOW = 1;
export const RECOVERY_CODE_COUNT = 10;
/** A right password waits this long for its code. */
export const CHALLENGE_TTL_MS = 5 * 60_000;

export interface Enrolment {
  /** Base32, to type into an app by hand. */
  secret: string;
  /** otpauth://totp/… for a QR code or a link. */
  uri: string;
}

/** How a second factor was given, when it was right. */
export type SecondFactor = 'totp' | 'recovery_code';

/**
 * Optional TOTP two-factor sign-in of dashboard users (docs/dashboard.md, "Two-factor sign-in"): enrol
 * (a secret pending until confirmed with a code), ten one-use recovery codes kept as SHA-256, disable; the
 * challenge that a right password opens when two-factor is on. The time comes from the injected clock.
 */
export class TwoFactor {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly issuer: string,
  ) {}

  private totp(username: string, secret: string): TOTP {
    return new TOTP({
      issuer: this.issuer,
      label: username,
      algorithm: 'SHA1',
      digits: 6,
      period: PERIOD_SECONDS,
      secret: Secret.fromBase32(secret),
    });
  }

  async enabled(username: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('dashboard_two_factor')
      .select('enabled_at')
      .where('username', '=', username)
      .executeTakeFirst();
    return row?.enabled_at != null;
  }

  async remainingRecoveryCodes(username: string): Promise<number> {
    const row = await this.db
      .selectFrom('dashboard_recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('username', '=', username)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** A new secret, pending until confirm(); replaces a pending one. Refused while two-factor is on. */
  async enrol(username: string): Promise<Enrolment | undefined> {
    if (await this.enabled(username)) return undefined;
    const secret = new Secret({ size: 20 }).base32;
    await this.db.deleteFrom('dashboard_two_factor').where('username', '=', username).execute();
    await this.db
      .insertInto('dashboard_two_factor')
      .values({ username, secret, created_at: this.clock.now(), enabled_at: null, last_step: null })
      .execute();
    return { secret, uri: this.totp(username, secret).toString() };
  }

  /** The pending enrolment, to show again (a reload of the page). */
  async pending(username: string): Promise<Enrolment | undefined> {
    const row = await this.db
      .selectFrom('dashboard_two_factor')
      .selectAll()
      .where('username', '=', username)
      .where('enabled_at', 'is', null)
      .executeTakeFirst();
    return row ? { secret: row.secret, uri: this.totp(username, row.secret).toString() } : undefined;
  }

  /**
   * Turns two-factor on when `code` is right for the pending secret; returns the ten recovery codes (shown
   * once, stored hashed), or undefined for a wrong code or no pending enrolment.
   */
  async confirm(username: string, code: string): Promise<string[] | undefined> {
    const row = await this.db
      .selectFrom('dashboard_two_factor')
      .selectAll()
      .where('username', '=', username)
      .where('enabled_at', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    const step = this.stepOf(username, row.secret, code);
    if (step === undefined) return undefined;
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => recoveryCode());
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('dashboard_two_factor')
        .set({ enabled_at: this.clock.now(), last_step: step })
        .where('username', '=', username)
        .execute();
      await trx.deleteFrom('dashboard_recovery_codes').where('username', '=', username).execute();
      await trx
        .insertInto('dashboard_recovery_codes')
        .values(codes.map((c) => ({ username, code_hash: sha256(normalise(c)), used_at: null })))
        .execute();
    });
    return codes;
  }

  async disable(username: string): Promise<void> {
    await this.db.deleteFrom('dashboard_recovery_codes').where('username', '=', username).execute();
    await this.db.deleteFrom('dashboard_two_factor').where('username', '=', username).execute();
  }

  /**
   * Checks a second factor of an enabled user: a current TOTP code not used before (its step is stored,
   * atomically, so the same code cannot sign in twice), or an unused recovery code (marked used).
   */
  async verify(username: string, given: string): Promise<SecondFactor | undefined> {
    const row = await this.db
      .selectFrom('dashboard_two_factor')
      .selectAll()
      .where('username', '=', username)
      .where('enabled_at', 'is not', null)
      .executeTakeFirst();
    if (!row) return undefined;
    const code = given.replace(/\s+/g, '');
    if (/^\d{6}$/.test(code)) {
      const step = this.stepOf(username, row.secret, code);
      if (step === undefined) return undefined;
      const taken = await this.db
        .updateTable('dashboard_two_factor')
        .set({ last_step: step })
        .where('username', '=', username)
        .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
        .executeTakeFirst();
      return Number(taken.numUpdatedRows) > 0 ? 'totp' : undefined;
    }
    const used = await this.db
      .updateTable('dashboard_recovery_codes')
      .set({ used_at: this.clock.now() })
      .where('username', '=', username)
      .where('code_hash', '=', sha256(normalise(code)))
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(used.numUpdatedRows) > 0 ? 'recovery_code' : undefined;
  }

  /** The time step `code` is right for (within the window), on the injected clock. */
  private stepOf(username: string, secret: string, code: string): number | undefined {
    const timestamp = this.clock.now();
    const delta = this.totp(username, secret).validate({ token: code.trim(), timestamp, window: WINDOW });
    if (delta === null) return undefined;
    return Math.floor(timestamp / 1000 / PERIOD_SECONDS) + delta;
  }

  /** Opens a challenge after a right password; returns its id (kept in a cookie until the code comes). */
  async openChallenge(username: string): Promise<string> {
    const id = randomToken();
    const now = this.clock.now();
    await this.db.deleteFrom('dashboard_sign_in_challenges').where('expires_at', '<=', now).execute();
    await this.db
      .insertInto('dashboard_sign_in_challenges')
      .values({ id_hash: sha256(id), username, created_at: now, expires_at: now + CHALLENGE_TTL_MS })
      .execute();
    return id;
  }

  /** The user a live challenge is for. */
  async challengeUser(id: string | undefined): Promise<string | undefined> {
    if (!id) return undefined;
    const row = await this.db
      .selectFrom('dashboard_sign_in_challenges')
      .selectAll()
      .where('id_hash', '=', sha256(id))
      .executeTakeFirst();
    return row && Number(row.expires_at) > this.clock.now() ? row.username : undefined;
  }

  async closeChallenge(id: string): Promise<void> {
    await this.db.deleteFrom('dashboard_sign_in_challenges').where('id_hash', '=', sha256(id)).execute();
  }
}

/** 10 base32 letters (50 bits) as xxxxx-xxxxx. */
function recoveryCode(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(10);
  const letters = Array.from(bytes, (b) => alphabet[b % 32]).join('');
  return `${letters.slice(0, 5)}-${letters.slice(5)}`;
}

function normalise(code: string): string {
  return code.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Retention: removes expired two-factor sign-in challenges (retention/retention-sweeper.ts, via snapwire.ts). */
export async function sweepExpiredChallenges(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom('dashboard_sign_in_challenges').where('expires_at', '<=', now).execute();
}
