// A small typed client for the Screenshot API (Snapwire or Scrapfly itself: the wire format is the same).
// Node 20's global fetch, no dependencies.

import { Buffer } from 'node:buffer';
import { setTimeout as delay } from 'node:timers/promises';
import { extensionFor, isJsonContentType } from './content-type.js';
import { SnapwireApiError, SnapwireError, apiErrorFromResponse } from './errors.js';
import { buildScreenshotQuery, type ScreenshotParams } from './params.js';

export interface RetryOptions {
  /** How many times a failed call is tried again (0-10). */
  retries: number;
  /**
   * Longest wait before one retry, in ms (default 60,000). When the server's `Retry-After` asks for more,
   * the error is thrown instead: waiting less than asked would only fail again.
   */
  maxDelayMs?: number;
  /** Wait before the first retry when the server sent no `Retry-After`, doubled each time (default 1,000). */
  baseDelayMs?: number;
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
   * `Retry-After`. Off by default. A number is shorthand for `{ retries: n }`.
   */
  retry?: RetryOptions | number | false;
  /** Abort a call after this many ms (default 180,000; 0 = never). Covers the server's 120 s max timeout. */
  timeoutMs?: number;
  userAgent?: string;
  /** Replaces the global fetch (tests, proxies). */
  fetch?: typeof fetch;
}

/** A synchronous screenshot: the image and the metadata headers. */
export interface ScreenshotResult {
  image: Buffer;
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
  /** `X-Scrapfly-Screenshot-Url`: the stored copy (fetch it again with `?key=`). */
  screenshotUrl: string | undefined;
  /** Every response header, names in lower case. */
  headers: Record<string, string>;
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
const MAX_RETRIES = 10;

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

function normaliseRetry(
  retry: SnapwireClientOptions['retry'],
): Required<Omit<RetryOptions, 'onRetry'>> & Pick<RetryOptions, 'onRetry'> {
  const base = typeof retry === 'number' ? { retries: retry } : retry ? retry : { retries: 0 };
  const retries = Math.max(0, Math.min(MAX_RETRIES, Math.floor(Number(base.retries) || 0)));
  return {
    retries,
    maxDelayMs: base.maxDelayMs ?? 60_000,
    baseDelayMs: base.baseDelayMs ?? 1_000,
    onRetry: base.onRetry,
  };
}

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

  /**
   * `GET /screenshot`. Resolves to the image, or, when `webhook_name` is set, to the 201 promise JSON.
   * Throws `SnapwireApiError` (`BadApiKeyError` for 401) on an error envelope or a non-2xx status.
   */
  screenshot(params: ScreenshotParams & { webhook_name: string }): Promise<WebhookEnqueued>;
  screenshot(params: ScreenshotParams & { webhook_name?: undefined }): Promise<ScreenshotResult>;
  screenshot(params: ScreenshotParams): Promise<ScreenshotResult | WebhookEnqueued>;
  async screenshot(params: ScreenshotParams): Promise<ScreenshotResult | WebhookEnqueued> {
    const query = buildScreenshotQuery(params);
    const async = typeof params.webhook_name === 'string' && params.webhook_name !== '';
    return this.#withRetry(async () => {
      const response = await this.#request(
        '/screenshot',
        query,
        async ? 'application/json' : 'image/*, application/pdf, application/json',
      );
      const headers = headerRecord(response.headers);
      const contentType = headers['content-type'] ?? '';
      if (isJsonContentType(contentType) || !response.ok) {
        const body = await readBody(response, contentType);
        if (!response.ok || isErrorEnvelope(body)) throw apiErrorFromResponse(response.status, headers, body);
        if (async && body !== null && typeof body === 'object') return body as WebhookEnqueued;
        throw new SnapwireError(`unexpected JSON answer to a screenshot call (HTTP ${response.status})`);
      }
      const image = Buffer.from(await response.arrayBuffer());
      return {
        image,
        contentType,
        extension: extensionFor(contentType),
        upstreamStatus: num(headers['x-scrapfly-upstream-http-code']),
        upstreamUrl: headers['x-scrapfly-upstream-url'],
        cost: num(headers['x-scrapfly-api-cost']),
        remainingCredit: num(headers['x-scrapfly-remaining-api-credit']),
        logUuid: headers['x-scrapfly-log-uuid'],
        screenshotUrl: headers['x-scrapfly-screenshot-url'],
        headers,
      } satisfies ScreenshotResult;
    });
  }

  /** `GET /account`: account, project and subscription data of the key. */
  async account(): Promise<AccountData> {
    return this.#withRetry(async () => {
      const response = await this.#request('/account', new URLSearchParams(), 'application/json');
      const headers = headerRecord(response.headers);
      const body = await readBody(response, headers['content-type'] ?? '');
      if (!response.ok || isErrorEnvelope(body)) throw apiErrorFromResponse(response.status, headers, body);
      if (body === null || typeof body !== 'object') {
        throw new SnapwireError(`unexpected answer to /account (HTTP ${response.status}): not JSON`);
      }
      return body as AccountData;
    });
  }

  async #request(path: string, query: URLSearchParams, accept: string): Promise<Response> {
    const url = new URL(this.host + path);
    url.searchParams.set('key', this.#key);
    query.forEach((value, name) => url.searchParams.append(name, value));
    const init: RequestInit = {
      method: 'GET',
      headers: { accept, 'user-agent': this.#userAgent },
    };
    if (this.#timeoutMs > 0) init.signal = AbortSignal.timeout(this.#timeoutMs);
    try {
      return await this.#fetch(url, init);
    } catch (error) {
      const name = (error as { name?: string } | null)?.name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new SnapwireError(`GET ${path} timed out after ${this.#timeoutMs} ms`, { cause: error });
      }
      const reason = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
      throw new SnapwireError(`GET ${path} failed: ${reason?.code ?? reason?.message ?? String(error)}`, {
        cause: error,
      });
    }
  }

  async #withRetry<T>(call: () => Promise<T>): Promise<T> {
    const { retries, maxDelayMs, baseDelayMs, onRetry } = this.#retry;
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof SnapwireApiError) || !error.retryable || attempt >= retries) throw error;
        const delayMs =
          error.retryAfterSeconds !== undefined
            ? Math.round(error.retryAfterSeconds * 1000)
            : Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
        if (delayMs > maxDelayMs) throw error;
        onRetry?.({ attempt: attempt + 1, delayMs, error });
        await delay(delayMs);
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
