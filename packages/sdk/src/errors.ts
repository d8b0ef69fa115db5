// Typed errors of the client. The shape follows Scrapfly's error envelope (docs/compat.md §2):
// `{code, error_id, http_code, links: {"Related Error Doc": url}, message, reason, retryable}` plus the
// `X-Scrapfly-Reject-*` headers and `Retry-After`. Whatever the body lacks is taken from the headers, so a
// bare status from a proxy in front of the API still becomes a useful error.

/** Base class of every error the SDK throws on purpose (bad responses, network failures, timeouts). */
export class SnapwireError extends Error {
  override name = 'SnapwireError';
}

export interface SnapwireApiErrorInit {
  code: string;
  httpStatus: number;
  retryable: boolean;
  reason?: string | undefined;
  errorId?: string | undefined;
  docUrl?: string | undefined;
  retryAfterSeconds?: number | undefined;
  /** The parsed JSON body, or the text of a non-JSON body (cut to 2,000 characters). */
  body?: unknown;
  headers?: Record<string, string>;
}

/** The API answered with an error envelope (a JSON body holding `error_id`) or a non-2xx status. */
export class SnapwireApiError extends SnapwireError {
  override name = 'SnapwireApiError';
  /** `ERR::…` code, e.g. `ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED`; `HTTP_<status>` when none was given. */
  readonly code: string;
  readonly httpStatus: number;
  /** Whether the same request may succeed later (the server's `retryable`). */
  readonly retryable: boolean;
  readonly reason: string | undefined;
  readonly errorId: string | undefined;
  /** Link to the error's documentation (`links["Related Error Doc"]` or `X-Scrapfly-Reject-Doc`). */
  readonly docUrl: string | undefined;
  /** `Retry-After` in seconds, when the server sent one. */
  readonly retryAfterSeconds: number | undefined;
  readonly body: unknown;
  readonly headers: Record<string, string>;

  constructor(message: string, init: SnapwireApiErrorInit) {
    super(message);
    this.code = init.code;
    this.httpStatus = init.httpStatus;
    this.retryable = init.retryable;
    this.reason = init.reason;
    this.errorId = init.errorId;
    this.docUrl = init.docUrl;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.body = init.body;
    this.headers = init.headers ?? {};
  }
}

/** HTTP 401: the API key is missing, unknown or revoked. Never retryable. */
export class BadApiKeyError extends SnapwireApiError {
  override name = 'BadApiKeyError';
}

/** An `ERR::EXTRACTION::…` error: a bad template or rule, a document refused, the model failing. */
export class ExtractionError extends SnapwireApiError {
  override name = 'ExtractionError';
}

/** 404 `ERR::EXTRACTION::TEMPLATE_NOT_FOUND`: no saved template of that name in the key's project and environment. */
export class TemplateNotFoundError extends ExtractionError {
  override name = 'TemplateNotFoundError';
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value == null) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

// Statuses that say "try again later" even when the body carries no `retryable` flag (e.g. a bare 503
// from a reverse proxy). 504 is left out: for a `webhook_name` call it may hide a job that was enqueued.
const RETRYABLE_BARE_STATUSES = new Set([429, 502, 503]);

/**
 * Builds the typed error for an error response. `body` is the parsed JSON object when the response was
 * JSON, else the (shortened) text.
 */
export function apiErrorFromResponse(
  status: number,
  headers: Record<string, string>,
  body: unknown,
): SnapwireApiError {
  const json = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : undefined;
  const links =
    json?.links !== null && typeof json?.links === 'object' ? (json.links as Record<string, unknown>) : {};
  const bodyHttpCode = typeof json?.http_code === 'number' ? json.http_code : undefined;
  // A 2xx carrying an error envelope: the envelope's own http_code is the truth.
  const httpStatus = status >= 200 && status < 300 && bodyHttpCode !== undefined ? bodyHttpCode : status;
  const headerRetryable = headers['x-scrapfly-reject-retryable'];
  const retryable =
    typeof json?.retryable === 'boolean'
      ? json.retryable
      : headerRetryable !== undefined
        ? headerRetryable.toLowerCase() === 'true'
        : RETRYABLE_BARE_STATUSES.has(httpStatus);
  const code = str(json?.code) ?? str(headers['x-scrapfly-reject-code']) ?? `HTTP_${httpStatus}`;
  const reason = str(json?.reason);
  const message =
    str(json?.message) ??
    str(headers['x-scrapfly-reject-description']) ??
    reason ??
    (typeof body === 'string' && body.trim() !== '' ? body.trim().slice(0, 200) : `HTTP ${httpStatus}`);
  const init: SnapwireApiErrorInit = {
    code,
    httpStatus,
    retryable: httpStatus === 401 ? false : retryable,
    reason,
    errorId: str(json?.error_id) ?? str(headers['x-scrapfly-reject-id']),
    docUrl: str(links['Related Error Doc']) ?? str(headers['x-scrapfly-reject-doc']),
    retryAfterSeconds: parseRetryAfter(headers['retry-after']),
    body,
    headers,
  };
  const text = `${code}: ${message}`;
  if (httpStatus === 401 || status === 401) return new BadApiKeyError(text, init);
  if (code === 'ERR::EXTRACTION::TEMPLATE_NOT_FOUND') return new TemplateNotFoundError(text, init);
  if (code.startsWith('ERR::EXTRACTION::')) return new ExtractionError(text, init);
  return new SnapwireApiError(text, init);
}
