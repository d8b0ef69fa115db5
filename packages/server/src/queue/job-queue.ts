import { randomUUID } from 'node:crypto';
import { sql, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import type { Dialect } from '../store/database.js';
import type { Database, JobState, JobsTable } from '../store/schema.js';
import { PreparedQuery } from '../store/prepared.js';
import { enabledWebhookUuids, lockWebhookRow } from '../webhooks/webhook-rows.js';

export type Job = JobsTable;
export type NewJob = Pick<
  JobsTable,
  'id' | 'project_id' | 'env' | 'webhook_uuid' | 'resource_type' | 'log_uuid' | 'request' | 'state'
> &
  Partial<Pick<JobsTable, 'payload_blob' | 'payload_content_type' | 'payload_headers' | 'run_at'>>;

/** A claimed job and the fencing token that every later write must present. */
export interface Claim {
  job: Job;
  token: string;
}

type Executor = Kysely<Database> | Transaction<Database>;

/** The end or rescheduling of a delivery attempt: run once per delivery, so compiled once (prepared.ts). */
const AFTER_ATTEMPT = new PreparedQuery<
  Database,
  { state: string; runAt: number; lastError: string | null; now: number; id: string; token: string }
>(['state', 'runAt', 'lastError', 'now', 'id', 'token'], (db, values) =>
  db
    .updateTable('jobs')
    .set({
      state: values.state as JobsTable['state'],
      delivery_attempts: sql<number>`delivery_attempts + 1`,
      run_at: values.runAt,
      last_error: values.lastError,
      locked_by: null,
      locked_until: null,
      updated_at: values.now,
    })
    .where('id', '=', values.id)
    .where('locked_by', '=', values.token),
);

/**
 * A crawl's events reach a webhook in the order they happened: a `crawler` delivery is due only when no
 * earlier one (time-ordered ids) of the same webhook is still being delivered, retries included.
 * Other kinds are not held back (their order never mattered).
 */
function crawlerEventIsNext(eb: ExpressionBuilder<Database, 'jobs'>) {
  return eb.or([
    eb('jobs.resource_type', '!=', 'crawler'),
    eb.not(
      eb.exists(
        eb
          .selectFrom('jobs as earlier')
          .select('earlier.id')
          .whereRef('earlier.webhook_uuid', '=', 'jobs.webhook_uuid')
          .where('earlier.state', '=', 'delivering')
          .where('earlier.resource_type', '=', 'crawler')
          .whereRef('earlier.id', '<', 'jobs.id'),
      ),
    ),
  ]);
}

/**
 * The durable job table (graphile-worker's design, on both dialects). A job is claimed with a lease: the
 * claim writes a fresh token and `locked_until`; a worker that dies simply lets the lease run out and the
 * job becomes claimable again. Every write after the claim is fenced by the token, so a worker whose lease
 * was taken over cannot overwrite the new owner's progress.
 *
 * States: `queued` (to capture) -> `delivering` (payload stored, POST due at run_at) -> `done` | `failed`.
 */
export class JobQueue {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly clock: Clock,
  ) {}

  async enqueue(executor: Executor, job: NewJob): Promise<void> {
    const now = this.clock.now();
    await executor
      .insertInto('jobs')
      .values({
        payload_blob: null,
        payload_content_type: null,
        payload_headers: null,
        delivery_id: null,
        ...job,
        run_at: job.run_at ?? now,
        delivery_attempts: 0,
        capture_attempts: 0,
        locked_by: null,
        locked_until: null,
        last_error: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }

  /**
   * Claims up to `limit` due jobs in `state`. For deliveries only jobs of enabled webhooks are due: jobs of a
   * disabled webhook wait, and resume when it is enabled again. One statement: on PostgreSQL the inner
   * select takes row locks with SKIP LOCKED, so concurrent workers never claim the same job; on SQLite the
   * statement runs under the single writer lock.
   */
  async claim(
    state: 'queued' | 'delivering',
    workerId: string,
    leaseMs: number,
    limit: number,
    /** Only this project's jobs (fair sharing of delivery slots between projects). */
    projectId?: string,
  ): Promise<Claim[]> {
    if (limit <= 0) return [];
    const now = this.clock.now();
    const token = `${workerId}:${randomUUID()}`;
    const rows = await this.db
      .updateTable('jobs')
      .set({
        locked_by: token,
        locked_until: now + leaseMs,
        updated_at: now,
        ...(state === 'queued' ? { capture_attempts: sql<number>`capture_attempts + 1` } : {}),
      })
      .where('id', 'in', (eb) => {
        let due = eb
          .selectFrom('jobs')
          .select('jobs.id')
          .where('jobs.state', '=', state)
          .where('jobs.run_at', '<=', now)
          .where((w) => w.or([w('jobs.locked_until', 'is', null), w('jobs.locked_until', '<', now)]));
        if (projectId !== undefined) due = due.where('jobs.project_id', '=', projectId);
        if (state === 'delivering') {
          due = due
            .where('jobs.webhook_uuid', 'in', enabledWebhookUuids(this.db))
            .where((w) => crawlerEventIsNext(w));
        }
        due = due.orderBy('jobs.run_at').limit(limit);
        return this.dialect === 'postgres' ? due.forUpdate().skipLocked() : due;
      })
      .returningAll()
      .execute();
    return rows.map((job) => ({ job, token }));
  }

  /**
   * Projects with deliveries waiting (due or not, leased or not): what the worker shares its delivery slots
   * between. A recursive walk of the (state, project_id) index, one probe per project, so that its cost
   * does not grow with the number of jobs (a GROUP BY over thousands of due jobs did, on every claim).
   */
  async projectsWithDeliveries(limit = 100): Promise<string[]> {
    const { rows } = await sql<{ id: string | null }>`
      with recursive walk(id, n) as (
        select (select min(project_id) from jobs where state = 'delivering'), 1
        union all
        select (select min(project_id) from jobs where state = 'delivering' and project_id > walk.id), n + 1
        from walk where walk.id is not null and n < ${limit}
      )
      select id from walk where id is not null`.execute(this.db);
    return rows.map((row) => row.id as string);
  }

  /** Stores the capture's result reference and makes the delivery due now. False if the lease was lost. */
  async captured(
    claim: Claim,
    payload: { blob: string; contentType: string; headers: Record<string, string> },
  ): Promise<boolean> {
    const now = this.clock.now();
    const result = await this.db
      .updateTable('jobs')
      .set({
        state: 'delivering',
        payload_blob: payload.blob,
        payload_content_type: payload.contentType,
        payload_headers: JSON.stringify(payload.headers),
        run_at: now,
        locked_by: null,
        locked_until: null,
        updated_at: now,
      })
      .where('id', '=', claim.job.id)
      .where('locked_by', '=', claim.token)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Renews a claim's lease while its work goes on (heartbeat). False if the lease was lost meanwhile. */
  async extend(claim: Claim, leaseMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({ locked_until: this.clock.now() + leaseMs })
      .where('id', '=', claim.job.id)
      .where('locked_by', '=', claim.token)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Sends a claimed delivery back to capture (its payload cannot be found), due now. Bounded by the
   * capture attempts the worker allows. False if the lease was lost.
   */
  async recapture(claim: Claim): Promise<boolean> {
    const now = this.clock.now();
    const result = await this.db
      .updateTable('jobs')
      .set({
        state: 'queued',
        payload_blob: null,
        payload_content_type: null,
        payload_headers: null,
        run_at: now,
        locked_by: null,
        locked_until: null,
        last_error: 'the stored payload was not found; capturing again',
        updated_at: now,
      })
      .where('id', '=', claim.job.id)
      .where('locked_by', '=', claim.token)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Gives a claimed job back without counting an attempt (throttled), due again at `runAt`. */
  async release(claim: Claim, runAt: number): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({
        locked_by: null,
        locked_until: null,
        run_at: runAt,
        updated_at: this.clock.now(),
        ...(claim.job.state === 'queued' ? { capture_attempts: sql<number>`capture_attempts - 1` } : {}),
      })
      .where('id', '=', claim.job.id)
      .where('locked_by', '=', claim.token)
      .execute();
  }

  /** Ends or reschedules a delivery after an attempt. Runs inside the caller's transaction. */
  async afterAttempt(
    executor: Executor,
    claim: Claim,
    outcome:
      | { state: 'done' }
      | { state: 'failed'; error: string }
      | { state: 'delivering'; runAt: number; error: string },
  ): Promise<boolean> {
    const now = this.clock.now();
    const result = await AFTER_ATTEMPT.execute(executor, {
      state: outcome.state,
      runAt: outcome.state === 'delivering' ? outcome.runAt : now,
      lastError: outcome.state === 'done' ? null : outcome.error,
      now,
      id: claim.job.id,
      token: claim.token,
    });
    return Number(result.numAffectedRows) === 1;
  }

  /**
   * Sends a finished job's stored payload again (replay): due now, with a fresh attempt series and a new
   * delivery id (receivers dedup on it, so an explicit replay is not taken for a duplicate).
   */
  async replay(jobId: string, deliveryId: string): Promise<boolean> {
    const now = this.clock.now();
    const result = await this.db
      .updateTable('jobs')
      .set({
        state: 'delivering',
        delivery_id: deliveryId,
        run_at: now,
        delivery_attempts: 0,
        last_error: null,
        locked_by: null,
        locked_until: null,
        updated_at: now,
      })
      .where('id', '=', jobId)
      .where('payload_blob', 'is not', null)
      .where('state', 'in', ['done', 'failed'])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Locks a webhook's row until `trx` ends, on PostgreSQL, so that checking its queue against a limit and
   * enqueueing happen one transaction at a time (SQLite transactions are serial already).
   */
  async lockWebhookQueue(trx: Transaction<Database>, webhookUuid: string): Promise<void> {
    if (this.dialect === 'postgres') await lockWebhookRow(trx, webhookUuid);
  }

  /**
   * Jobs not yet ended for a webhook (screenshots, scrapes, extractions): what its queue limit bounds. Pings
   * do not count, nor a crawl's events: those are never refused (the crawl was accepted already), and are
   * bounded by the crawl's own limits.
   */
  async pendingCount(webhookUuid: string, executor: Executor = this.db): Promise<number> {
    const row = await executor
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<string | number>().as('count'))
      .where('webhook_uuid', '=', webhookUuid)
      .where('resource_type', 'not in', ['ping', 'crawler'])
      .where('state', 'in', ['queued', 'delivering'])
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /**
   * A webhook's jobs not yet ended (pings included), its pings created after `pingsSince` and the oldest of
   * those: what a ping's limits are checked against (webhooks/webhook-service.ts, under lockWebhookQueue).
   */
  async pingCounts(executor: Executor, webhookUuid: string, pingsSince: number) {
    return executor
      .selectFrom('jobs')
      .select((eb) => [
        eb.fn
          .sum<number>(eb.case().when('state', 'in', ['queued', 'delivering']).then(1).else(0).end())
          .as('pending'),
        eb.fn
          .sum<number>(
            eb
              .case()
              .when(eb.and([eb('resource_type', '=', 'ping'), eb('created_at', '>', pingsSince)]))
              .then(1)
              .else(0)
              .end(),
          )
          .as('recentPings'),
        eb.fn
          .min<number>(
            eb
              .case()
              .when(eb.and([eb('resource_type', '=', 'ping'), eb('created_at', '>', pingsSince)]))
              .then(eb.ref('created_at'))
              .end(),
          )
          .as('oldestPing'),
      ])
      .where('webhook_uuid', '=', webhookUuid)
      .executeTakeFirstOrThrow();
  }

  async get(jobId: string): Promise<Job | undefined> {
    return this.db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
  }

  /**
   * When the next job in one of `states` becomes due (for the worker's sleep), or undefined if none waits.
   * Deliveries of disabled webhooks are not counted: they wait for the webhook, not for time.
   */
  async nextDueAt(
    states: ReadonlyArray<'queued' | 'delivering'> = ['queued', 'delivering'],
  ): Promise<number | undefined> {
    if (states.length === 0) return undefined;
    const row = await this.db
      .selectFrom('jobs')
      // A locked job is due again when its lease runs out, an unlocked one at run_at.
      .select((eb) =>
        eb.fn
          .min<number>(
            sql`case when locked_until is not null and locked_until > run_at then locked_until else run_at end`,
          )
          .as('next'),
      )
      .where('state', 'in', states)
      .where((eb) =>
        eb.or([
          eb('state', '=', 'queued'),
          eb.and([eb('webhook_uuid', 'in', enabledWebhookUuids(this.db)), crawlerEventIsNext(eb)]),
        ]),
      )
      .executeTakeFirst();
    return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
  }
}

/** A job's project id, or undefined (the dashboard's route access checks membership with it). */
export async function projectIdOfJob(db: Kysely<Database>, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('jobs').select('project_id').where('id', '=', id).executeTakeFirst();
  return row?.project_id;
}

/** A webhook's latest jobs, newest first (the dashboard's webhook page). */
export async function jobsOfWebhook(db: Kysely<Database>, webhookUuid: string, limit = 50) {
  return db
    .selectFrom('jobs')
    .select([
      'id',
      'resource_type',
      'state',
      'log_uuid',
      'delivery_attempts',
      'payload_content_type',
      'created_at',
      'updated_at',
      'run_at',
      'last_error',
      'payload_blob',
    ])
    .where('webhook_uuid', '=', webhookUuid)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
}

/** Jobs of a webhook that ended failed since `since`: what "replay every failed delivery" re-sends. */
export async function failedJobIdsOfWebhookSince(
  db: Kysely<Database>,
  webhookUuid: string,
  since: number,
): Promise<string[]> {
  const rows = await db
    .selectFrom('jobs')
    .select('id')
    .where('webhook_uuid', '=', webhookUuid)
    .where('state', '=', 'failed')
    .where('payload_blob', 'is not', null)
    .where('updated_at', '>=', since)
    .orderBy('created_at')
    .limit(10_000)
    .execute();
  return rows.map((row) => row.id);
}

/**
 * The log uuids of jobs not yet ended (of one webhook, if given), as a subquery: their logs still wait for
 * a delivery (webhooks/registry.ts ends them when the webhook goes; retention never sweeps them).
 */
export function logUuidsOfPendingJobs(db: Kysely<Database>, webhookUuid?: string) {
  let query = db.selectFrom('jobs').select('log_uuid');
  if (webhookUuid !== undefined) query = query.where('webhook_uuid', '=', webhookUuid);
  return query
    .where('state', 'in', ['queued', 'delivering'])
    .where('log_uuid', 'is not', null)
    .$castTo<string>();
}

/** Retention: removes a project's ended jobs (done, failed) last changed before `cutoff`; never a pending one. */
export async function sweepEndedJobs(
  db: Kysely<Database>,
  projectId: string,
  cutoff: number,
): Promise<number> {
  const result = await db
    .deleteFrom('jobs')
    .where('project_id', '=', projectId)
    .where('state', 'in', ['done', 'failed'])
    .where('updated_at', '<', cutoff)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The ids of jobs still queued, as a subquery (schedules/runs.ts: a run whose job is queued is unfinished). */
export function queuedJobIds(db: Kysely<Database>) {
  return db.selectFrom('jobs').select('id').where('state', '=', 'queued').$castTo<string>();
}

/** The state of each of these jobs that still exists (the scheduler settles runs by them). */
export async function jobStatesOf(
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<Map<string, JobState>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('jobs').select(['id', 'state']).where('id', 'in', ids).execute();
  return new Map(rows.map((row) => [row.id, row.state]));
}
