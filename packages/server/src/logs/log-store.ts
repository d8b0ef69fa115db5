import type { Kysely } from 'kysely';
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
