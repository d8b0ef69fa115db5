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

// ---- schedules (docs/compat.md §6) ----------------------------------------------------------------------

export type ScheduleStatus = 'ACTIVE' | 'PAUSED' | 'COMPLETED' | 'CANCELLED';

/** When a schedule fires: `cron` wins; otherwise `interval` + `unit`. */
export interface ScheduleRecurrence {
  /** Cron expression (5 or 6 fields). */
  cron?: string;
  /** IANA time zone of `cron` (default UTC). */
  timezone?: string;
  interval?: number;
  unit?: 'minute' | 'hour' | 'day' | 'week' | 'month';
  /** Weekdays it may fire on (`monday` … `sunday` or `mon` … `sun`). */
  days?: string[];
  /** `{type: 'date', date}`: no run after it; `{type: 'count', count}`: then COMPLETED. */
  ends?: { type: 'date'; date: string } | { type: 'count'; count: number };
}

/** Settings shared by `createSchedule` and `updateSchedule`. */
export interface ScheduleSettings {
  recurrence?: ScheduleRecurrence;
  /** ISO 8601: the first run (alone, the only run). */
  scheduled_date?: string;
  /** Fire even while the previous run is still capturing (default false: that instant is skipped). */
  allow_concurrency?: boolean;
  /** Retry a failed run up to `max_retries` times (0-10). */
  retry_on_failure?: boolean;
  max_retries?: number;
  notes?: string;
}

export interface CreateScheduleInput extends ScheduleSettings {
  /** The `/screenshot` parameters of each run (`url` required; no `key`, no `webhook_name`). */
  screenshot_config: Record<string, unknown> & { url: string };
  /** Webhook of this project and environment that receives each run. */
  webhook_name: string;
}

/** Only the fields given change. */
export interface UpdateScheduleInput extends ScheduleSettings {
  screenshot_config?: Record<string, unknown> & { url: string };
  webhook_name?: string;
}

export interface ListSchedulesParams {
  status?: ScheduleStatus;
  /** `screenshot`, `scrape` or `crawler` (the kinds Snapwire runs; the Python SDK's `api.screenshot`, `api.scrape`,
   * `api.crawler` too). */
  kind?: string;
}

/** A schedule (`GET /schedules/{id}`). */
export interface Schedule {
  id: string;
  /** A scrape schedule (Scrapfly's SDK's createScrapeSchedule) has `scrape_config` instead, a crawl
   * schedule (`POST /crawl/schedules`) `crawler_config`. */
  kind: 'screenshot' | 'scrape' | 'crawler';
  status: ScheduleStatus;
  next_scheduled_date: string | null;
  scheduled_date: string | null;
  /** Left out for a one-time schedule (`scheduled_date` alone). */
  recurrence?: ScheduleRecurrence;
  metadata: {
    screenshot_config?: Record<string, unknown>;
    scrape_config?: Record<string, unknown>;
    crawler_config?: Record<string, unknown>;
    webhook_name: string;
    env: 'LIVE' | 'TEST';
    fired_count: number;
    last_run_at: string | null;
    [extra: string]: unknown;
  };
  screenshot_config?: Record<string, unknown>;
  scrape_config?: Record<string, unknown>;
  crawler_config?: Record<string, unknown>;
  webhook_name: string;
  notes: string | null;
  created_at: string;
  updated_at: string;
  cancelled_at: string | null;
  allow_concurrency: boolean;
  retry_on_failure: boolean;
  max_retries: number;
  webhook_uuid: string;
  consecutive_failures: number;
  [extra: string]: unknown;
}

/** One run of a schedule (`GET /schedules/{id}/runs`). */
export interface ScheduleRun {
  id: string;
  schedule_id: string;
  trigger: 'schedule' | 'manual' | 'retry';
  attempt: number;
  retry_of: string | null;
  status: 'due' | 'running' | 'succeeded' | 'failed' | 'skipped';
  due_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  job_uuid: string | null;
  log_uuid: string | null;
  log_url: string | null;
  error: { code: string; reason: string | null } | null;
  [extra: string]: unknown;
}

/** `POST /schedules/{id}/execute`: the schedule and the run it queued. */
export interface ExecutedSchedule extends Schedule {
  run: ScheduleRun;
}

// ---- monitors (docs/monitors.md) --------------------------------------------------------------------------

export interface MonitorRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** `GET /screenshot/compare`: two screenshot logs of the key's project compared (README, "Visual change"). */
export interface ScreenshotComparison {
  changed: boolean;
  /** Changed pixels / compared pixels, 0..1. */
  score: number;
  changed_pixels: number;
  width: number;
  height: number;
  height_change: number;
  regions: MonitorRect[];
  /** The diff image (changed pixels over the dimmed head image): comparisonDiff() fetches it. */
  diff_url: string;
}

/** Settings of `createMonitor` and `updateMonitor` (docs/monitors.md). */
export interface MonitorSettings {
  /** Other `/screenshot` parameters of each capture (png unless `format` is given). */
  screenshot_config?: Record<string, unknown>;
  recurrence?: Omit<ScheduleRecurrence, 'ends'>;
  /** Share of the pixels that must change, 0 to 1 (default 0.001). */
  change_threshold?: number;
  ignore?: MonitorRect[];
  hide_selectors?: string[];
  compare_text?: boolean;
  /** Runs in a row that must see a change (1 to 10, default 1). */
  confirm_runs?: number;
  require_approval?: boolean;
  notify_unchanged?: boolean;
  webhook_name?: string | null;
}

export interface CreateMonitorInput extends MonitorSettings {
  url: string;
}

export interface UpdateMonitorInput extends MonitorSettings {
  url?: string;
}

/** A monitor (`GET /monitors/{id}`). */
export interface Monitor {
  id: string;
  status: 'ACTIVE' | 'PAUSED';
  url: string;
  env: 'LIVE' | 'TEST';
  screenshot_config: Record<string, string>;
  hide_selectors: string[];
  recurrence: ScheduleRecurrence | null;
  next_run_at: string | null;
  change_threshold: number;
  ignore: MonitorRect[];
  compare_text: boolean;
  confirm_runs: number;
  require_approval: boolean;
  notify_unchanged: boolean;
  webhook_name: string | null;
  baseline_run_id: string | null;
  pending_run_id: string | null;
  unconfirmed_changes: number;
  created_at: string;
  updated_at: string;
  [extra: string]: unknown;
}

/** One run of a monitor (`GET /monitors/{id}/runs`). */
export interface MonitorRun {
  id: string;
  monitor_id: string;
  trigger: 'schedule' | 'manual';
  status: 'due' | 'running' | 'compared' | 'baseline' | 'failed';
  changed: boolean | null;
  score: number | null;
  changed_pixels: number | null;
  height_change: number | null;
  regions: MonitorRect[];
  text_diff: { changed: boolean; added: string[]; removed: string[]; changedWords: number } | null;
  became_baseline: boolean;
  approval: 'pending' | 'approved' | 'rejected' | null;
  note: string | null;
  event_job_id: string | null;
  log_uuid: string | null;
  cost: number;
  images: { before: string | null; after: string | null; diff: string | null };
  error: { code: string; reason: string | null } | null;
  due_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  [extra: string]: unknown;
}
