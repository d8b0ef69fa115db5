import type { Generated } from 'kysely';

/** Table types shared by both dialects. Times are epoch milliseconds (BIGINT on PostgreSQL, parsed as number). */
export interface ProjectsTable {
  id: string;
  name: string;
  plan: string;
  /** JSON object of per-project limit overrides (see accounts/plans.ts). Stored as text on both dialects. */
  limit_overrides: string;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  project_id: string;
  env: 'LIVE' | 'TEST';
  /** SHA-256 of the key; the key itself is never stored. */
  key_hash: string;
  /** The last four characters, to tell keys apart in listings. */
  key_hint: string;
  created_at: number;
}

export interface CreditUsageTable {
  project_id: string;
  /** Calendar month, UTC, as YYYY-MM. */
  period: string;
  credits_used: number;
}

export interface ScreenshotLogsTable {
  log_uuid: string;
  project_id: string;
  env: 'LIVE' | 'TEST';
  url: string;
  params: string;
  http_status: number;
  error_code: string | null;
  error_reason: string | null;
  upstream_status: number | null;
  final_url: string | null;
  cost: number;
  duration_ms: number;
  blob_key: string | null;
  content_type: string | null;
  created_at: number;
  /** Set for asynchronous captures: the job that delivers this log's result. */
  job_uuid?: string | null;
  /** Timings by phase (migration 0004); null where a phase did not run or was not measured. */
  queue_wait_ms?: number | null;
  navigation_ms?: number | null;
  wait_ms?: number | null;
  capture_ms?: number | null;
  encode_ms?: number | null;
  /** Requests of the page the egress guard refused, and their hosts as a JSON list (migration 0005). */
  refused_requests?: number | null;
  refused_hosts?: string | null;
  /** The node that ran the capture (migration 0008). */
  node_id?: string | null;
  /**
   * Which API wrote the row (migration 0013): a /screenshot capture (the default), a /scrape, an
   * /extraction, or one page of a crawl (crawler/crawl-worker.ts).
   */
  kind?: 'screenshot' | 'scrape' | 'extraction' | 'crawl';
}

/** A leased concurrency slot (migration 0008): accounts/concurrency-leases.ts. */
export interface ConcurrencyLeasesTable {
  scope: string;
  slot: number;
  holder: string;
  expires_at: number;
}

/** A lease on work that runs once per fleet (migration 0008): store/fleet-lock.ts. */
export interface FleetLocksTable {
  name: string;
  holder: string;
  expires_at: number;
}

export interface WebhooksTable {
  uuid: string;
  project_id: string;
  env: 'LIVE' | 'TEST';
  name: string;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  enabled: number;
  disable_reason: string | null;
  consecutive_failed_count: number;
  queue_limit: number | null;
  max_concurrency: number | null;
  timeout_ms: number | null;
  created_at: number;
  updated_at: number;
}

export type JobState = 'queued' | 'delivering' | 'done' | 'failed';

export interface JobsTable {
  id: string;
  project_id: string;
  env: 'LIVE' | 'TEST';
  webhook_uuid: string;
  /** `crawler`: one event of a crawl (crawler/crawl-events.ts), delivered in order per webhook. */
  resource_type: 'screenshot' | 'scrape' | 'extraction' | 'ping' | 'crawler' | 'monitor';
  log_uuid: string | null;
  /** The normalised request as JSON (for ping: the ping body). */
  request: string;
  state: JobState;
  run_at: number;
  delivery_attempts: number;
  capture_attempts: number;
  locked_by: string | null;
  locked_until: number | null;
  /** The exact bytes to deliver (image or error JSON), kept in the blob store; signed as stored. */
  payload_blob: string | null;
  payload_content_type: string | null;
  payload_headers: string | null;
  /** Set by a replay (migration 0006): the id receivers dedup on; null means the job id. */
  delivery_id: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookAttemptsTable {
  id: string;
  job_id: string;
  webhook_uuid: string;
  attempt: number;
  started_at: number;
  duration_ms: number;
  status_code: number | null;
  success: number;
  error: string | null;
  response_excerpt: string | null;
}

export interface ProjectEventsTable {
  id: string;
  project_id: string;
  kind: string;
  message: string;
  created_at: number;
}

/** The cache index (migration 0003): one entry per project, environment and normalised request. */
export interface ScreenshotCacheTable {
  project_id: string;
  env: string;
  cache_key: string;
  blob_key: string;
  content_type: string;
  upstream_status: number;
  final_url: string;
  created_at: number;
}

/** session=NAME of scrapes (migration 0015): a cookie jar per project, environment and name. */
export interface ScrapeSessionsTable {
  project_id: string;
  env: string;
  name: string;
  /** JSON list of scrape/cookie-jar.ts StoredCookie. */
  cookies: string;
  /** JSON object origin -> {key: value}: the pages' localStorage (migration 0021); null before a browser ran. */
  local_storage: string | null;
  created_at: number;
  used_at: number;
}

/** The dashboard's admin account (migration 0004). */
export interface DashboardUsersTable {
  username: string;
  /** `scrypt$N$r$p$salt$hash` (base64url parts). */
  password_hash: string;
  created_at: number;
  /** The email as typed (migration 0023); null for the first start's `admin`. */
  email?: string | null;
  name?: string | null;
  /** Workspace role (migration 0023; team/roles.ts): owner, admin, developer or viewer. */
  role?: string;
}

/** Which projects a developer or viewer belongs to (migration 0023). */
export interface DashboardMembershipsTable {
  username: string;
  project_id: string;
}

/** One-time invitation and password-reset links (migration 0023): team/team-store.ts. */
export interface DashboardLinksTable {
  id: string;
  /** SHA-256 of the link's token; the token itself is only in the link. */
  token_hash: string;
  kind: 'invite' | 'reset';
  /** Lower-case email the link was made for. */
  email: string;
  /** The user a reset link is for; null for invitations. */
  username: string | null;
  role: string | null;
  /** JSON list of project ids an invitation grants. */
  project_ids: string;
  created_by: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  revoked_at: number | null;
}

/** Dashboard sessions (migration 0004). */
export interface DashboardSessionsTable {
  /** SHA-256 of the session id; the id itself lives only in the browser's cookie. */
  id_hash: string;
  username: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
  /** Migration 0024: the last request seen (written at most once a minute), its address and browser. */
  last_seen_at: number | null;
  source_address: string | null;
  user_agent: string | null;
}

/** Audit log (migration 0024; audit/audit-log.ts). */
export interface AuditLogTable {
  /** Time-ordered (UUID v7), so that it also orders rows made in one millisecond. */
  id: string;
  created_at: number;
  /** The dashboard user's username, or `key:PROJECT/ENV` for an API key. */
  actor: string;
  action: string;
  project_id: string | null;
  target: string | null;
  source_address: string;
  /** JSON object, or null. */
  detail: string | null;
}

/** TOTP two-factor of a dashboard user (migration 0024): enabled_at null while not yet confirmed. */
export interface DashboardTwoFactorTable {
  username: string;
  /** Base32; kept as is because a TOTP check needs it (the database is the secret's boundary). */
  secret: string;
  created_at: number;
  enabled_at: number | null;
  /** The last 30-second step a code was accepted for: a code is never accepted twice. */
  last_step: number | null;
}

export interface DashboardRecoveryCodesTable {
  username: string;
  /** SHA-256 of the code (the codes are random, 50 bits and more). */
  code_hash: string;
  used_at: number | null;
}

/** A right password waiting for its second factor (migration 0024). */
export interface DashboardSignInChallengesTable {
  id_hash: string;
  username: string;
  created_at: number;
  expires_at: number;
}

/** Sign-in attempts per client address in the current throttle window (0006): counted atomically in the
 * store, so the throttle holds under parallel attempts and across the nodes of a fleet. */
export interface DashboardLoginAttemptsTable {
  client: string;
  window_started_at: number;
  attempts: number;
}

/** Schedule statuses and run states (migration 0007): schedules/. */
export type ScheduleStatus = 'ACTIVE' | 'PAUSED' | 'CANCELLED' | 'COMPLETED';
export type RunStatus = 'due' | 'running' | 'succeeded' | 'failed' | 'skipped';
export type RunTrigger = 'schedule' | 'manual' | 'retry';

/** What a schedule's runs are: asynchronous screenshots, asynchronous scrapes or crawls. */
export type ScheduleKind = 'screenshot' | 'scrape' | 'crawler';

/** A recurring or one-off capture or scrape (migration 0007): schedules/store.ts. */
export interface SchedulesTable {
  id: string;
  project_id: string;
  env: 'LIVE' | 'TEST';
  kind: ScheduleKind;
  status: ScheduleStatus;
  webhook_name: string;
  webhook_uuid: string | null;
  config: string;
  recurrence: string | null;
  scheduled_date: number | null;
  next_run_at: number | null;
  allow_concurrency: number;
  retry_on_failure: number;
  max_retries: number;
  notes: string | null;
  fired_count: number;
  consecutive_failures: number;
  last_run_at: number | null;
  locked_by: string | null;
  locked_until: number | null;
  created_at: number;
  updated_at: number;
  cancelled_at: number | null;
}

/** One firing of a schedule (migration 0007): schedules/scheduler.ts. */
export interface ScheduleRunsTable {
  id: string;
  schedule_id: string;
  project_id: string;
  trigger: RunTrigger;
  attempt: number;
  retry_of: string | null;
  status: RunStatus;
  due_at: number;
  job_uuid: string | null;
  log_uuid: string | null;
  error_code: string | null;
  error_reason: string | null;
  locked_by: string | null;
  locked_until: number | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/** A monitor's state (migration 0022): monitors/store.ts. */
export type MonitorStatus = 'ACTIVE' | 'PAUSED';
export type MonitorRunStatus = 'due' | 'running' | 'compared' | 'baseline' | 'failed';
export type MonitorApproval = 'pending' | 'approved' | 'rejected';

/** A visual change monitor (migration 0022): monitors/store.ts. */
export interface MonitorsTable {
  id: string;
  project_id: string;
  env: 'LIVE' | 'TEST';
  status: MonitorStatus;
  url: string;
  /** The /screenshot parameters of each capture, JSON. */
  config: string;
  recurrence: string | null;
  next_run_at: number | null;
  change_threshold: number;
  /** PixelRect[] as JSON. */
  ignore_regions: string;
  compare_text: number;
  confirm_runs: number;
  require_approval: number;
  notify_unchanged: number;
  webhook_name: string | null;
  baseline_run_id: string | null;
  baseline_blob: string | null;
  baseline_text_blob: string | null;
  unconfirmed_changes: number;
  pending_run_id: string | null;
  created_at: number;
  updated_at: number;
}

/** One capture of a monitor and its comparison (migration 0022): monitors/runner.ts. */
export interface MonitorRunsTable {
  id: string;
  monitor_id: string;
  project_id: string;
  trigger: 'schedule' | 'manual';
  status: MonitorRunStatus;
  due_at: number;
  locked_by: string | null;
  locked_until: number | null;
  log_uuid: string | null;
  cost: number;
  changed: number | null;
  score: number | null;
  changed_pixels: number | null;
  height_change: number | null;
  regions: string | null;
  text_diff: string | null;
  before_blob: string | null;
  after_blob: string | null;
  after_text_blob: string | null;
  diff_blob: string | null;
  became_baseline: number;
  note: string | null;
  approval: MonitorApproval | null;
  event_job_id: string | null;
  error_code: string | null;
  error_reason: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/** A saved extraction template (migration 0016): extraction/template-store.ts. */
export interface ExtractionTemplatesTable {
  id: string;
  project_id: string;
  env: 'LIVE' | 'TEST';
  name: string;
  /** The template's JSON text. */
  template: string;
  created_at: number;
  updated_at: number;
}

export type CrawlStatus = 'PENDING' | 'RUNNING' | 'DONE' | 'CANCELLED';
export type CrawlUrlStatus = 'pending' | 'visited' | 'failed' | 'skipped';

export interface CrawlsTable {
  uuid: string;
  project_id: string;
  env: 'LIVE' | 'TEST';
  seed_url: string;
  /** The parsed request (request/crawl-request.ts) as JSON. */
  config: string;
  status: CrawlStatus;
  /** 1 or 0 once finished; null while running. */
  is_success: number | null;
  stop_reason: string | null;
  api_credit_used: number;
  next_fetch_at: number;
  robots_txt: string | null;
  created_at: number;
  start_time: number | null;
  stop_time: number | null;
}

export interface CrawlUrlsTable {
  crawl_uuid: string;
  /** Normalised (crawler/url-rules.ts). */
  url: string;
  seq: number;
  depth: number;
  status: CrawlUrlStatus;
  reason: string | null;
  locked_by: string | null;
  locked_until: number | null;
  attempts: number;
  http_status: number | null;
  contents_blob: string | null;
  warc_blob: string | null;
  har_blob: string | null;
  discovered_at: number;
  visited_at: number | null;
  /** Migration 0026: the page's monitoring log row (kind `crawl`), when one was written. */
  log_uuid: string | null;
}

export interface Database {
  projects: ProjectsTable;
  api_keys: ApiKeysTable;
  credit_usage: CreditUsageTable;
  screenshot_logs: ScreenshotLogsTable;
  concurrency_leases: ConcurrencyLeasesTable;
  fleet_locks: FleetLocksTable;
  webhooks: WebhooksTable;
  jobs: JobsTable;
  webhook_attempts: WebhookAttemptsTable;
  project_events: ProjectEventsTable;
  screenshot_cache: ScreenshotCacheTable;
  scrape_sessions: ScrapeSessionsTable;
  dashboard_users: DashboardUsersTable;
  dashboard_sessions: DashboardSessionsTable;
  dashboard_login_attempts: DashboardLoginAttemptsTable;
  audit_log: AuditLogTable;
  dashboard_two_factor: DashboardTwoFactorTable;
  dashboard_recovery_codes: DashboardRecoveryCodesTable;
  dashboard_sign_in_challenges: DashboardSignInChallengesTable;
  dashboard_memberships: DashboardMembershipsTable;
  dashboard_links: DashboardLinksTable;
  schedules: SchedulesTable;
  schedule_runs: ScheduleRunsTable;
  monitors: MonitorsTable;
  monitor_runs: MonitorRunsTable;
  extraction_templates: ExtractionTemplatesTable;
  crawls: CrawlsTable;
  crawl_urls: CrawlUrlsTable;
}

export type { Generated };
