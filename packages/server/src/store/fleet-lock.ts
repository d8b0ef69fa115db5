import { sql } from 'kysely';
import type { Store } from './database.js';

/**
 * Work that must run once per fleet, not once per node: maintenance sweeps (lease recovery, retention).
 *
 * A lease row in `fleet_locks` (migration 0008), the same statements on SQLite and PostgreSQL: a node takes
 * the row when it is free or its lease ran out, runs the work, and gives it back. A node that dies holding
 * it blocks the work for at most `leaseMs`. The lease is also a rate limit: with `holdForMs`, the row is
 * kept after the work until that time has passed, so that N nodes each calling this every interval run the
 * work once per interval between them, not N times.
 */
export class FleetLock {
  constructor(
    private readonly store: Store,
    /** This process (node id + a per-start suffix), so a restarted node does not inherit a dead lease. */
    private readonly holder: string,
    private readonly now: () => number,
  ) {}

  /** Takes the named lease if free (or already ours); true when this node now holds it. */
  async tryAcquire(name: string, leaseMs: number): Promise<boolean> {
    const now = this.now();
    const expiresAt = now + leaseMs;
    const result = await this.store.db
      .insertInto('fleet_locks')
      .values({ name, holder: this.holder, expires_at: expiresAt })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ holder: this.holder, expires_at: expiresAt })
          .where((eb) =>
            eb.or([eb('fleet_locks.expires_at', '<', now), eb('fleet_locks.holder', '=', this.holder)]),
          ),
      )
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Gives the lease back; with `keepUntil`, it stays taken (by nobody's work) until then. */
  async release(name: string, keepUntil?: number): Promise<void> {
    if (keepUntil !== undefined && keepUntil > this.now()) {
      await this.store.db
        .updateTable('fleet_locks')
        .set({ expires_at: keepUntil })
        .where('name', '=', name)
        .where('holder', '=', this.holder)
        .execute();
      return;
    }
    await this.store.db
      .deleteFrom('fleet_locks')
      .where('name', '=', name)
      .where('holder', '=', this.holder)
      .execute();
  }

  /**
   * Runs `work` if no other node runs it (or ran it within `holdForMs`); returns whether it ran here.
   * `leaseMs` must outlive the work: it is what another node waits for when this one dies mid-way.
   */
  async runOncePerFleet(
    name: string,
    work: () => Promise<void>,
    options: { leaseMs: number; holdForMs?: number },
  ): Promise<boolean> {
    const startedAt = this.now();
    if (!(await this.tryAcquire(name, options.leaseMs))) return false;
    try {
      await work();
    } finally {
      await this.release(
        name,
        options.holdForMs !== undefined ? startedAt + options.holdForMs : undefined,
      ).catch(() => undefined);
    }
    return true;
  }
}

/** Fixed key of the advisory lock nodes take around start-up (migrations, the default project). */
const STARTUP_LOCK_KEY = 0x534e4150; // "SNAP"

/**
 * Runs `work` (migrations, creating the default project) under a PostgreSQL session advisory lock, so that
 * N nodes starting at the same moment do it one after the other: the first migrates, the others find
 * nothing left to do. SQLite needs nothing: one file has one writer at a time.
 */
export async function withStartupLock<T>(store: Store, work: () => Promise<T>): Promise<T> {
  if (store.dialect !== 'postgres') return work();
  return store.db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${STARTUP_LOCK_KEY})`.execute(connection);
    try {
      return await work();
    } finally {
      await sql`select pg_advisory_unlock(${STARTUP_LOCK_KEY})`.execute(connection).catch(() => undefined);
    }
  });
}
