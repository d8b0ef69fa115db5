import type { Kysely } from 'kysely';
import type { DashboardDatabase } from './db.js';

export interface LogFilter {
  projectId?: string | undefined;
  env?: 'LIVE' | 'TEST' | undefined;
  outcome?: 'success' | 'failure' | 'pending' | undefined;
  /** Substring of the URL; `*` is a wildcard. */
  urlPattern?: string | undefined;
  /** Host name, matched as `://domain` followed by `/`, `:` or the end, or as a subdomain. */
  domain?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  limit?: number;
}

function likeEscape(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Reads behind the dashboard: across projects (the admin sees every project), never through the API. */
export class DashboardQueries {
  constructor(private readonly db: Kysely<DashboardDatabase>) {}

  async findLog(logUuid: string) {
    return this.db
      .selectFrom('screenshot_logs')
      .selectAll()
      .where('log_uuid', '=', logUuid)
      .executeTakeFirst();
  }

  async logs(filter: LogFilter) {
    let query = this.db.selectFrom('screenshot_logs').selectAll();
    if (filter.projectId) query = query.where('project_id', '=', filter.projectId);
    if (filter.env) query = query.where('env', '=', filter.env);
    if (filter.outcome === 'success')
      query = query.where('http_status', '>=', 200).where('http_status', '<', 300);
    if (filter.outcome === 'failure') query = query.where('http_status', '>=', 300);
    if (filter.outcome === 'pending') query = query.where('http_status', '=', 0);
    if (filter.urlPattern) {
      const pattern = likeEscape(filter.urlPattern).replace(/\*/g, '%');
      query = query.where((eb) => eb('url', 'like', `%${pattern}%`));
    }
    if (filter.domain) {
      const domain = likeEscape(filter.domain.toLowerCase());
      query = query.where((eb) =>
        eb.or(
          ['/', ':', ''].flatMap((end) => [
            eb('url', 'like', `%://${domain}${end}${end ? '%' : ''}`),
            eb('url', 'like', `%.${domain}${end}${end ? '%' : ''}`),
          ]),
        ),
      );
    }
    if (filter.from !== undefined) query = query.where('created_at', '>=', filter.from);
    if (filter.to !== undefined) query = query.where('created_at', '<', filter.to);
    return query
      .orderBy('created_at', 'desc')
      .orderBy('log_uuid', 'desc')
      .limit(filter.limit ?? 100)
      .execute();
  }

  /** Per-bucket counts for the overview charts. Aggregated in JS: the window is bounded and small. */
  async series(projectId: string | undefined, from: number, to: number, buckets: number) {
    let query = this.db
      .selectFrom('screenshot_logs')
      .select(['created_at', 'http_status', 'duration_ms', 'cost'])
      .where('created_at', '>=', from)
      .where('created_at', '<', to);
    if (projectId) query = query.where('project_id', '=', projectId);
    const rows = await query.limit(200_000).execute();
    const size = (to - from) / buckets;
    const out = Array.from({ length: buckets }, (_, index) => ({
      at: from + index * size,
      requests: 0,
      successes: 0,
      failures: 0,
      credits: 0,
      durations: [] as number[],
    }));
    for (const row of rows) {
      const bucket = out[Math.min(buckets - 1, Math.floor((row.created_at - from) / size))];
      if (!bucket) continue;
      bucket.requests += 1;
      if (row.http_status >= 200 && row.http_status < 300) bucket.successes += 1;
      else if (row.http_status !== 0) bucket.failures += 1;
      bucket.credits += row.cost;
      if (row.http_status !== 0) bucket.durations.push(row.duration_ms);
    }
    return out.map(({ durations, ...bucket }) => {
      durations.sort((a, b) => a - b);
      return {
        ...bucket,
        p50: durations.length ? (durations[Math.floor(durations.length / 2)] ?? 0) : 0,
        p95: durations.length
          ? (durations[Math.min(durations.length - 1, Math.floor(durations.length * 0.95))] ?? 0)
          : 0,
      };
    });
  }

  async events(projectId: string, limit = 20) {
    return this.db
      .selectFrom('project_events')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
  }

  async jobsOfWebhook(webhookUuid: string, limit = 50) {
    return this.db
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
        'last_error',
        'payload_blob',
      ])
      .where('webhook_uuid', '=', webhookUuid)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
  }

  async webhookStats(webhookUuid: string) {
    const rows = await this.db
      .selectFrom('webhook_attempts')
      .select(['success'])
      .where('webhook_uuid', '=', webhookUuid)
      .orderBy('started_at', 'desc')
      .limit(500)
      .execute();
    const ok = rows.filter((row) => row.success === 1).length;
    return { attempts: rows.length, successRate: rows.length ? ok / rows.length : undefined };
  }

  /** Expired logs (per project retention) are deleted; their blobs are swept by the results janitor. */
  async sweepLogs(projectId: string, before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('screenshot_logs')
      .where('project_id', '=', projectId)
      .where('created_at', '<', before)
      .where('log_uuid', 'not in', (eb) =>
        eb
          .selectFrom('jobs')
          .select('log_uuid')
          .where('state', 'in', ['queued', 'delivering'])
          .where('log_uuid', 'is not', null)
          .$castTo<string>(),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
