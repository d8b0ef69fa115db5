import type { Kysely } from 'kysely';
import type { Database, ScreenshotLogsTable } from '../store/schema.js';

export type ScreenshotLog = ScreenshotLogsTable;

/** One monitoring record per /screenshot request, success or failure. */
export class LogStore {
  constructor(private readonly db: Kysely<Database>) {}

  async record(log: ScreenshotLog): Promise<void> {
    await this.db.insertInto('screenshot_logs').values(log).execute();
  }

  /** A log of one project; another project's log is simply not found. */
  async find(projectId: string, logUuid: string): Promise<ScreenshotLog | undefined> {
    return this.db
      .selectFrom('screenshot_logs')
      .selectAll()
      .where('log_uuid', '=', logUuid)
      .where('project_id', '=', projectId)
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
