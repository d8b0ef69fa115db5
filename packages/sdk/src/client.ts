// Over 400 lines as one coherent thing: the SDK's one client class, every API method beside the others
// sharing the request, retry and error plumbing; split up, each part would re-export the same class.
// A typed client for the Screenshot API (Snapwire or Scrapfly itself: the wire format is the same).
// Node 20's global fetch, no dependencies.

import { Buffer } from 'node:buffer';
import { extensionFor, isJsonContentType } from './content-type.js';
import { SnapwireApiError, SnapwireError, apiErrorFromResponse, parseRetryAfter } from './errors.js';
import { buildScreenshotQuery, type ScreenshotParams } from './params.js';
import { abortReason, combineSignals, sleep } from './abort.js';
import { writeStreamToFile } from './save.js';
import {
  parseCrawlUrls,
  type CrawlConfig,
  type CrawlContentFormat,
  type CrawlStatus,
  type CrawlUrl,
  type CrawlUrlStatus,
} from './crawl.js';
import {
  buildScrapeQuery,
  isScrapeEnvelope,
  scrapeBodyContentType,
  scrapeErrorFromEnvelope,
  ScrapeError,
  SCRAPE_METHODS,
  type ScrapeParams,
  type ScrapeResult,
  type ScrapeScreenshot,
} from './scrape.js';
import {
  buildExtractionQuery,
  type ExtractionResult,
  type ExtractionTemplate,
  type ExtractParams,
  type SavedTemplate,
} from './extraction.js';
import type {
  CreateMonitorInput,
  CreateScheduleInput,
  Monitor,
  MonitorRun,
  ScreenshotComparison,
  UpdateMonitorInput,
  CreateWebhookInput,
  ExecutedSchedule,
  ListSchedulesParams,
  Schedule,
  ScheduleRun,
  UpdateScheduleInput,
  DeliveryAttempt,
  Job,
  ListLogsParams,
  MonitoringMetrics,
  MonitoringMetricsParams,
  MonitoringTargetMetrics,
  MonitoringTargetParams,
  ScreenshotLog,
  UpdateWebhookInput,
  Webhook,
} from './types.js';

export interface RetryOptions {
  /** How many times a failed call is tried again (0-10; default 3). */
  retries: number;
  /**
   * Longest wait before one retry, in ms (default 60,000). When the server's `Retry-After` asks for more,
   * the error is thrown instead: waiting less than asked would only fail again.
   */
  maxDelayMs?: number;
  /**
   * Wait before the first retry, doubled each time (default 1,000); a longer `Retry-After` wins.
   */
  baseDelayMs?: number;
  /**
   * Which retryable errors to retry (default: all the server marks `retryable`), e.g.
   * `(e) => e.httpStatus === 429` to retry throttling only.
   */
  retryOn?: (error: SnapwireApiError) => boolean;
  /** Called before each wait, e.g. to log it. */
  onRetry?: (info: { attempt: number; delayMs: number; error: SnapwireApiError }) => void;
}

export interface SnapwireClientOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:8080` or `https://api.scrapfly.io`. */
  host: string;
  /** Project + environment API key, sent as the `key` query parameter. */
  key: string;
  /**
   * Retry errors the server marks `retryable` (throttling, queue full, driver crash, …), honouring
   * `Retry-After`. On by default (3 retries); `false` or `0` turns it off; a number is `{ retries: n }`.
   */
  retry?: RetryOptions | number | false;
  /** Abort a call after this many ms (default 180,000; 0 = never). Covers the server's 120 s max timeout. */
  timeoutMs?: number;
  userAgent?: string;
  /** Replaces the global fetch (tests, proxies). */
  fetch?: typeof fetch;
}

/** Per-call options every method takes as its last argument. */
export interface CallOptions {
  /** Aborts the call (and any wait between retries); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What a screenshot answered, without the bytes (see `ScreenshotResult`, `SavedScreenshot`). */
export interface ScreenshotMeta {
  /** e.g. `image/png`. */
  contentType: string;
  /** From the content-type subtype, as Scrapfly's SDKs do: `png`, `jpeg`, `webp`, `gif`. */
  extension: string;
  /** `X-Scrapfly-Upstream-Http-Code`: the status of the captured page. */
  upstreamStatus: number | undefined;
  /** `X-Scrapfly-Upstream-Url`: the final URL after redirects. */
  upstreamUrl: string | undefined;
  /** `X-Scrapfly-Api-Cost`: credits charged. */
  cost: number | undefined;
  /** `X-Scrapfly-Remaining-Api-Credit`. */
  remainingCredit: number | undefined;
  /** `X-Scrapfly-Log-Uuid`. */
  logUuid: string | undefined;
  /** `X-Scrapfly-Screenshot-Url`: the stored copy (fetch it again with `?key=`, or `client.result()`). */
  screenshotUrl: string | undefined;
  /** Every response header, names in lower case. */
  headers: Record<string, string>;
}

/** A synchronous screenshot: the image and the metadata headers. */
export interface ScreenshotResult extends ScreenshotMeta {
  image: Buffer;
}

/** A screenshot streamed to a file by `saveScreenshot`. */
export interface SavedScreenshot extends ScreenshotMeta {
  /** The path written. */
  file: string;
  /** Bytes written. */
  size: number;
}

/** The 201 answer of a `webhook_name` call: the job is queued and will be POSTed to the webhook. */
export interface WebhookEnqueued {
  job_uuid: string;
  log_uuid: string;
  log_url: string;
  success: boolean;
  webhook_enqueued: boolean;
  webhook_name: string;
  webhook_queue_limit: number;
  webhook_queued_element: number;
  webhook_uuid: string;
  [extra: string]: unknown;
}

export interface UsageCounter {
  concurrent_limit?: number;
  concurrent_remaining?: number;
  concurrent_usage?: number;
  current?: number;
  extra?: number;
  limit?: number;
  remaining?: number;
  [extra: string]: unknown;
}

/** `GET /account` (the shape of the Scrapfly TS SDK's `AccountData`; unknown fields are kept). */
export interface AccountData {
  account?: Record<string, unknown>;
  project?: {
    allow_extra_usage?: boolean;
    budget_limit?: number | null;
    concurrency_limit?: number | null;
    name?: string;
    quota_reached?: boolean;
    [extra: string]: unknown;
  };
  subscription?: {
    max_concurrency?: number;
    plan_name?: string;
    usage?: Record<string, UsageCounter>;
    [extra: string]: unknown;
  };
  [extra: string]: unknown;
}

const DEFAULT_TIMEOUT_MS = 180_000;
const DEFAULT_RETRIES = 3;
const MAX_RETRIES = 10;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Send {
  query?: URLSearchParams;
  body?: unknown;
  /** Sent as it is (a scrape's body for the target, an extraction's document), instead of `body` as JSON. */
  rawBody?: { bytes: string | Uint8Array; contentType: string; contentEncoding?: string | undefined };
  accept?: string;
  signal?: AbortSignal | undefined;
}

function headerRecord(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name.toLowerCase()] = value;
  });
  return out;
}

function num(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function metaOf(headers: Record<string, string>): ScreenshotMeta {
  const contentType = headers['content-type'] ?? '';
  return {
    contentType,
    extension: extensionFor(contentType),
    upstreamStatus: num(headers['x-scrapfly-upstream-http-code']),
    upstreamUrl: headers['x-scrapfly-upstream-url'],
    cost: num(headers['x-scrapfly-api-cost']),
    remainingCredit: num(headers['x-scrapfly-remaining-api-credit']),
    logUuid: headers['x-scrapfly-log-uuid'],
    screenshotUrl: headers['x-scrapfly-screenshot-url'],
    headers,
  };
}

function normaliseRetry(
  retry: SnapwireClientOptions['retry'],
): Required<Omit<RetryOptions, 'onRetry'>> & Pick<RetryOptions, 'onRetry'> {
  const base =
    retry === undefined
      ? { retries: DEFAULT_RETRIES }
      : typeof retry === 'number'
        ? { retries: retry }
        : retry
          ? retry
          : { retries: 0 };
  const retries = Math.max(0, Math.min(MAX_RETRIES, Math.floor(Number(base.retries) || 0)));
  return {
    retries,
    maxDelayMs: base.maxDelayMs ?? 60_000,
    baseDelayMs: base.baseDelayMs ?? 1_000,
    retryOn: base.retryOn ?? (() => true),
    onRetry: base.onRetry,
  };
}

function query(values: Record<string, string | number | boolean | undefined | null>): URLSearchParams {
  const out = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === null || value === '') continue;
    out.set(name, typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value));
  }
  return out;
}

const segment = (value: string, what: string): string => {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${what} is required`);
  return encodeURIComponent(value);
};

export class SnapwireClient {
  readonly host: string;
  readonly #key: string;
  readonly #retry: ReturnType<typeof normaliseRetry>;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  readonly #fetch: typeof fetch;

  constructor(options: SnapwireClientOptions) {
    if (!options || typeof options.host !== 'string' || options.host.trim() === '') {
      throw new TypeError('SnapwireClient: `host` is required (e.g. http://127.0.0.1:8080)');
    }
    if (typeof options.key !== 'string' || options.key === '') {
      throw new TypeError('SnapwireClient: `key` is required');
    }
    const host = options.host.trim().replace(/\/+$/, '');
    // Validate early: a typo in the host should fail here, not as a confusing fetch error later.
    new URL(host);
    this.host = host;
    this.#key = options.key;
    this.#retry = normaliseRetry(options.retry);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#userAgent = options.userAgent ?? 'snapwire-sdk/0.1';
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  // ---- screenshots ------------------------------------------------------------------------------------

  /**
   * `GET /screenshot`. Resolves to the image, or, when `webhook_name` is set, to the 201 promise JSON.
   * Throws `SnapwireApiError` (`BadApiKeyError` for 401) on an error envelope or a non-2xx status.
   */
  screenshot(
    params: ScreenshotParams & { webhook_name: string },
    options?: CallOptions,
  ): Promise<WebhookEnqueued>;
  screenshot(
    params: ScreenshotParams & { webhook_name?: undefined },
    options?: CallOptions,
  ): Promise<ScreenshotResult>;
  screenshot(params: ScreenshotParams, options?: CallOptions): Promise<ScreenshotResult | WebhookEnqueued>;
  async screenshot(
    params: ScreenshotParams,
    options: CallOptions = {},
  ): Promise<ScreenshotResult | WebhookEnqueued> {
    const search = buildScreenshotQuery(params);
    const async = typeof params.webhook_name === 'string' && params.webhook_name !== '';
    return this.#withRetry(options.signal, async (signal) => {
      const response = await this.#send('GET', '/screenshot', {
        query: search,
        accept: async ? 'application/json' : 'image/*, application/pdf, application/json',
        signal,
      });
      const headers = headerRecord(response.headers);
      const contentType = headers['content-type'] ?? '';
      if (isJsonContentType(contentType) || !response.ok) {
        const body = await readBody(response, contentType);
        if (!response.ok || isErrorEnvelope(body)) throw apiErrorFromResponse(response.status, headers, body);
        if (async && body !== null && typeof body === 'object') return body as WebhookEnqueued;
        throw new SnapwireError(`unexpected JSON answer to a screenshot call (HTTP ${response.status})`);
      }
      const image = Buffer.from(await response.arrayBuffer());
      return { image, ...metaOf(headers) } satisfies ScreenshotResult;
    });
  }

  /** `GET /screenshot?webhook_name=…`: queues the capture; the result is POSTed to that webhook. */
  async screenshotAsync(
    params: ScreenshotParams & { webhook_name: string },
    options: CallOptions = {},
  ): Promise<WebhookEnqueued> {
    if (typeof params.webhook_name !== 'string' || params.webhook_name === '') {
      throw new TypeError('screenshotAsync: `webhook_name` is required');
    }
    return this.screenshot(params, options);
  }

  /**
   * Takes a screenshot and streams it to `file` (written under a temporary name, then renamed, so a
   * failure never leaves half a file). The image is never held in memory whole.
   */
  async saveScreenshot(
    params: ScreenshotParams & { webhook_name?: undefined },
    file: string,
    options: CallOptions = {},
  ): Promise<SavedScreenshot> {
    const search = buildScreenshotQuery(params);
    return this.#withRetry(options.signal, async (signal) => {
      const response = await this.#send('GET', '/screenshot', {
        query: search,
        accept: 'image/*, application/json',
        signal,
      });
      return this.#saveImage(response, file, 'a screenshot call');
    });
  }

  /** `GET /screenshot/result/{log_uuid}` (or the full `screenshot_url`): the stored image again. */
  async result(logUuidOrUrl: string, options: CallOptions = {}): Promise<ScreenshotResult> {
    const path = this.#resultPath(logUuidOrUrl);
    return this.#withRetry(options.signal, async (signal) => {
      const response = await this.#send('GET', path, { accept: 'image/*, application/json', signal });
      const headers = headerRecord(response.headers);
      const contentType = headers['content-type'] ?? '';
      if (!response.ok || isJsonContentType(contentType)) {
        throw apiErrorFromResponse(response.status, headers, await readBody(response, contentType));
      }
      return { image: Buffer.from(await response.arrayBuffer()), ...metaOf(headers) };
    });
  }

  /** Streams a stored image (`result()`) to `file`. */
  async saveResult(logUuidOrUrl: string, file: string, options: CallOptions = {}): Promise<SavedScreenshot> {
    const path = this.#resultPath(logUuidOrUrl);
    return this.#withRetry(options.signal, async (signal) => {
      const response = await this.#send('GET', path, { accept: 'image/*, application/json', signal });
      return this.#saveImage(response, file, 'a result call');
    });
  }

  // ---- web scraping (docs/compat.md §7) ---------------------------------------------------------------

  /**
   * `/scrape` with `params.method` (default GET) and `params.body`: resolves to the scrape envelope
   * (`result.content` in the asked format). Throws `UpstreamHttpClientError` / `UpstreamHttpServerError`
   * when the target answered 4xx / 5xx, `ScrapeError` when the scrape failed otherwise (both hold the
   * envelope in `scrape`), and `SnapwireApiError` for a refusal before the scrape (parameter, key, quota).
   * A scrape that reached the target is retried only for GET: a POST is never sent twice by the client.
   */
  async scrape(params: ScrapeParams, options: CallOptions = {}): Promise<ScrapeResult> {
    const search = buildScrapeQuery(params);
    const method = params.method ?? 'GET';
    if (!(SCRAPE_METHODS as readonly string[]).includes(method)) {
      throw new TypeError(
        `scrape params: \`method\` is one of ${SCRAPE_METHODS.join(', ')}; got "${method}"`,
      );
    }
    const contentType = scrapeBodyContentType(params);
    const rawBody =
      params.body !== undefined && contentType !== undefined
        ? { bytes: params.body, contentType }
        : undefined;
    const retryReachedTarget = method === 'GET';
    try {
      return await this.#withRetry(options.signal, async (signal) => {
        const response = await this.#send(method, '/scrape', {
          query: search,
          ...(rawBody ? { rawBody } : {}),
          accept: 'application/json',
          signal,
        });
        const headers = headerRecord(response.headers);
        const body = await readBody(response, headers['content-type'] ?? '');
        if (isScrapeEnvelope(body)) {
          if (body.result.success) return body;
          const error = scrapeErrorFromEnvelope(
            response.status,
            headers,
            body,
            parseRetryAfter(headers['retry-after']),
          );
          // Out of #withRetry's reach: the target may already have acted on this request.
          throw retryReachedTarget ? error : new NotRetried(error);
        }
        if (!response.ok || isErrorEnvelope(body)) throw apiErrorFromResponse(response.status, headers, body);
        throw new SnapwireError(
          `unexpected answer to a scrape call (HTTP ${response.status}): not a scrape envelope`,
        );
      });
    } catch (error) {
      if (error instanceof NotRetried) throw error.error;
      throw error;
    }
  }

  /**
   * The image of a scrape's `screenshots[NAME]`: `result.screenshots.NAME` (or its `url`). Only the
   * URL's last two segments (log uuid, name) are used, so the key is never sent to another host.
   */
  async scrapeScreenshot(
    screenshot: string | Pick<ScrapeScreenshot, 'url'>,
    options: CallOptions = {},
  ): Promise<ScreenshotResult> {
    const url = typeof screenshot === 'string' ? screenshot : screenshot?.url;
    const parts = typeof url === 'string' ? url.split('?')[0]!.split('/') : [];
    if (parts.length < 2)
      throw new TypeError('scrapeScreenshot: a result.screenshots.NAME (or its url) is required');
    const [logUuid, name] = parts.slice(-2) as [string, string];
    const path = `/scrape/screenshot/${segment(logUuid, 'log uuid')}/${segment(name, 'screenshot name')}`;
    return this.#withRetry(options.signal, async (signal) => {
      const response = await this.#send('GET', path, { accept: 'image/*, application/json', signal });
      const headers = headerRecord(response.headers);
      const contentType = headers['content-type'] ?? '';
      if (!response.ok || isJsonContentType(contentType)) {
        throw apiErrorFromResponse(response.status, headers, await readBody(response, contentType));
      }
      return { image: Buffer.from(await response.arrayBuffer()), ...metaOf(headers) };
    });
  }

  // ---- extraction (docs/compat.md §8) -----------------------------------------------------------------

  /**
   * `POST /extraction`: the document in `params.body`, extracted by a saved `template`, an
   * `ephemeral_template`, a `prompt` or a `model`. Throws `TemplateNotFoundError` for an unknown saved
   * template, `ExtractionError` for any other `ERR::EXTRACTION::…` (a malformed rule names its path in
   * `reason`), and `SnapwireApiError` for the rest (key, quota).
   */
  async extract(params: ExtractParams, options: CallOptions = {}): Promise<ExtractionResult> {
    const search = buildExtractionQuery(params);
    if (typeof params.body !== 'string' && !(params.body instanceof Uint8Array)) {
      throw new TypeError('extract params: `body` is the document, a string or bytes');
    }
    return this.#json<ExtractionResult>(
      'POST',
      '/extraction',
      {
        query: search,
        rawBody: {
          bytes: params.body,
          contentType: params.content_type,
          contentEncoding: params.content_encoding,
        },
        signal: options.signal,
      },
      (headers) => ({
        cost: num(headers['x-scrapfly-api-cost']),
        remainingCredit: num(headers['x-scrapfly-remaining-api-credit']),
        logUuid: headers['x-scrapfly-log-uuid'],
      }),
    );
  }

  /** `GET /extraction/templates`: the saved templates of the key's project and environment, by name. */
  async listTemplates(options: CallOptions = {}): Promise<SavedTemplate[]> {
    const answer = await this.#json<{ templates: SavedTemplate[] }>('GET', '/extraction/templates', {
      signal: options.signal,
    });
    return answer.templates;
  }

  /** `GET /extraction/templates/{name}`; `TemplateNotFoundError` when there is none. */
  getTemplate(name: string, options: CallOptions = {}): Promise<SavedTemplate> {
    return this.#json('GET', `/extraction/templates/${segment(name, 'name')}`, { signal: options.signal });
  }

  /** `POST /extraction/templates`: saves a new template (a name taken: `ERR::API::CONFLICT`). */
  createTemplate(
    name: string,
    template: ExtractionTemplate,
    options: CallOptions = {},
  ): Promise<SavedTemplate> {
    return this.#json('POST', '/extraction/templates', { body: { name, template }, signal: options.signal });
  }

  /** `PUT /extraction/templates/{name}`: replaces the template, or saves it under a new name. */
  putTemplate(name: string, template: ExtractionTemplate, options: CallOptions = {}): Promise<SavedTemplate> {
    return this.#json('PUT', `/extraction/templates/${segment(name, 'name')}`, {
      body: { template },
      signal: options.signal,
    });
  }

  /** `DELETE /extraction/templates/{name}`; `TemplateNotFoundError` when there is none. */
  async deleteTemplate(name: string, options: CallOptions = {}): Promise<void> {
    await this.#json('DELETE', `/extraction/templates/${segment(name, 'name')}`, { signal: options.signal });
  }

  // ---- account and monitoring -------------------------------------------------------------------------

  /** `GET /account`: account, project and subscription data of the key. */
  account(options: CallOptions = {}): Promise<AccountData> {
    return this.#json('GET', '/account', { signal: options.signal });
  }

  /** `GET /screenshot/monitoring/metrics` (structured). */
  monitoringMetrics(
    params: MonitoringMetricsParams = {},
    options: CallOptions = {},
  ): Promise<MonitoringMetrics> {
    return this.#json('GET', '/screenshot/monitoring/metrics', {
      query: query({
        format: 'structured',
        period: params.period,
        aggregation: params.aggregation?.join(','),
        include_webhook: params.include_webhook,
      }),
      signal: options.signal,
    });
  }

  /** `GET /screenshot/monitoring/metrics/target`: one domain, with a time series. */
  monitoringTargetMetrics(
    params: MonitoringTargetParams,
    options: CallOptions = {},
  ): Promise<MonitoringTargetMetrics> {
    return this.#json('GET', '/screenshot/monitoring/metrics/target', {
      query: query({
        domain: params.domain,
        group_subdomain: params.group_subdomain,
        period: params.period,
        start: params.start,
        end: params.end,
        include_webhook: params.include_webhook,
      }),
      signal: options.signal,
    });
  }

  /** `GET /screenshot/logs`: monitoring logs of the key's project and environment, newest first. */
  async listLogs(params: ListLogsParams = {}, options: CallOptions = {}): Promise<ScreenshotLog[]> {
    const answer = await this.#json<{ logs: ScreenshotLog[] }>('GET', '/screenshot/logs', {
      query: query({ limit: params.limit, status: params.status, url: params.url, domain: params.domain }),
      signal: options.signal,
    });
    return answer.logs;
  }

  /** `GET /screenshot/logs/{log_uuid}`. */
  getLog(logUuid: string, options: CallOptions = {}): Promise<ScreenshotLog> {
    return this.#json('GET', `/screenshot/logs/${segment(logUuid, 'logUuid')}`, { signal: options.signal });
  }

  // ---- webhooks, jobs and replay ------------------------------------------------------------------------

  /** `GET /webhooks`. */
  async listWebhooks(options: CallOptions = {}): Promise<Webhook[]> {
    const answer = await this.#json<{ webhooks: Webhook[] }>('GET', '/webhooks', { signal: options.signal });
    return answer.webhooks;
  }

  /** `GET /webhooks/{name}` (name or uuid). */
  getWebhook(name: string, options: CallOptions & { revealSecret?: boolean } = {}): Promise<Webhook> {
    return this.#json('GET', `/webhooks/${segment(name, 'name')}`, {
      query: query({ reveal_secret: options.revealSecret }),
      signal: options.signal,
    });
  }

  /** `POST /webhooks`: answers the webhook with its `secret`; a signed ping delivery follows. */
  createWebhook(input: CreateWebhookInput, options: CallOptions = {}): Promise<Webhook> {
    return this.#json('POST', '/webhooks', { body: input, signal: options.signal });
  }

  /** `PATCH /webhooks/{name}`. */
  updateWebhook(name: string, changes: UpdateWebhookInput, options: CallOptions = {}): Promise<Webhook> {
    return this.#json('PATCH', `/webhooks/${segment(name, 'name')}`, {
      body: changes,
      signal: options.signal,
    });
  }

  /** `DELETE /webhooks/{name}` (with its queued jobs). */
  async deleteWebhook(name: string, options: CallOptions = {}): Promise<void> {
    await this.#json('DELETE', `/webhooks/${segment(name, 'name')}`, { signal: options.signal });
  }

  /** `POST /webhooks/{name}/enable`: enables or re-enables it; its waiting jobs resume. */
  enableWebhook(name: string, options: CallOptions = {}): Promise<Webhook> {
    return this.#json('POST', `/webhooks/${segment(name, 'name')}/enable`, { signal: options.signal });
  }

  /** `POST /webhooks/{name}/rotate-secret`: a new secret (given or generated), answered in `secret`. */
  rotateWebhookSecret(name: string, secret?: string, options: CallOptions = {}): Promise<Webhook> {
    return this.#json('POST', `/webhooks/${segment(name, 'name')}/rotate-secret`, {
      body: secret === undefined ? {} : { secret },
      signal: options.signal,
    });
  }

  /** `POST /webhooks/{name}/ping`: queues a test ping; answers its job uuid. */
  pingWebhook(name: string, options: CallOptions = {}): Promise<{ job_uuid: string }> {
    return this.#json('POST', `/webhooks/${segment(name, 'name')}/ping`, { signal: options.signal });
  }

  /** `GET /webhooks/{name}/deliveries`: every attempt, newest first. */
  async webhookDeliveries(
    name: string,
    params: { limit?: number } = {},
    options: CallOptions = {},
  ): Promise<DeliveryAttempt[]> {
    const answer = await this.#json<{ attempts: DeliveryAttempt[] }>(
      'GET',
      `/webhooks/${segment(name, 'name')}/deliveries`,
      { query: query({ limit: params.limit }), signal: options.signal },
    );
    return answer.attempts;
  }

  /** `GET /webhooks/jobs/{job_uuid}`: an asynchronous job's state and attempts. */
  getJob(jobUuid: string, options: CallOptions = {}): Promise<Job> {
    return this.#json('GET', `/webhooks/jobs/${segment(jobUuid, 'jobUuid')}`, { signal: options.signal });
  }

  /** `POST /webhooks/jobs/{job_uuid}/replay`: sends a delivered or failed job again (same id, same bytes). */
  replayJob(jobUuid: string, options: CallOptions = {}): Promise<{ job_uuid: string; state: string }> {
    return this.#json('POST', `/webhooks/jobs/${segment(jobUuid, 'jobUuid')}/replay`, {
      signal: options.signal,
    });
  }

  // ---- schedules (docs/compat.md §6) ------------------------------------------------------------------

  /** `POST /screenshot/schedules`: each run is an asynchronous screenshot into `webhook_name`. */
  createSchedule(input: CreateScheduleInput, options: CallOptions = {}): Promise<Schedule> {
    return this.#json('POST', '/screenshot/schedules', { body: input, signal: options.signal });
  }

  /** `GET /schedules`: the schedules of the key's project and environment. */
  listSchedules(params: ListSchedulesParams = {}, options: CallOptions = {}): Promise<Schedule[]> {
    return this.#json('GET', '/schedules', {
      query: query({ status: params.status, kind: params.kind }),
      signal: options.signal,
    });
  }

  /** `GET /schedules/{id}`. */
  getSchedule(id: string, options: CallOptions = {}): Promise<Schedule> {
    return this.#json('GET', `/schedules/${segment(id, 'id')}`, { signal: options.signal });
  }

  /** `PATCH /schedules/{id}`: changes only the fields given (an active or paused schedule). */
  updateSchedule(id: string, changes: UpdateScheduleInput, options: CallOptions = {}): Promise<Schedule> {
    return this.#json('PATCH', `/schedules/${segment(id, 'id')}`, { body: changes, signal: options.signal });
  }

  /** `DELETE /schedules/{id}`: cancels it (terminal; runs not started are skipped). */
  async cancelSchedule(id: string, options: CallOptions = {}): Promise<void> {
    await this.#json('DELETE', `/schedules/${segment(id, 'id')}`, { signal: options.signal });
  }

  /** `POST /schedules/{id}/pause`: instants while paused are skipped, not owed. */
  pauseSchedule(id: string, options: CallOptions = {}): Promise<Schedule> {
    return this.#json('POST', `/schedules/${segment(id, 'id')}/pause`, { signal: options.signal });
  }

  /** `POST /schedules/{id}/resume`: continues from its next instant. */
  resumeSchedule(id: string, options: CallOptions = {}): Promise<Schedule> {
    return this.#json('POST', `/schedules/${segment(id, 'id')}/resume`, { signal: options.signal });
  }

  /** `POST /schedules/{id}/execute`: runs it now; answers the schedule and the queued `run`. */
  executeSchedule(id: string, options: CallOptions = {}): Promise<ExecutedSchedule> {
    return this.#json('POST', `/schedules/${segment(id, 'id')}/execute`, { signal: options.signal });
  }

  /** `GET /schedules/{id}/runs`: the run history, newest first (each run's job and log). */
  async scheduleRuns(
    id: string,
    params: { limit?: number } = {},
    options: CallOptions = {},
  ): Promise<ScheduleRun[]> {
    const answer = await this.#json<{ runs: ScheduleRun[] }>('GET', `/schedules/${segment(id, 'id')}/runs`, {
      query: query({ limit: params.limit }),
      signal: options.signal,
    });
    return answer.runs;
  }

  // ---- monitors (docs/monitors.md) ------------------------------------------------------------------------

  /** `POST /monitors`: a recurring capture compared with its baseline; `screenshot.changed` to the webhook. */
  createMonitor(input: CreateMonitorInput, options: CallOptions = {}): Promise<Monitor> {
    return this.#json('POST', '/monitors', { body: input, signal: options.signal });
  }

  /** `GET /monitors`: the monitors of the key's project and environment. */
  listMonitors(options: CallOptions = {}): Promise<Monitor[]> {
    return this.#json('GET', '/monitors', { signal: options.signal });
  }

  /** `GET /monitors/{id}`. */
  getMonitor(id: string, options: CallOptions = {}): Promise<Monitor> {
    return this.#json('GET', `/monitors/${segment(id, 'id')}`, { signal: options.signal });
  }

  /** `PATCH /monitors/{id}`: only the fields given change (another url starts a new baseline). */
  updateMonitor(id: string, changes: UpdateMonitorInput, options: CallOptions = {}): Promise<Monitor> {
    return this.#json('PATCH', `/monitors/${segment(id, 'id')}`, { body: changes, signal: options.signal });
  }

  /** `DELETE /monitors/{id}`: the monitor and its runs. */
  async deleteMonitor(id: string, options: CallOptions = {}): Promise<void> {
    await this.#json('DELETE', `/monitors/${segment(id, 'id')}`, { signal: options.signal });
  }

  /** `POST /monitors/{id}/pause`. */
  pauseMonitor(id: string, options: CallOptions = {}): Promise<Monitor> {
    return this.#json('POST', `/monitors/${segment(id, 'id')}/pause`, { signal: options.signal });
  }

  /** `POST /monitors/{id}/resume`. */
  resumeMonitor(id: string, options: CallOptions = {}): Promise<Monitor> {
    return this.#json('POST', `/monitors/${segment(id, 'id')}/resume`, { signal: options.signal });
  }

  /** `POST /monitors/{id}/run`: runs it now and answers the finished run. */
  runMonitor(id: string, options: CallOptions = {}): Promise<MonitorRun> {
    return this.#json('POST', `/monitors/${segment(id, 'id')}/run`, { signal: options.signal });
  }

  /** `GET /monitors/{id}/runs`: newest first. */
  monitorRuns(id: string, params: { limit?: number } = {}, options: CallOptions = {}): Promise<MonitorRun[]> {
    return this.#json('GET', `/monitors/${segment(id, 'id')}/runs`, {
      query: query({ limit: params.limit }),
      signal: options.signal,
    });
  }

  /** `POST /monitors/{id}/runs/{run}/approve`: the pending change becomes the baseline. */
  approveMonitorRun(id: string, run: string, options: CallOptions = {}): Promise<MonitorRun> {
    return this.#json('POST', `/monitors/${segment(id, 'id')}/runs/${segment(run, 'run')}/approve`, {
      signal: options.signal,
    });
  }

  /** `POST /monitors/{id}/runs/{run}/reject`: the baseline stays. */
  rejectMonitorRun(id: string, run: string, options: CallOptions = {}): Promise<MonitorRun> {
    return this.#json('POST', `/monitors/${segment(id, 'id')}/runs/${segment(run, 'run')}/reject`, {
      signal: options.signal,
    });
  }

  /** `GET /monitors/{id}/runs/{run}/image/{before|after|diff}`: the image bytes. */
  monitorRunImage(
    id: string,
    run: string,
    which: 'before' | 'after' | 'diff',
    options: CallOptions = {},
  ): Promise<Buffer> {
    const path = `/monitors/${segment(id, 'id')}/runs/${segment(run, 'run')}/image/${segment(which, 'image')}`;
    return this.#image(path, undefined, options.signal);
  }

  /**
   * `GET /screenshot/compare`: two screenshot logs (their `log_uuid`s) of the key's project and environment
   * compared; `threshold` is the share of changed pixels above which `changed` is true (default 0.001).
   */
  compareScreenshots(
    base: string,
    head: string,
    params: { threshold?: number } = {},
    options: CallOptions = {},
  ): Promise<ScreenshotComparison> {
    return this.#json('GET', '/screenshot/compare', {
      query: query({ base, head, threshold: params.threshold }),
      signal: options.signal,
    });
  }

  /** `GET /screenshot/compare/diff`: the PNG of compareScreenshots' diff (changed pixels highlighted). */
  comparisonDiff(base: string, head: string, options: CallOptions = {}): Promise<Buffer> {
    return this.#image('/screenshot/compare/diff', query({ base, head }), options.signal);
  }

  /** An image route's bytes; a JSON answer (an error) is thrown as the API error it is. */
  #image(
    path: string,
    params: URLSearchParams | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Buffer> {
    return this.#withRetry(signal, async (attemptSignal) => {
      const response = await this.#send('GET', path, {
        accept: 'image/*, application/json',
        signal: attemptSignal,
        ...(params ? { query: params } : {}),
      });
      const headers = headerRecord(response.headers);
      const contentType = headers['content-type'] ?? '';
      if (!response.ok || isJsonContentType(contentType)) {
        throw apiErrorFromResponse(response.status, headers, await readBody(response, contentType));
      }
      return Buffer.from(await response.arrayBuffer());
    });
  }

  // ---- Crawler API (/crawl) ------------------------------------------------------------------------------

  /** Starts a crawl; it runs on the service, read its progress with crawlStatus(). */
  async startCrawl(
    config: CrawlConfig,
    options: CallOptions = {},
  ): Promise<{ crawler_uuid: string; status: string }> {
    return this.#json('POST', '/crawl', { body: config, signal: options.signal });
  }

  async crawlStatus(uuid: string, options: CallOptions = {}): Promise<CrawlStatus> {
    return this.#json('GET', `/crawl/${segment(uuid, 'uuid')}/status`, { signal: options.signal });
  }

  /** One page of a crawl's URLs in a status (visited by default); an empty page is the end. */
  async crawlUrls(
    uuid: string,
    params: { status?: CrawlUrlStatus; page?: number; perPage?: number } = {},
    options: CallOptions = {},
  ): Promise<CrawlUrl[]> {
    const text = await this.#text('GET', `/crawl/${segment(uuid, 'uuid')}/urls`, {
      query: query({ status: params.status, page: params.page, per_page: params.perPage }),
      signal: options.signal,
    });
    return parseCrawlUrls(text);
  }

  /** One visited page's content in a format the crawl stored. */
  async crawlContent(
    uuid: string,
    url: string,
    format: CrawlContentFormat,
    options: CallOptions = {},
  ): Promise<string> {
    return this.#text('GET', `/crawl/${segment(uuid, 'uuid')}/contents`, {
      query: query({ url, formats: format, plain: true }),
      signal: options.signal,
    });
  }

  /** Cancels a crawl (idempotent: a crawl that already ended stays as it is). */
  async cancelCrawl(uuid: string, options: CallOptions = {}): Promise<void> {
    await this.#json('POST', `/crawl/${segment(uuid, 'uuid')}/cancel`, { signal: options.signal });
  }

  /** Saves the crawl's WARC file (gzip, WARC 1.1) to `file`; answers its size in bytes. */
  async saveCrawlWarc(uuid: string, file: string, options: CallOptions = {}): Promise<number> {
    return this.#withRetry(options.signal, async (signal) => {
      const response = await this.#send('GET', `/crawl/${segment(uuid, 'uuid')}/artifact`, {
        query: query({ type: 'warc' }),
        accept: 'application/gzip, application/json',
        signal,
      });
      const headers = headerRecord(response.headers);
      if (!response.ok || isJsonContentType(headers['content-type'] ?? '')) {
        throw apiErrorFromResponse(
          response.status,
          headers,
          await readBody(response, headers['content-type'] ?? ''),
        );
      }
      if (!response.body) throw new SnapwireError('empty answer to the crawl artifact');
      return writeStreamToFile(response.body, file);
    });
  }

  async #text(method: Method, path: string, send: Send): Promise<string> {
    return this.#withRetry(send.signal, async (signal) => {
      const response = await this.#send(method, path, { ...send, accept: '*/*', signal });
      const headers = headerRecord(response.headers);
      if (!response.ok || isJsonContentType(headers['content-type'] ?? '')) {
        const body = await readBody(response, headers['content-type'] ?? '');
        if (!response.ok || isErrorEnvelope(body)) throw apiErrorFromResponse(response.status, headers, body);
        return JSON.stringify(body);
      }
      return response.text();
    });
  }

  // ---- plumbing -----------------------------------------------------------------------------------------

  #resultPath(logUuidOrUrl: string): string {
    if (typeof logUuidOrUrl !== 'string' || logUuidOrUrl === '') throw new TypeError('log uuid is required');
    // A full screenshot URL: keep only its last segment, so the key is never sent to another host.
    const last = logUuidOrUrl.includes('/') ? logUuidOrUrl.split('?')[0]!.split('/').pop()! : logUuidOrUrl;
    return `/screenshot/result/${segment(last, 'log uuid')}`;
  }

  async #saveImage(response: Response, file: string, what: string): Promise<SavedScreenshot> {
    const headers = headerRecord(response.headers);
    const contentType = headers['content-type'] ?? '';
    if (!response.ok || isJsonContentType(contentType)) {
      const body = await readBody(response, contentType);
      if (!response.ok || isErrorEnvelope(body)) throw apiErrorFromResponse(response.status, headers, body);
      throw new SnapwireError(`unexpected JSON answer to ${what} (HTTP ${response.status})`);
    }
    if (!response.body) throw new SnapwireError(`empty answer to ${what}`);
    const size = await writeStreamToFile(response.body, file);
    return { file, size, ...metaOf(headers) };
  }

  /** A JSON call; `withHeaders` adds fields read from the answer's headers to the body. */
  async #json<T>(
    method: Method,
    path: string,
    send: Send,
    withHeaders?: (headers: Record<string, string>) => object,
  ): Promise<T> {
    return this.#withRetry(send.signal, async (signal) => {
      const response = await this.#send(method, path, { ...send, accept: 'application/json', signal });
      const headers = headerRecord(response.headers);
      if (response.status === 204) return undefined as T;
      const body = await readBody(response, headers['content-type'] ?? '');
      if (!response.ok || isErrorEnvelope(body)) throw apiErrorFromResponse(response.status, headers, body);
      if (body === null || typeof body !== 'object') {
        throw new SnapwireError(`unexpected answer to ${method} ${path} (HTTP ${response.status}): not JSON`);
      }
      return (withHeaders ? { ...body, ...withHeaders(headers) } : body) as T;
    });
  }

  async #send(method: Method, path: string, send: Send): Promise<Response> {
    const url = new URL(this.host + path);
    url.searchParams.set('key', this.#key);
    send.query?.forEach((value, name) => url.searchParams.append(name, value));
    const headers: Record<string, string> = {
      accept: send.accept ?? 'application/json',
      'user-agent': this.#userAgent,
    };
    const init: RequestInit = { method, headers };
    if (send.rawBody !== undefined) {
      headers['content-type'] = send.rawBody.contentType;
      if (send.rawBody.contentEncoding) headers['content-encoding'] = send.rawBody.contentEncoding;
      const { bytes } = send.rawBody;
      // A copy on its own ArrayBuffer: what fetch's BodyInit types accept (a Buffer may share a pool).
      init.body = typeof bytes === 'string' ? bytes : new Uint8Array(bytes);
    } else if (send.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(send.body);
    }
    const timeout = this.#timeoutMs > 0 ? AbortSignal.timeout(this.#timeoutMs) : undefined;
    const signal = combineSignals(send.signal, timeout);
    if (signal) init.signal = signal;
    try {
      return await this.#fetch(url, init);
    } catch (error) {
      if (send.signal?.aborted) throw abortReason(send.signal);
      const name = (error as { name?: string } | null)?.name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new SnapwireError(`${method} ${path} timed out after ${this.#timeoutMs} ms`, { cause: error });
      }
      const reason = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
      throw new SnapwireError(
        `${method} ${path} failed: ${reason?.code ?? reason?.message ?? String(error)}`,
        { cause: error },
      );
    }
  }

  async #withRetry<T>(
    signal: AbortSignal | undefined,
    call: (signal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    const { retries, maxDelayMs, baseDelayMs, retryOn, onRetry } = this.#retry;
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw abortReason(signal);
      try {
        return await call(signal);
      } catch (error) {
        if (signal?.aborted) throw abortReason(signal);
        if (!(error instanceof SnapwireApiError) || !error.retryable || attempt >= retries) throw error;
        if (!retryOn(error)) throw error;
        // Retry-After is a floor; repeated refusals back off further (doubling), so many callers
        // told "1 s" do not all come back together forever.
        const askedMs =
          error.retryAfterSeconds !== undefined ? Math.round(error.retryAfterSeconds * 1000) : 0;
        if (askedMs > maxDelayMs) throw error;
        const delayMs = Math.max(askedMs, Math.min(maxDelayMs, baseDelayMs * 2 ** attempt));
        onRetry?.({ attempt: attempt + 1, delayMs, error });
        await sleep(delayMs, signal);
      }
    }
  }
}

function isErrorEnvelope(body: unknown): boolean {
  return body !== null && typeof body === 'object' && 'error_id' in body;
}

/** Parsed JSON when the body is JSON, else its text (first 2,000 characters). */
async function readBody(response: Response, contentType: string): Promise<unknown> {
  const text = await response.text();
  if (isJsonContentType(contentType) || /^\s*[{[]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // fall through: keep the text
    }
  }
  return text.slice(0, 2000);
}

/** Carries a scrape failure past #withRetry untouched (it retries SnapwireApiErrors only). */
class NotRetried {
  constructor(readonly error: ScrapeError) {}
}
