import type { Expression, Kysely, Transaction } from 'kysely';
import type { Dialect } from '../store/database.js';
import type { Database, ScheduleRunsTable } from '../store/schema.js';

// The schedule_runs table's one owner (docs/architecture.md, "Who owns which table"): every statement on
// it, for the scheduler's loop (scheduler.ts) and the schedules API (store.ts). What a run's job, log or
// crawl says is asked of their rooms (queue/, logs/, crawler/), given here as subqueries or read apart.

type Executor = Kysely<Database> | Transaction<Database>;
type Run = ScheduleRunsTable;

export async function insertRun(executor: Executor, run: Run): Promise<void> {
  await executor.insertInto('schedule_runs').values(run).execute();
}

/** A schedule's runs, newest first. */
export async function runsOfSchedule(
  db: Kysely<Database>,
  scheduleId: string,
  limit: number,
): Promise<Run[]> {
  return db
    .selectFrom('schedule_runs')
    .selectAll()
    .where('schedule_id', '=', scheduleId)
    .orderBy('created_at', 'desc')
    .orderBy('attempt', 'desc')
    .limit(limit)
    .execute();
}

/** Deletes runs that ended before `before`. */
export async function sweepEndedRuns(db: Kysely<Database>, before: number): Promise<void> {
  await db
    .deleteFrom('schedule_runs')
    .where('status', 'in', ['succeeded', 'failed', 'skipped'])
    .where('finished_at', '<', before)
    .execute();
}

/**
 * Whether a run of the schedule is still to fire (`due`) or is `running` with its job among `queuedJobIds`
 * or its crawl among `activeCrawlUuids` (subqueries of queue/ and crawler/).
 */
export async function hasUnfinishedRun(
  executor: Executor,
  scheduleId: string,
  queuedJobIds: Expression<string>,
  activeCrawlUuids: Expression<string>,
): Promise<boolean> {
  const row = await executor
    .selectFrom('schedule_runs as r')
    .select('r.id')
    .where('r.schedule_id', '=', scheduleId)
    .where((eb) =>
      eb.or([
        eb('r.status', '=', 'due'),
        eb.and([
          eb('r.status', '=', 'running'),
          eb.or([eb('r.job_uuid', 'in', queuedJobIds), eb('r.job_uuid', 'in', activeCrawlUuids)]),
        ]),
      ]),
    )
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Leases up to `limit` due runs to `token` until `now + leaseMs` (SKIP LOCKED on PostgreSQL). */
export async function claimDueRuns(
  db: Kysely<Database>,
  dialect: Dialect,
  token: string,
  now: number,
  leaseMs: number,
  limit: number,
): Promise<Run[]> {
  return db
    .updateTable('schedule_runs')
    .set({ locked_by: token, locked_until: now + leaseMs })
    .where('id', 'in', (eb) => {
      const due = eb
        .selectFrom('schedule_runs')
        .select('schedule_runs.id')
        .where('schedule_runs.status', '=', 'due')
        .where('schedule_runs.due_at', '<=', now)
        .where((w) =>
          w.or([w('schedule_runs.locked_until', 'is', null), w('schedule_runs.locked_until', '<', now)]),
        )
        .orderBy('schedule_runs.due_at')
        .limit(limit);
      return dialect === 'postgres' ? due.forUpdate().skipLocked() : due;
    })
    .returningAll()
    .execute();
}

/** A leased due run becomes `running` with its job (or crawl) and log; false if the lease was lost. */
export async function markRunning(
  trx: Transaction<Database>,
  runId: string,
  token: string,
  job: { jobUuid: string; logUuid: string | null },
  startedAt: number,
): Promise<boolean> {
  const result = await trx
    .updateTable('schedule_runs')
    .set({
      status: 'running',
      job_uuid: job.jobUuid,
      log_uuid: job.logUuid,
      started_at: startedAt,
      locked_by: null,
      locked_until: null,
    })
    .where('id', '=', runId)
    .where('locked_by', '=', token)
    .where('status', '=', 'due')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Ends a run still held by `token` (a due run), or still running when token is null. */
export async function endRun(
  executor: Executor,
  runId: string,
  token: string | null,
  status: 'succeeded' | 'failed' | 'skipped',
  error: { code: string; reason: string } | undefined,
  finishedAt: number,
): Promise<boolean> {
  let update = executor
    .updateTable('schedule_runs')
    .set({
      status,
      error_code: error?.code ?? null,
      error_reason: error?.reason ?? null,
      finished_at: finishedAt,
      locked_by: null,
      locked_until: null,
    })
    .where('id', '=', runId);
  update =
    token === null
      ? update.where('status', '=', 'running')
      : update.where('locked_by', '=', token).where('status', '=', 'due');
  const result = await update.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Running runs, oldest start first: what the scheduler's settle step looks at. */
export async function runningRuns(db: Kysely<Database>, limit: number): Promise<Run[]> {
  return db
    .selectFrom('schedule_runs')
    .selectAll()
    .where('status', '=', 'running')
    .orderBy('started_at')
    .limit(limit)
    .execute();
}
