// Over 400 lines as one coherent thing: every environment variable's schema and its typed setting, in the
// README's table's order; one schema validates them all at once, so a start names every bad value together.
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_PLAN, PLAN_NAMES, type PlanName } from '../accounts/plans.js';
import { parseNetworkList } from '../egress/networks.js';
import { parseDuration, parseDurationList } from './durations.js';
import { parseCountryProxies } from '../engine/country.js';

/**
 * Every knob of the service, read once from the environment at start and validated here. Each one is
 * documented in the README's configuration table; a bad value stops the start with a message naming it.
 */
const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const networkList = z.string().transform((value, ctx) => {
  try {
    return parseNetworkList(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const duration = z.string().transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const durationList = z.string().transform((value, ctx) => {
  try {
    return parseDurationList(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const environmentSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  SNAPWIRE_DATA_DIR: z.string().default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL (leave unset for the embedded SQLite store)')
    .optional(),
  SNAPWIRE_PUBLIC_URL: z.url().optional(),
  SNAPWIRE_BOOTSTRAP_LIVE_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  SNAPWIRE_BOOTSTRAP_TEST_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  SNAPWIRE_ALLOWED_NETWORKS: networkList.default([]),
  SNAPWIRE_DENIED_NETWORKS: networkList.default([]),
  SNAPWIRE_DEFAULT_PLAN: z
    .string()
    .transform((value) => value.toUpperCase())
    .pipe(z.enum(PLAN_NAMES))
    .default(DEFAULT_PLAN),
  SNAPWIRE_CHROMIUM_PATH: z.string().default('chromium'),
  SNAPWIRE_BROWSER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  SNAPWIRE_BROWSER_QUEUE: z.coerce.number().int().min(0).max(10_000).default(16),
  SNAPWIRE_BROWSER_QUEUE_WAIT: duration.default(10_000),
  SNAPWIRE_MAX_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(120_000),
  // /scrape: the largest body sent to or received from a target, and the redirects followed.
  SNAPWIRE_SCRAPE_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(10 * 1024 * 1024),
  SNAPWIRE_SCRAPE_MAX_REDIRECTS: z.coerce.number().int().min(0).max(50).default(10),
  // /scrape: a content larger than this is answered by URL (result.format clob/blob), not inline.
  SNAPWIRE_SCRAPE_INLINE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(5 * 1024 * 1024),
  SNAPWIRE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Unset: pretty at a terminal, JSON lines otherwise (files, log collectors).
  SNAPWIRE_LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  SNAPWIRE_TRUST_PROXY: booleanString.default(false),
  // The API port against slow and idle clients (README "Configuration"): a request's headers, then the
  // whole request, must arrive within these; the response may take as long as the capture does.
  SNAPWIRE_HTTP_HEADERS_TIMEOUT: duration.pipe(z.number().min(100).max(600_000)).default(20_000),
  SNAPWIRE_HTTP_REQUEST_TIMEOUT: duration.pipe(z.number().min(100).max(3_600_000)).default(60_000),
  SNAPWIRE_HTTP_KEEPALIVE_TIMEOUT: duration.pipe(z.number().min(100).max(3_600_000)).default(72_000),
  // Unset: SNAPWIRE_MAX_TIMEOUT_MS plus one minute (a synchronous screenshot sends nothing while it renders).
  SNAPWIRE_HTTP_IDLE_TIMEOUT: duration.pipe(z.number().min(1_000).max(3_600_000)).optional(),
  SNAPWIRE_HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(512),
  SNAPWIRE_WEBHOOK_RETRY_SCHEDULE: durationList.default([
    30_000, 60_000, 300_000, 1_800_000, 3_600_000, 86_400_000,
  ]),
  SNAPWIRE_WEBHOOK_TIMEOUT: duration.default(10_000),
  SNAPWIRE_WEBHOOK_DISABLE_AFTER: z.coerce.number().int().min(1).default(100),
  SNAPWIRE_WEBHOOK_SECRET_GRACE: duration.default(86_400_000),
  SNAPWIRE_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(16),
  SNAPWIRE_OPERATOR_NOTIFY_URL: z.url().optional(),
  SNAPWIRE_QUEUE_POLL: duration.default(1_000),
  // An accepted job held by a process that died runs again after this (renewed four times a lease meanwhile).
  SNAPWIRE_JOB_LEASE: duration.pipe(z.number().min(2_000)).default(20_000),
  // A crawl URL claimed by a node that died is taken over after this (docs/compat.md §9).
  SNAPWIRE_CRAWL_LEASE: duration.pipe(z.number().min(1_000)).default(90_000),
  SNAPWIRE_SCHEDULER_POLL: duration.default(1_000),
  SNAPWIRE_MAX_SCHEDULES: z.coerce.number().int().min(0).max(100_000).default(100),
  SNAPWIRE_MIN_SCHEDULE_INTERVAL: duration
    .pipe(
      z
        .number()
        .min(1_000, 'must be at least 1s')
        .max(7 * 86_400_000, 'must be at most 7d'),
    )
    .default(60_000),
  // Engine settings (docs/engine.md).
  SNAPWIRE_BROWSERS: z.coerce.number().int().min(1).max(32).default(1),
  SNAPWIRE_BROWSER_PREWARM: z.coerce.number().int().min(0).max(64).optional(),
  SNAPWIRE_BROWSER_RECYCLE_JOBS: z.coerce.number().int().min(1).default(500),
  SNAPWIRE_BROWSER_RECYCLE_AFTER: duration.default(30 * 60_000),
  SNAPWIRE_BROWSER_HANG_TIMEOUT: duration.default(10_000),
  SNAPWIRE_RENDERER_HANG_TIMEOUT: duration.default(30_000),
  SNAPWIRE_RENDERER_MAX_HEAP_MB: z.coerce.number().int().min(16).max(16_384).default(2048),
  SNAPWIRE_CHROMIUM_ARGS: z.string().default(''),
  SNAPWIRE_STRICT_SITE_ISOLATION: booleanString.default(false),
  SNAPWIRE_LOAD_IMAGES: booleanString.default(true),
  SNAPWIRE_MAX_FULLPAGE_HEIGHT: z.coerce.number().int().min(1_000).max(65_000).default(40_000),
  // Width x height of one output image: bounds the memory one capture may take (4 bytes a pixel while
  // encoding), whatever the page's size.
  SNAPWIRE_MAX_OUTPUT_PIXELS: z.coerce.number().int().min(1_000_000).max(1_000_000_000).default(80_000_000),
  SNAPWIRE_BANNER_WAIT: duration.default(2_500),
  SNAPWIRE_COUNTRY_PROXIES: z
    .string()
    .transform((value, ctx) => {
      try {
        return parseCountryProxies(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    })
    .default({}),
  SNAPWIRE_RESULTS_SWEEP_INTERVAL: duration.default(3_600_000),
  // Extraction API (README "Extracting data"): the document's size, sent and once decompressed.
  SNAPWIRE_EXTRACTION_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(100 * 1024 * 1024)
    .default(10 * 1024 * 1024),
  // The operator's language model: any OpenAI-compatible chat-completions endpoint.
  SNAPWIRE_LLM_BASE_URL: z.url().optional(),
  SNAPWIRE_LLM_API_KEY: z.string().min(1).optional(),
  SNAPWIRE_LLM_MODEL: z.string().min(1).optional(),
  SNAPWIRE_LLM_TIMEOUT: duration.default(60_000),
  SNAPWIRE_LLM_MAX_INPUT_TOKENS: z.coerce.number().int().min(500).max(1_000_000).default(8_000),
  SNAPWIRE_LLM_MAX_CHUNKS: z.coerce.number().int().min(1).max(64).default(4),
  SNAPWIRE_METRICS_TOKEN: z.string().min(8, 'must be at least 8 characters').optional(),
  // Dashboard settings (docs/dashboard.md).
  SNAPWIRE_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  SNAPWIRE_DASHBOARD_SESSION_TTL: duration.default(12 * 3_600_000),
  SNAPWIRE_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(365),
  // Invitation and password-reset mails (docs/dashboard.md): smtp://user:pass@host:port or smtps://.
  SNAPWIRE_SMTP_URL: z
    .url()
    .refine((value) => /^smtps?:\/\//.test(value), 'must be an smtp:// or smtps:// URL')
    .optional(),
  SNAPWIRE_MAIL_FROM: z.string().min(3).default('Snapwire <snapwire@localhost>'),
  // OpenID Connect single sign-on (docs/dashboard.md "Single sign-on"): all three, or none.
  SNAPWIRE_OIDC_ISSUER: z.url().optional(),
  SNAPWIRE_OIDC_CLIENT_ID: z.string().min(1).optional(),
  SNAPWIRE_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  SNAPWIRE_OIDC_NEW_USERS: z
    .enum(['refuse', 'viewer', 'developer', 'admin'], {
      message: 'must be refuse, viewer, developer or admin',
    })
    .default('refuse'),
  // Fleet settings (docs/deploy.md).
  SNAPWIRE_ROLE: z.enum(['all', 'worker']).default('all'),
  SNAPWIRE_NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, dot, dash or underscore')
    .optional(),
  SNAPWIRE_BLOB_STORE: z
    .string()
    .transform((value, ctx) => {
      try {
        return parseBlobStoreLocation(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    })
    .default({ kind: 'local' }),
  SNAPWIRE_S3_ENDPOINT: z.url().optional(),
  SNAPWIRE_S3_FORCE_PATH_STYLE: booleanString.default(false),
  SNAPWIRE_S3_PRESIGN: booleanString.default(false),
  AWS_REGION: z.string().min(1).optional(),
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
});

export type BlobStoreLocation = { kind: 'local' } | { kind: 's3'; bucket: string; prefix: string };

/** `local` (the data folder) or `s3://BUCKET/PREFIX` (the prefix may be empty). */
export function parseBlobStoreLocation(value: string): BlobStoreLocation {
  if (value === 'local') return { kind: 'local' };
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(value);
  if (!match) {
    throw new Error(
      `"${value}" is neither "local" nor an S3 location like s3://my-bucket/snapwire (bucket names are 3-63 lower-case letters, digits, dots, dashes)`,
    );
  }
  return { kind: 's3', bucket: match[1] as string, prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

export type NetworkList = ReturnType<typeof parseNetworkList>;

export interface Settings {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  publicUrl: string;
  bootstrapLiveKey: string | undefined;
  bootstrapTestKey: string | undefined;
  allowedNetworks: NetworkList;
  deniedNetworks: NetworkList;
  /** Plan of a project created without one: the default project, the CLI and the dashboard's form. */
  defaultPlan: PlanName;
  chromiumPath: string;
  browserConcurrency: number;
  browserQueue: number;
  browserQueueWaitMs: number;
  maxTimeoutMs: number;
  /** /scrape: largest body sent to or received from a target, in bytes. */
  scrapeMaxBodyBytes: number;
  scrapeInlineMaxBytes: number;
  /** /scrape: redirects followed without a browser. */
  scrapeMaxRedirects: number;
  logLevel: string;
  /** pretty (one readable line per event) or json; undefined chooses by whether stdout is a terminal. */
  logFormat: 'pretty' | 'json' | undefined;
  trustProxy: boolean;
  /** The API port's limits on slow clients (http/app.ts). */
  httpHeadersTimeoutMs: number;
  httpRequestTimeoutMs: number;
  httpKeepAliveTimeoutMs: number;
  /** Longest silence on a connection, in either direction; longer than any synchronous capture. */
  httpIdleTimeoutMs: number;
  httpMaxConnections: number;
  webhookRetrySchedule: number[];
  webhookTimeoutMs: number;
  webhookDisableAfter: number;
  webhookSecretGraceMs: number;
  webhookConcurrency: number;
  operatorNotifyUrl: string | undefined;
  queuePollMs: number;
  /** How long a crawl URL stays claimed by a node before another may take it over. */
  crawlLeaseMs: number;
  jobLeaseMs: number;
  /** Longest sleep of the scheduler loop between looks at due schedules (docs/compat.md §6). */
  schedulerPollMs: number;
  /** Schedules a project may hold, not counting cancelled and completed ones. */
  maxSchedules: number;
  /** Shortest time between two runs of one schedule, cron and interval alike. */
  minScheduleIntervalMs: number;
  /** Engine settings (docs/engine.md "Engine settings"). */
  browsers: number;
  browserPrewarm: number | undefined;
  browserRecycleJobs: number;
  browserRecycleAfterMs: number;
  browserHangTimeoutMs: number;
  rendererHangTimeoutMs: number;
  rendererMaxHeapMb: number;
  chromiumArgs: string[];
  strictSiteIsolation: boolean;
  loadImages: boolean;
  maxFullpageHeight: number;
  maxOutputPixels: number;
  bannerWaitMs: number;
  countryProxies: Record<string, string[]>;
  resultsSweepIntervalMs: number;
  /** Largest extraction document, as sent and once decompressed (bytes). */
  extractionMaxBytes: number;
  /** The operator's language model for extraction_prompt / extraction_model; undefined when not set. */
  llm: LlmSettings | undefined;
  metricsToken: string | undefined;
  /** Dashboard settings (docs/dashboard.md "Settings"). */
  adminPassword: string | undefined;
  /** Where invitation and reset mails go out (none: the links are only shown to who made them). */
  smtpUrl: string | undefined;
  mailFrom: string;
  /** OpenID Connect single sign-on for the dashboard; undefined when not configured. */
  oidc: OidcSettings | undefined;
  dashboardSessionTtlMs: number;
  /** How long audit rows are kept (SNAPWIRE_AUDIT_RETENTION_DAYS). */
  auditRetentionDays: number;
  /** Fleet settings (docs/deploy.md). `worker` serves only /healthz and /metrics over HTTP. */
  role: 'all' | 'worker';
  /** Stable id of this node in logs, the monitoring log and /metrics. */
  nodeId: string;
  blobStore: BlobStoreLocation;
  s3Endpoint: string | undefined;
  s3ForcePathStyle: boolean;
  s3Presign: boolean;
  awsRegion: string | undefined;
  /** Both or neither; when neither, the AWS SDK's default chain (instance role, shared files) applies. */
  awsCredentials: { accessKeyId: string; secretAccessKey: string } | undefined;
}

/** The language model of the Extraction API (SNAPWIRE_LLM_*). */
export interface LlmSettings {
  /** e.g. http://127.0.0.1:11434/v1 (Ollama), https://api.openai.com/v1: `/chat/completions` is added. */
  baseUrl: string;
  /** Sent as Authorization: Bearer; local servers often need none. Never logged. */
  apiKey: string | undefined;
  model: string;
  timeoutMs: number;
  /** Budget of one part of the document given to the model, in estimated tokens (4 characters each). */
  maxInputTokens: number;
  /** A longer document is read in at most this many parts (one model call each), the rest cut. */
  maxChunks: number;
}

/** The dashboard's OpenID Connect provider (SNAPWIRE_OIDC_*). */
export interface OidcSettings {
  /** The issuer URL; its `/.well-known/openid-configuration` is read at the first SSO sign-in. */
  issuer: string;
  clientId: string;
  /** Sent to the token endpoint only (client_secret_post). Never logged. */
  clientSecret: string;
  /** A verified email no user has: refused, or a new user with this role. */
  newUsers: 'refuse' | 'viewer' | 'developer' | 'admin';
}

export class SettingsError extends Error {}

/** Reads settings from an environment map (process.env by default). Throws SettingsError listing every bad knob. */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new SettingsError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const value = parsed.data;
  if ((value.AWS_ACCESS_KEY_ID === undefined) !== (value.AWS_SECRET_ACCESS_KEY === undefined)) {
    throw new SettingsError(
      'Invalid configuration:\n  AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY: set both or neither',
    );
  }
  if ((value.SNAPWIRE_LLM_BASE_URL === undefined) !== (value.SNAPWIRE_LLM_MODEL === undefined)) {
    throw new SettingsError(
      'Invalid configuration:\n  SNAPWIRE_LLM_BASE_URL / SNAPWIRE_LLM_MODEL: set both (the endpoint and the model name) or neither',
    );
  }
  const oidcSet = [
    value.SNAPWIRE_OIDC_ISSUER,
    value.SNAPWIRE_OIDC_CLIENT_ID,
    value.SNAPWIRE_OIDC_CLIENT_SECRET,
  ];
  if (oidcSet.some((v) => v !== undefined) && !oidcSet.every((v) => v !== undefined)) {
    throw new SettingsError(
      'Invalid configuration:\n  SNAPWIRE_OIDC_ISSUER / SNAPWIRE_OIDC_CLIENT_ID / SNAPWIRE_OIDC_CLIENT_SECRET: set all three (single sign-on) or none',
    );
  }
  if (value.SNAPWIRE_OIDC_ISSUER && !isSafeIssuer(value.SNAPWIRE_OIDC_ISSUER)) {
    throw new SettingsError(
      'Invalid configuration:\n  SNAPWIRE_OIDC_ISSUER: must be an https:// URL (plain http:// only for a provider on loopback, 127.0.0.1 or [::1])',
    );
  }
  if (value.SNAPWIRE_S3_PRESIGN && value.SNAPWIRE_BLOB_STORE.kind !== 's3') {
    throw new SettingsError(
      'Invalid configuration:\n  SNAPWIRE_S3_PRESIGN: needs SNAPWIRE_BLOB_STORE=s3://BUCKET/PREFIX (a local blob store has no presigned URLs)',
    );
  }
  if (value.SNAPWIRE_HTTP_HEADERS_TIMEOUT > value.SNAPWIRE_HTTP_REQUEST_TIMEOUT) {
    throw new SettingsError(
      'Invalid configuration:\n  SNAPWIRE_HTTP_HEADERS_TIMEOUT: must not be longer than SNAPWIRE_HTTP_REQUEST_TIMEOUT (the headers are part of the request)',
    );
  }
  const idleTimeoutMs = value.SNAPWIRE_HTTP_IDLE_TIMEOUT ?? value.SNAPWIRE_MAX_TIMEOUT_MS + 60_000;
  if (idleTimeoutMs <= value.SNAPWIRE_MAX_TIMEOUT_MS) {
    throw new SettingsError(
      `Invalid configuration:\n  SNAPWIRE_HTTP_IDLE_TIMEOUT: must be longer than SNAPWIRE_MAX_TIMEOUT_MS (${value.SNAPWIRE_MAX_TIMEOUT_MS} ms), or a synchronous screenshot would be cut while it renders`,
    );
  }
  const publicUrl = (value.SNAPWIRE_PUBLIC_URL ?? `http://localhost:${value.PORT}`).replace(/\/+$/, '');
  return {
    port: value.PORT,
    host: value.HOST,
    dataDir: path.resolve(value.SNAPWIRE_DATA_DIR),
    databaseUrl: value.DATABASE_URL,
    publicUrl,
    bootstrapLiveKey: value.SNAPWIRE_BOOTSTRAP_LIVE_KEY,
    bootstrapTestKey: value.SNAPWIRE_BOOTSTRAP_TEST_KEY,
    allowedNetworks: value.SNAPWIRE_ALLOWED_NETWORKS,
    deniedNetworks: value.SNAPWIRE_DENIED_NETWORKS,
    defaultPlan: value.SNAPWIRE_DEFAULT_PLAN,
    chromiumPath: value.SNAPWIRE_CHROMIUM_PATH,
    browserConcurrency: value.SNAPWIRE_BROWSER_CONCURRENCY,
    browserQueue: value.SNAPWIRE_BROWSER_QUEUE,
    browserQueueWaitMs: value.SNAPWIRE_BROWSER_QUEUE_WAIT,
    maxTimeoutMs: value.SNAPWIRE_MAX_TIMEOUT_MS,
    scrapeMaxBodyBytes: value.SNAPWIRE_SCRAPE_MAX_BODY_BYTES,
    scrapeInlineMaxBytes: value.SNAPWIRE_SCRAPE_INLINE_MAX_BYTES,
    scrapeMaxRedirects: value.SNAPWIRE_SCRAPE_MAX_REDIRECTS,
    logLevel: value.SNAPWIRE_LOG_LEVEL,
    logFormat: value.SNAPWIRE_LOG_FORMAT,
    trustProxy: value.SNAPWIRE_TRUST_PROXY,
    httpHeadersTimeoutMs: value.SNAPWIRE_HTTP_HEADERS_TIMEOUT,
    httpRequestTimeoutMs: value.SNAPWIRE_HTTP_REQUEST_TIMEOUT,
    httpKeepAliveTimeoutMs: value.SNAPWIRE_HTTP_KEEPALIVE_TIMEOUT,
    httpIdleTimeoutMs: idleTimeoutMs,
    httpMaxConnections: value.SNAPWIRE_HTTP_MAX_CONNECTIONS,
    webhookRetrySchedule: value.SNAPWIRE_WEBHOOK_RETRY_SCHEDULE,
    webhookTimeoutMs: value.SNAPWIRE_WEBHOOK_TIMEOUT,
    webhookDisableAfter: value.SNAPWIRE_WEBHOOK_DISABLE_AFTER,
    webhookSecretGraceMs: value.SNAPWIRE_WEBHOOK_SECRET_GRACE,
    webhookConcurrency: value.SNAPWIRE_WEBHOOK_CONCURRENCY,
    operatorNotifyUrl: value.SNAPWIRE_OPERATOR_NOTIFY_URL,
    queuePollMs: value.SNAPWIRE_QUEUE_POLL,
    crawlLeaseMs: value.SNAPWIRE_CRAWL_LEASE,
    jobLeaseMs: value.SNAPWIRE_JOB_LEASE,
    schedulerPollMs: value.SNAPWIRE_SCHEDULER_POLL,
    maxSchedules: value.SNAPWIRE_MAX_SCHEDULES,
    minScheduleIntervalMs: value.SNAPWIRE_MIN_SCHEDULE_INTERVAL,
    browsers: value.SNAPWIRE_BROWSERS,
    browserPrewarm: value.SNAPWIRE_BROWSER_PREWARM,
    browserRecycleJobs: value.SNAPWIRE_BROWSER_RECYCLE_JOBS,
    browserRecycleAfterMs: value.SNAPWIRE_BROWSER_RECYCLE_AFTER,
    browserHangTimeoutMs: value.SNAPWIRE_BROWSER_HANG_TIMEOUT,
    rendererHangTimeoutMs: value.SNAPWIRE_RENDERER_HANG_TIMEOUT,
    rendererMaxHeapMb: value.SNAPWIRE_RENDERER_MAX_HEAP_MB,
    chromiumArgs: value.SNAPWIRE_CHROMIUM_ARGS.split(/\s+/).filter(Boolean),
    strictSiteIsolation: value.SNAPWIRE_STRICT_SITE_ISOLATION,
    loadImages: value.SNAPWIRE_LOAD_IMAGES,
    maxFullpageHeight: value.SNAPWIRE_MAX_FULLPAGE_HEIGHT,
    maxOutputPixels: value.SNAPWIRE_MAX_OUTPUT_PIXELS,
    bannerWaitMs: value.SNAPWIRE_BANNER_WAIT,
    countryProxies: value.SNAPWIRE_COUNTRY_PROXIES,
    resultsSweepIntervalMs: value.SNAPWIRE_RESULTS_SWEEP_INTERVAL,
    extractionMaxBytes: value.SNAPWIRE_EXTRACTION_MAX_BYTES,
    llm:
      value.SNAPWIRE_LLM_BASE_URL && value.SNAPWIRE_LLM_MODEL
        ? {
            baseUrl: value.SNAPWIRE_LLM_BASE_URL.replace(/\/+$/, ''),
            apiKey: value.SNAPWIRE_LLM_API_KEY,
            model: value.SNAPWIRE_LLM_MODEL,
            timeoutMs: value.SNAPWIRE_LLM_TIMEOUT,
            maxInputTokens: value.SNAPWIRE_LLM_MAX_INPUT_TOKENS,
            maxChunks: value.SNAPWIRE_LLM_MAX_CHUNKS,
          }
        : undefined,
    metricsToken: value.SNAPWIRE_METRICS_TOKEN,
    adminPassword: value.SNAPWIRE_ADMIN_PASSWORD,
    smtpUrl: value.SNAPWIRE_SMTP_URL,
    mailFrom: value.SNAPWIRE_MAIL_FROM,
    oidc:
      value.SNAPWIRE_OIDC_ISSUER && value.SNAPWIRE_OIDC_CLIENT_ID && value.SNAPWIRE_OIDC_CLIENT_SECRET
        ? {
            issuer: value.SNAPWIRE_OIDC_ISSUER,
            clientId: value.SNAPWIRE_OIDC_CLIENT_ID,
            clientSecret: value.SNAPWIRE_OIDC_CLIENT_SECRET,
            newUsers: value.SNAPWIRE_OIDC_NEW_USERS,
          }
        : undefined,
    dashboardSessionTtlMs: value.SNAPWIRE_DASHBOARD_SESSION_TTL,
    auditRetentionDays: value.SNAPWIRE_AUDIT_RETENTION_DAYS,
    role: value.SNAPWIRE_ROLE,
    // hostname + pid: stable for the life of the process, distinct for two processes on one machine.
    nodeId:
      value.SNAPWIRE_NODE_ID ??
      `${os
        .hostname()
        .replace(/[^A-Za-z0-9._-]/g, '-')
        .slice(0, 48)}-${process.pid}`,
    blobStore: value.SNAPWIRE_BLOB_STORE,
    s3Endpoint: value.SNAPWIRE_S3_ENDPOINT,
    s3ForcePathStyle: value.SNAPWIRE_S3_FORCE_PATH_STYLE,
    s3Presign: value.SNAPWIRE_S3_PRESIGN,
    awsRegion: value.AWS_REGION,
    awsCredentials:
      value.AWS_ACCESS_KEY_ID && value.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: value.AWS_ACCESS_KEY_ID, secretAccessKey: value.AWS_SECRET_ACCESS_KEY }
        : undefined,
  };
}

/** An issuer over https, or over http on loopback only (a token sent in clear must not leave the machine). */
function isSafeIssuer(issuer: string): boolean {
  const url = new URL(issuer);
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && (/^127(\.\d{1,3}){3}$/.test(url.hostname) || url.hostname === '[::1]');
}
