import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Database } from '../store/schema.js';
import type { ScreenshotLog } from './log-store.js';

/** Which API wrote a log row (migration 0013). */
export const LOG_KINDS = ['screenshot', 'scrape', 'extraction', 'crawl'] as const;
export type LogKind = (typeof LOG_KINDS)[number];

export interface LogFilter {
  projectId?: string | undefined;
  /** Which API wrote the row: /screenshot, /scrape or /extraction. */
  kind?: LogKind | undefined;
  env?: 'LIVE' | 'TEST' | undefined;
  outcome?: 'success' | 'failure' | 'pending' | undefined;
  /** Substring of the URL; `*` is a wildcard. */
  urlPattern?: string | undefined;
  /** Host name, matched as `://domain` followed by `/`, `:` or the end, or as a subdomain. */
  domain?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

/** Where the previous page stopped: logs are ordered newest first by (created_at, log_uuid). */
export interface LogCursor {
  createdAt: number;
  logUuid: string;
}

export function encodeCursor(cursor: LogCursor): string {
  return Buffer.from(`${cursor.createdAt}.${cursor.logUuid}`).toString('base64url');
}

/** Undefined for anything that is not a cursor this module wrote (a stale or edited link starts over). */
export function decodeCursor(value: string | undefined): LogCursor | undefined {
  if (!value) return undefined;
  const match = /^(\d{1,16})\.([0-9A-Za-z-]{1,64})$/.exec(Buffer.from(value, 'base64url').toString());
  return match ? { createdAt: Number(match[1]), logUuid: match[2] ?? '' } : undefined;
}

function likeEscape(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

type LogQuery<O> = SelectQueryBuilder<Database, 'screenshot_logs', O>;

function filtered<O>(query: LogQuery<O>, filter: LogFilter): LogQuery<O> {
  let q = query;
  if (filter.projectId) q = q.where('project_id', '=', filter.projectId);
  if (filter.env) q = q.where('env', '=', filter.env);
  if (filter.kind) q = q.where('kind', '=', filter.kind);
  if (filter.outcome === 'success') q = q.where('http_status', '>=', 200).where('http_status', '<', 300);
  if (filter.outcome === 'failure') q = q.where('http_status', '>=', 300);
  if (filter.outcome === 'pending') q = q.where('http_status', '=', 0);
  if (filter.urlPattern) {
    const pattern = likeEscape(filter.urlPattern).replace(/\*/g, '%');
    q = q.where((eb) => eb('url', 'like', `%${pattern}%`));
  }
  if (filter.domain) {
    const domain = likeEscape(filter.domain.toLowerCase());
    q = q.where((eb) =>
      eb.or(
        ['/', ':', ''].flatMap((end) => [
          eb('url', 'like', `%://${domain}${end}${end ? '%' : ''}`),
          eb('url', 'like', `%.${domain}${end}${end ? '%' : ''}`),
        ]),
      ),
    );
  }
  if (filter.from !== undefined) q = q.where('created_at', '>=', filter.from);
  if (filter.to !== undefined) q = q.where('created_at', '<', filter.to);
  return q;
}

/** Reads of the monitoring log across projects (the dashboard's admin sees every project). */
export class LogQueries {
  constructor(private readonly db: Kysely<Database>) {}

  async find(logUuid: string): Promise<ScreenshotLog | undefined> {
    return this.db
      .selectFrom('screenshot_logs')
      .selectAll()
      .where('log_uuid', '=', logUuid)
      .executeTakeFirst();
  }

  /** One page of matching logs, newest first, after `cursor`; `next` is set when more follow. */
  async page(
    filter: LogFilter,
    limit: number,
    cursor?: LogCursor,
  ): Promise<{ rows: ScreenshotLog[]; next: LogCursor | undefined }> {
    let query = filtered(this.db.selectFrom('screenshot_logs').selectAll(), filter);
    if (cursor) {
      // A row-value comparison (SQLite and PostgreSQL both have it) is one range scan of the index on
      // (created_at, log_uuid); the equivalent OR of two conditions is not.
      query = query.where((eb) =>
        eb(eb.refTuple('created_at', 'log_uuid'), '<', eb.tuple(cursor.createdAt, cursor.logUuid)),
      );
    }
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('log_uuid', 'desc')
      .limit(limit + 1)
      .execute();
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return {
      rows: rows.slice(0, limit),
      next: last ? { createdAt: last.created_at, logUuid: last.log_uuid } : undefined,
    };
  }

  async count(filter: LogFilter): Promise<number> {
    const row = await filtered(
      this.db.selectFrom('screenshot_logs').select((eb) => eb.fn.countAll<string | number>().as('n')),
      filter,
    ).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Every matching log, newest first, read in pages so that an export never holds one huge result set. */
  async *all(filter: LogFilter, pageSize = 1000): AsyncGenerator<ScreenshotLog> {
    let cursor: LogCursor | undefined;
    do {
      const { rows, next } = await this.page(filter, pageSize, cursor);
      yield* rows;
      cursor = next;
    } while (cursor);
  }
}
