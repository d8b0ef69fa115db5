// Answers of the API's JSON endpoints, as the server sends them (unknown fields are kept).

/** A webhook (`GET /webhooks/{name}`); `secret` only on create, rotate and `reveal_secret`. */
export interface Webhook {
  webhook_uuid: string;
  name: string;
  url: string;
  env: 'LIVE' | 'TEST';
  enabled: boolean;
  disable_reason: string | null;
  consecutive_failed_count: number;
  queue_limit: number;
  queued_element?: number;
  max_concurrency: number | null;
  timeout_ms: number | null;
  secret?: string;
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
  [extra: string]: unknown;
}

export interface WebhookLimits {
  /** Jobs that may wait at once (default: the plan's). */
  queue_limit?: number | null;
  /** Deliveries in flight at once. */
  max_concurrency?: number | null;
  /** Per-attempt timeout in ms (100-120,000). */
  timeout_ms?: number | null;
}

export interface CreateWebhookInput extends WebhookLimits {
  name: string;
  /** http(s) URL that receives deliveries; checked by the server's egress guard. */
  url: string;
  /** Signing secret (16+ characters); generated when left out. */
  secret?: string;
}

export interface UpdateWebhookInput extends WebhookLimits {
  name?: string;
  url?: string;
  enabled?: boolean;
}

/** One delivery attempt of a webhook job. */
export interface DeliveryAttempt {
  job_uuid: string;
  attempt: number;
  started_at: string;
  duration_ms: number;
  /** The receiver's HTTP status (null when no answer came: timeout, reset, DNS). */
  status_code: number | null;
  success: boolean;
  /** Error class of a failed attempt. */
  error: string | null;
  response_excerpt: string | null;
  [extra: string]: unknown;
}

/** `GET /webhooks/jobs/{job_uuid}`. */
export interface Job {
  job_uuid: string;
  /** queued (waiting for a capture), delivering (captured; being delivered or waiting to retry), done, failed. */
  state: 'queued' | 'delivering' | 'done' | 'failed';
  resource_type: string;
  log_uuid: string | null;
  webhook_uuid: string;
  delivery_attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  attempts: DeliveryAttempt[];
  [extra: string]: unknown;
}

/** A monitoring log: one per screenshot request (`GET /screenshot/logs/{log_uuid}`). */
export interface ScreenshotLog {
  log_uuid: string;
  status: 'success' | 'failed' | 'pending';
  env: 'LIVE' | 'TEST';
  url: string;
  /** The normalised request (format, capture, width, height, timeoutMs, …). */
  params: Record<string, unknown>;
  /** The status the API answered (0 while an asynchronous job is pending). */
  http_status: number;
  error_code: string | null;
  error_reason: string | null;
  upstream_status: number | null;
  final_url: string | null;
  cost: number;
  duration_ms: number;
  content_type: string | null;
  /** The stored image, fetched again with `?key=` (null when nothing was stored). */
  screenshot_url: string | null;
  log_url: string;
  job_uuid: string | null;
  refused_requests: number;
  created_at: string;
  [extra: string]: unknown;
}

export interface ListLogsParams {
  /** At most this many, newest first (1-1000, default 50). */
  limit?: number;
  status?: 'success' | 'failed' | 'pending';
  /** Substring of the URL; `*` is a wildcard. */
  url?: string;
  /** Host name (subdomains included). */
  domain?: string;
}

export type MonitoringPeriod = 'subscription' | 'last7d' | 'last24h' | 'last1h' | 'last5m';

export interface MonitoringMetricsParams {
  period?: MonitoringPeriod;
  /** Any of `account`, `project`, `target`. */
  aggregation?: readonly ('account' | 'project' | 'target')[];
  include_webhook?: boolean;
}

export interface MonitoringTargetParams {
  /** Host name of the captured URLs. */
  domain: string;
  group_subdomain?: boolean;
  period?: MonitoringPeriod;
  /** UTC `YYYY-MM-DD HH:MM:SS` (with `end`; wins over `period`). */
  start?: string;
  end?: string;
  include_webhook?: boolean;
}

export interface MonitoringStats {
  requests: { total: number; success: number; failed: number; pending: number };
  success_rate: number | null;
  credits: { used: number };
  duration_ms: { avg: number; p50: number; p95: number; p99: number };
  /** Count per `ERR::` code. */
  errors: Record<string, number>;
  /** Count per upstream status. */
  upstream_status: Record<string, number>;
  [extra: string]: unknown;
}

export interface MonitoringPeriodInfo {
  name: string;
  start: string;
  end: string;
}

/** `GET /screenshot/monitoring/metrics` (structured). */
export interface MonitoringMetrics {
  period: MonitoringPeriodInfo;
  project: string;
  env: 'LIVE' | 'TEST';
  aggregation: string[];
  account: MonitoringStats;
  projects?: Record<string, MonitoringStats>;
  targets?: Record<string, MonitoringStats>;
  webhook?: Record<string, unknown>;
  [extra: string]: unknown;
}

/** `GET /screenshot/monitoring/metrics/target`. */
export interface MonitoringTargetMetrics {
  domain: string;
  group_subdomain: boolean;
  period: MonitoringPeriodInfo;
  project: string;
  env: 'LIVE' | 'TEST';
  metrics: MonitoringStats;
  timeseries: unknown[];
  webhook?: Record<string, unknown>;
  [extra: string]: unknown;
}
