import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { ApiError } from '../errors.js';
import type { Database } from '../store/schema.js';

/** A lease not renewed for this long is free again: a node that dies gives its slots back within it. */
export const LEASE_TTL_MS = 15_000;
/** Held leases are renewed this often (a third of the TTL: two renewals may fail before one is lost). */
export const LEASE_RENEW_MS = 5_000;

/**
 * Concurrency limits that hold across a fleet (a project's captures, a webhook's deliveries): each
 * running unit holds one slot row in `concurrency_leases` (migration 0008). Slots are numbered
 * 0..limit-1 and (scope, slot) is the primary key, so the database itself refuses a holder beyond the
 * limit, on SQLite and PostgreSQL alike, with no lock held across the work. Rows are renewed by this
 * process while held and deleted when released; a process that dies stops renewing, and its rows are
 * taken over once they are LEASE_TTL_MS old.
 */
export class ConcurrencyLeases {
  /** One id per process start: a restarted node never renews the leases of its previous life. */
  readonly holder: string;
  private readonly held = new Map<string, { scope: string; slot: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    nodeId: string,
    private readonly logger?: Logger,
  ) {
    this.holder = `${nodeId}/${randomUUID().slice(0, 8)}`;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.renew(), LEASE_RENEW_MS);
    this.timer.unref();
  }

  /** Stops renewing and gives back every slot still held. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.held.size === 0) return;
    this.held.clear();
    await this.db
      .deleteFrom('concurrency_leases')
      .where('holder', '=', this.holder)
      .execute()
      .catch(() => undefined);
  }

  /** Takes one of the `limit` slots of `scope`; undefined when all are held. The release is idempotent. */
  async tryAcquire(scope: string, limit: number): Promise<SlotRelease | undefined> {
    if (limit <= 0) return undefined;
    const now = this.clock.now();
    const live = new Set(
      (
        await this.db
          .selectFrom('concurrency_leases')
          .select('slot')
          .where('scope', '=', scope)
          .where('slot', '<', limit)
          .where('expires_at', '>=', now)
          .execute()
      ).map((row) => Number(row.slot)),
    );
    for (let slot = 0; slot < limit; slot += 1) {
      if (live.has(slot)) continue;
      // A free slot is a missing row or a dead holder's (not renewed within the TTL), taken over in the same
      // statement. Another process may take the same slot at the same moment: the primary key and the
      // update's condition let exactly one win. (Two statements a slot instead of a delete sweep first:
      // a /scrape call makes a dozen, and each write is a commit.)
      const result = await this.db
        .insertInto('concurrency_leases')
        .values({ scope, slot, holder: this.holder, expires_at: now + LEASE_TTL_MS })
        .onConflict((oc) =>
          oc
            .columns(['scope', 'slot'])
            .doUpdateSet((eb) => ({
              holder: eb.ref('excluded.holder'),
              expires_at: eb.ref('excluded.expires_at'),
            }))
            .where('concurrency_leases.expires_at', '<', now),
        )
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 1) return this.releaser(scope, slot);
    }
    return undefined;
  }

  /** Like tryAcquire, but a full scope is the 429 MAX_CONCURRENT_REQUEST_EXCEEDED of a project. */
  async acquireProjectSlot(projectId: string, limit: number): Promise<SlotRelease> {
    const release = await this.tryAcquire(projectScope(projectId), limit);
    if (release) return release;
    throw new ApiError(
      'ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED',
      `This project already runs ${limit} of its ${limit} concurrent captures (counted over every Snapwire node); wait for one to finish or raise the project's concurrency limit`,
      { retryAfterSeconds: 1 },
    );
  }

  /** Slots of `scope` held now, over the whole fleet (`executor`: a caller's transaction). */
  async usage(scope: string, executor: Kysely<Database> = this.db): Promise<number> {
    const row = await executor
      .selectFrom('concurrency_leases')
      .select((eb) => eb.fn.countAll<string | number>().as('count'))
      .where('scope', '=', scope)
      .where('expires_at', '>=', this.clock.now())
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** Capture slots (project scopes) held by this process: what the account headers report for this node. */
  heldHere(): number {
    let captures = 0;
    for (const { scope } of this.held.values()) if (scope.startsWith('project:')) captures += 1;
    return captures;
  }

  private releaser(scope: string, slot: number): SlotRelease {
    const id = `${scope}#${slot}`;
    this.held.set(id, { scope, slot });
    let released = false;
    const remove = (executor: Kysely<Database>) =>
      executor
        .deleteFrom('concurrency_leases')
        .where('scope', '=', scope)
        .where('slot', '=', slot)
        .where('holder', '=', this.holder)
        .execute();
    return async (executor?: Kysely<Database>) => {
      if (released) return;
      if (executor) {
        // Inside the caller's transaction: a failure is the caller's to handle (it may release again
        // without one). Should its commit fail after this, the row runs out within LEASE_TTL_MS.
        await remove(executor);
        released = true;
        this.held.delete(id);
        return;
      }
      released = true;
      this.held.delete(id);
      await remove(this.db).catch((error: unknown) =>
        // Not fatal: the row runs out within LEASE_TTL_MS.
        this.logger?.warn({ err: error, scope }, 'could not release a concurrency slot'),
      );
    };
  }

  /** Renews every slot this process holds (one statement). */
  async renew(): Promise<void> {
    if (this.held.size === 0) return;
    await this.db
      .updateTable('concurrency_leases')
      .set({ expires_at: this.clock.now() + LEASE_TTL_MS })
      .where('holder', '=', this.holder)
      .execute()
      .catch((error: unknown) => this.logger?.warn({ err: error }, 'could not renew concurrency slots'));
  }

  /** Deletes every expired lease (fleet maintenance; acquiring also frees its own scope's). */
  async recoverExpired(): Promise<number> {
    const result = await this.db
      .deleteFrom('concurrency_leases')
      .where('expires_at', '<', this.clock.now())
      .executeTakeFirst();
    return Number(result.numDeletedRows ?? 0);
  }
}

/**
 * Gives a slot back; idempotent. With `executor` (a caller's transaction) the row is deleted in it and a
 * failure is thrown; without, a failure is logged (the row runs out within LEASE_TTL_MS).
 */
export type SlotRelease = (executor?: Kysely<Database>) => Promise<void>;

export const projectScope = (projectId: string) => `project:${projectId}`;
export const webhookScope = (webhookUuid: string) => `webhook:${webhookUuid}`;
