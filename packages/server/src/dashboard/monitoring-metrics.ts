import type { Kysely } from 'kysely';
import type { DashboardDatabase } from './db.js';

export const PERIODS = {
  last5m: 5 * 60_000,
  last1h: 3_600_000,
  last24h: 86_400_000,
  last7d: 7 * 86_400_000,
} as const;
export type PeriodName = keyof typeof PERIODS | 'subscription';

/** Rows read per window at most: aggregates over more than this are computed on the newest rows only. */
const MAX_ROWS = 200_000;

interface Row {
  url: string;
  env: string;
  http_status: number;
  error_code: string | null;
  upstream_status: number | null;
  cost: number;
  duration_ms: number;
  created_at: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

export function hostOf(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return '';
  }
}

/** The registrable-ish parent: the last two labels (good enough without a public-suffix list). */
export function parentDomain(host: string): string {
  return /^[\d.]+$/.test(host) || host.includes(':') ? host : host.split('.').slice(-2).join('.');
}

export function aggregate(rows: Row[]) {
  const finished = rows.filter((row) => row.http_status !== 0);
  const success = finished.filter((row) => row.http_status >= 200 && row.http_status < 300).length;
  const durations = finished.map((row) => row.duration_ms).sort((a, b) => a - b);
  const errors: Record<string, number> = {};
  const upstream: Record<string, number> = {};
  for (const row of rows) {
    if (row.error_code) errors[row.error_code] = (errors[row.error_code] ?? 0) + 1;
    if (row.upstream_status !== null)
      upstream[row.upstream_status] = (upstream[row.upstream_status] ?? 0) + 1;
  }
  return {
    requests: {
      total: rows.length,
      success,
      failed: finished.length - success,
      pending: rows.length - finished.length,
    },
    success_rate: finished.length ? success / finished.length : null,
    credits: { used: rows.reduce((sum, row) => sum + row.cost, 0) },
    duration_ms: {
      avg: durations.length ? Math.round(durations.reduce((a, b) => a + b, 0) / durations.length) : 0,
      p50: percentile(durations, 0.5),
      p95: percentile(durations, 0.95),
      p99: percentile(durations, 0.99),
    },
    errors,
    upstream_status: upstream,
  };
}

/** Aggregates of one project's monitoring logs for /screenshot/monitoring/metrics(/target). */
export class MonitoringMetrics {
  constructor(private readonly db: Kysely<DashboardDatabase>) {}

  async rows(projectId: string, env: string | undefined, from: number, to: number): Promise<Row[]> {
    let query = this.db
      .selectFrom('screenshot_logs')
      .select([
        'url',
        'env',
        'http_status',
        'error_code',
        'upstream_status',
        'cost',
        'duration_ms',
        'created_at',
      ])
      .where('project_id', '=', projectId)
      .where('created_at', '>=', from)
      .where('created_at', '<', to);
    if (env) query = query.where('env', '=', env as 'LIVE' | 'TEST');
    return query.orderBy('created_at', 'desc').limit(MAX_ROWS).execute();
  }

  async webhookDeliveries(projectId: string, env: string, from: number, to: number) {
    const rows = await this.db
      .selectFrom('webhook_attempts')
      .innerJoin('webhooks', 'webhooks.uuid', 'webhook_attempts.webhook_uuid')
      .select(['webhook_attempts.success', 'webhook_attempts.duration_ms'])
      .where('webhooks.project_id', '=', projectId)
      .where('webhooks.env', '=', env as 'LIVE' | 'TEST')
      .where('webhook_attempts.started_at', '>=', from)
      .where('webhook_attempts.started_at', '<', to)
      .limit(MAX_ROWS)
      .execute();
    const ok = rows.filter((row) => row.success === 1).length;
    return { attempts: rows.length, success: ok, failed: rows.length - ok };
  }

  /** Hourly (or per-minute for windows up to an hour, daily beyond two days) buckets for one target. */
  timeseries(rows: Row[], from: number, to: number) {
    const span = to - from;
    // A minute of slack: a "last1h" window ends one ms after now.
    const step = span <= 3_660_000 ? 60_000 : span <= 2 * 86_400_000 + 60_000 ? 3_600_000 : 86_400_000;
    const start = Math.floor(from / step) * step;
    const buckets = new Map<number, Row[]>();
    for (let at = start; at < to; at += step) buckets.set(at, []);
    for (const row of rows)
      buckets.get(Math.floor((row.created_at - start) / step) * step + start)?.push(row);
    return [...buckets.entries()].map(([at, bucket]) => {
      const stats = aggregate(bucket);
      return {
        at: new Date(at).toISOString(),
        requests: stats.requests.total,
        success: stats.requests.success,
        failed: stats.requests.failed,
        credits: stats.credits.used,
        duration_ms_p50: stats.duration_ms.p50,
      };
    });
  }
}
