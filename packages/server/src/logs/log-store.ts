import type { Kysely } from 'kysely';
import type { Database, ScreenshotLogsTable } from '../store/schema.js';

export type ScreenshotLog = ScreenshotLogsTable;

/** One monitoring record per /screenshot request, success or failure. */
export class LogStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Writes a log record; an asynchronous job's pending record (same log_uuid) is completed in place. */
  async record(log: ScreenshotLog): Promise<void> {
    const { log_uuid: _key, ...rest } = log;
    await this.db
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
