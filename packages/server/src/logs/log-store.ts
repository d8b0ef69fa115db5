import type { Expression, Kysely } from 'kysely';
import type { Database, ScreenshotLogsTable } from '../store/schema.js';

export type ScreenshotLog = ScreenshotLogsTable;

/** What an asynchronous job's log row knows when the job is accepted (before any capture). */
export interface PendingLog {
  logUuid: string;
  jobUuid: string;
  projectId: string;
  env: 'LIVE' | 'TEST';
  /** What the job runs (default screenshot): the log's kind. */
  kind?: 'screenshot' | 'scrape' | 'extraction';
  url: string;
  /** The normalised request as JSON, as the log page and its curl read it. */
  params: string;
  createdAt: number;
}

/**
 * Inserts the pending row of an asynchronous job (http_status 201 until the capture completes it through
 * `record` or `fail`). Takes the caller's transaction: the row and its job are committed together.
 */
export async function createPendingLog(executor: Kysely<Database>, pending: PendingLog): Promise<void> {
  await executor
    .insertInto('screenshot_logs')
    .values({
      log_uuid: pending.logUuid,
      project_id: pending.projectId,
      env: pending.env,
      url: pending.url,
      params: pending.params,
      http_status: 201,
      error_code: null,
      error_reason: null,
      upstream_status: null,
      final_url: null,
      cost: 0,
      duration_ms: 0,
      blob_key: null,
      content_type: null,
      created_at: pending.createdAt,
      job_uuid: pending.jobUuid,
      kind: pending.kind ?? 'screenshot',
    })
    .execute();
}

/** One monitoring record per /screenshot request, success or failure: the writes, and a project's reads. */
export class LogStore {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Writes a log record; an asynchronous job's pending record (same log_uuid) is completed in place.
   * `executor`: a caller's transaction (a scrape writes its closing rows in one commit).
   */
  async record(log: ScreenshotLog, executor: Kysely<Database> = this.db): Promise<void> {
    const { log_uuid: _key, ...rest } = log;
    await executor
      .insertInto('screenshot_logs')
      .values(log)
      .onConflict((oc) => oc.column('log_uuid').doUpdateSet(rest))
      .execute();
  }

  /** Completes a pending record with an error that happened before any capture. */
  async fail(
    projectId: string,
    logUuid: string,
    httpStatus: number,
    code: string,
    reason: string,
  ): Promise<void> {
    await this.db
      .updateTable('screenshot_logs')
      .set({ http_status: httpStatus, error_code: code, error_reason: reason })
      .where('log_uuid', '=', logUuid)
      .where('project_id', '=', projectId)
      .execute();
  }

  /**
   * A log of one project and environment; another project's log, or the same project's log of the other
   * environment when `env` is given (a TEST key never reads LIVE results), is simply not found.
   */
  async find(
    projectId: string,
    logUuid: string,
    env?: ScreenshotLog['env'],
  ): Promise<ScreenshotLog | undefined> {
    return this.db
      .selectFrom('screenshot_logs')
      .selectAll()
      .where('log_uuid', '=', logUuid)
      .where('project_id', '=', projectId)
      .$call((query) => (env === undefined ? query : query.where('env', '=', env)))
      .executeTakeFirst();
  }

  async recent(projectId: string, limit = 50): Promise<ScreenshotLog[]> {
    return this.db
      .selectFrom('screenshot_logs')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
  }
}

/** A log's project id from its uuid, or undefined (the dashboard's route access checks membership with it). */
export async function projectIdOfLog(db: Kysely<Database>, id: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('screenshot_logs')
    .select('project_id')
    .where('log_uuid', '=', id)
    .executeTakeFirst();
  return row?.project_id;
}

/**
 * Ends with an error the logs among `logUuids` still pending (status 201, an accepted job not delivered):
 * their delivery will never happen (webhooks/registry.ts, when a webhook is deleted).
 */
export async function failPendingLogs(
  executor: Kysely<Database>,
  logUuids: Expression<string>,
  errorCode: string,
  errorReason: string,
): Promise<void> {
  await executor
    .updateTable('screenshot_logs')
    .set({ http_status: 400, error_code: errorCode, error_reason: errorReason })
    .where('log_uuid', 'in', logUuids)
    .where('http_status', '=', 201)
    .execute();
}

/** Retention: removes a project's logs created before `cutoff`, except those in `keep` (pending jobs' logs). */
export async function sweepLogs(
  db: Kysely<Database>,
  projectId: string,
  cutoff: number,
  keep: Expression<string>,
): Promise<number> {
  const result = await db
    .deleteFrom('screenshot_logs')
    .where('project_id', '=', projectId)
    .where('created_at', '<', cutoff)
    .where('log_uuid', 'not in', keep)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The error of each of these logs that has one (the scheduler fails a run by its log's error). */
export async function logErrorsOf(
  db: Kysely<Database>,
  logUuids: readonly string[],
): Promise<Map<string, { code: string; reason: string | null }>> {
  if (logUuids.length === 0) return new Map();
  const rows = await db
    .selectFrom('screenshot_logs')
    .select(['log_uuid', 'error_code', 'error_reason'])
    .where('log_uuid', 'in', logUuids)
    .where('error_code', 'is not', null)
    .execute();
  return new Map(
    rows.map((row) => [row.log_uuid, { code: row.error_code as string, reason: row.error_reason }]),
  );
}
