import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { webhookDeliveryCounts } from '../webhooks/attempt-history.js';
import type { LogKind } from './log-queries.js';

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

/**
 * Aggregates of the monitoring log: one project's for /screenshot/monitoring/metrics(/target), and the
 * dashboard's overview (one project or all).
 */
export class MonitoringMetrics {
  constructor(private readonly db: Kysely<Database>) {}

  overview(projectId: string | undefined, from: number, to: number, stepMs: number): Promise<Overview> {
    return overviewOf(this.db, projectId, from, to, stepMs);
  }

  async rows(
    projectId: string,
    env: string | undefined,
    from: number,
    to: number,
    kind?: LogKind,
  ): Promise<Row[]> {
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
    if (kind) query = query.where('kind', '=', kind);
    return query.orderBy('created_at', 'desc').limit(MAX_ROWS).execute();
  }

  async webhookDeliveries(projectId: string, env: string, from: number, to: number) {
    return webhookDeliveryCounts(this.db, projectId, env, from, to, MAX_ROWS);
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

/** One bucket of the dashboard's overview; latency is null where nothing finished (drawn as a gap). */
export interface OverviewBucket {
  at: number;
  requests: number;
  successes: number;
  failures: number;
  credits: number;
  p50: number | null;
  p95: number | null;
}

export interface Overview {
  buckets: OverviewBucket[];
  topErrors: Array<{ code: string; count: number }>;
  topDomains: Array<{ domain: string; requests: number; failures: number }>;
}

function top<T>(entries: Map<string, T>, by: (value: T) => number, n: number): Array<[string, T]> {
  return [...entries.entries()].sort((a, b) => by(b[1]) - by(a[1]) || a[0].localeCompare(b[0])).slice(0, n);
}

/** The overview the dashboard draws: buckets of `stepMs` over [from, to), top errors and top domains. */
export async function overviewOf(
  db: Kysely<Database>,
  projectId: string | undefined,
  from: number,
  to: number,
  stepMs: number,
): Promise<Overview> {
  let query = db
    .selectFrom('screenshot_logs')
    .select(['url', 'http_status', 'error_code', 'duration_ms', 'cost', 'created_at'])
    .where('created_at', '>=', from)
    .where('created_at', '<', to);
  if (projectId) query = query.where('project_id', '=', projectId);
  const rows = await query.orderBy('created_at', 'desc').limit(MAX_ROWS).execute();
  const count = Math.max(1, Math.ceil((to - from) / stepMs));
  const buckets = Array.from({ length: count }, (_, index) => ({
    at: from + index * stepMs,
    requests: 0,
    successes: 0,
    failures: 0,
    credits: 0,
    durations: [] as number[],
  }));
  const errors = new Map<string, number>();
  const domains = new Map<string, { requests: number; failures: number }>();
  for (const row of rows) {
    const bucket = buckets[Math.min(count - 1, Math.floor((row.created_at - from) / stepMs))];
    if (!bucket) continue;
    const finished = row.http_status !== 0;
    const success = row.http_status >= 200 && row.http_status < 300;
    bucket.requests += 1;
    bucket.credits += row.cost;
    if (success) bucket.successes += 1;
    else if (finished) bucket.failures += 1;
    if (finished) bucket.durations.push(row.duration_ms);
    if (row.error_code) errors.set(row.error_code, (errors.get(row.error_code) ?? 0) + 1);
    const host = hostOf(row.url) || '(unparsable URL)';
    const domain = domains.get(host) ?? { requests: 0, failures: 0 };
    domain.requests += 1;
    if (finished && !success) domain.failures += 1;
    domains.set(host, domain);
  }
  return {
    buckets: buckets.map(({ durations, ...bucket }) => {
      durations.sort((a, b) => a - b);
      return {
        ...bucket,
        p50: durations.length ? percentile(durations, 0.5) : null,
        p95: durations.length ? percentile(durations, 0.95) : null,
      };
    }),
    topErrors: top(errors, (n) => n, 5).map(([code, n]) => ({ code, count: n })),
    topDomains: top(domains, (d) => d.requests, 5).map(([domain, d]) => ({ domain, ...d })),
  };
}
