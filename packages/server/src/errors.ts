/**
 * The one closed catalogue of errors Snapwire answers with (docs/compat.md §2). Every failure anywhere in the
 * service is an ApiError carrying one of these codes; the HTTP layer turns it into Scrapfly's JSON body and
 * X-Scrapfly-Reject-* headers. Engine and store code throw these without knowing about HTTP.
 */

export interface ErrorDefinition {
  httpStatus: number;
  retryable: boolean;
  /** Short, fixed description (sent as X-Scrapfly-Reject-Description). */
  description: string;
  /** Whether the failed attempt is still billed (Scrapfly bills captures that reached the page). */
  billed: boolean;
}

const define = (
  httpStatus: number,
  retryable: boolean,
  billed: boolean,
  description: string,
): ErrorDefinition => ({
  httpStatus,
  retryable,
  billed,
  description,
});

export const ERROR_CATALOGUE = {
  'ERR::SCRAPE::CONFIG_ERROR': define(400, false, false, 'Parameters sent to the API are not valid'),
  'ERR::SCRAPE::BAD_PROTOCOL': define(422, false, false, 'Only http and https URLs can be captured'),
  'ERR::SCRAPE::DOMAIN_NOT_ALLOWED': define(422, false, false, 'The target address is not allowed'),
  'ERR::SCRAPE::DNS_NAME_NOT_RESOLVED': define(422, false, true, 'The domain name could not be resolved'),
  'ERR::SCRAPE::NETWORK_ERROR': define(422, true, true, 'A network error happened while loading the page'),
  'ERR::SCRAPE::SSL_ERROR': define(422, false, true, 'The TLS handshake with the target failed'),
  'ERR::SCRAPE::OPERATION_TIMEOUT': define(504, true, false, 'The capture did not finish within the timeout'),
  'ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND': define(422, false, true, 'The selector matched no element in time'),
  'ERR::SCRAPE::DOM_SELECTOR_INVISIBLE': define(422, false, true, 'The element exists but is not visible'),
  // A bad parameter, found by the browser before the page is loaded: 400 and not billed.
  'ERR::SCRAPE::DOM_SELECTOR_INVALID': define(
    400,
    false,
    false,
    'The selector is not a valid CSS selector or XPath',
  ),
  'ERR::SCRAPE::JAVASCRIPT_EXECUTION': define(
    422,
    false,
    true,
    'The js parameter threw an error in the page',
  ),
  'ERR::SCRAPE::DRIVER_CRASHED': define(422, true, false, 'The browser crashed during the capture'),
  'ERR::SCRAPE::DRIVER_TIMEOUT': define(422, true, false, 'The browser stopped answering'),
  'ERR::SCRAPE::NO_BROWSER_AVAILABLE': define(422, true, false, 'No browser is available right now'),
  'ERR::SCRAPE::QUOTA_LIMIT_REACHED': define(429, false, false, 'The monthly credit quota is used up'),
  // The Web Scraping API (/scrape). BAD_UPSTREAM_RESPONSE travels inside a scrape answer (HTTP 200, as
  // Scrapfly answers it) so that the SDKs raise their upstream errors; the status here is that answer's.
  'ERR::SCRAPE::BAD_UPSTREAM_RESPONSE': define(200, false, true, 'The target answered with an HTTP error'),
  'ERR::SCRAPE::UPSTREAM_RESPONSE_TOO_LARGE': define(
    422,
    false,
    true,
    'The target answered a body larger than the scrape limit',
  ),
  'ERR::SCRAPE::TOO_MANY_REDIRECTS': define(422, false, true, 'The target redirected too many times'),
  'ERR::SCRAPE::FORMAT_NOT_SUPPORTED': define(
    422,
    false,
    true,
    'The asked format cannot be made from this content type',
  ),
  'ERR::SCRAPE::SCENARIO_EXECUTION': define(
    422,
    false,
    true,
    'A js_scenario step failed on the page (the message names it)',
  ),
  'ERR::SESSION::CONCURRENT_ACCESS': define(
    429,
    true,
    false,
    'Another scrape is using this session right now',
  ),
  'ERR::SCRAPE::FEATURE_NOT_SERVED': define(400, false, false, 'This scrape feature is not served here yet'),
  'ERR::PROXY::POOL_NOT_FOUND': define(400, false, false, 'No such proxy pool on this host'),
  'ERR::SCREENSHOT::INVALID_CONTENT_TYPE': define(422, false, true, 'Only text/* documents can be captured'),
  'ERR::SCREENSHOT::UNABLE_TO_TAKE_SCREENSHOT': define(422, true, true, 'The screenshot could not be taken'),
  'ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED': define(429, true, false, 'Too many captures at once'),
  'ERR::THROTTLE::MAX_REQUEST_RATE_EXCEEDED': define(
    429,
    true,
    false,
    'Too many requests in the last minute',
  ),
  'ERR::THROTTLE::MAX_API_CREDIT_BUDGET_EXCEEDED': define(429, true, false, 'The credit budget is exceeded'),
  'ERR::WEBHOOK::NOT_FOUND': define(400, false, false, 'No webhook with this name in this project and env'),
  'ERR::WEBHOOK::DISABLED': define(400, false, false, 'The webhook is disabled'),
  'ERR::WEBHOOK::ENDPOINT_UNREACHABLE': define(422, true, false, 'The webhook endpoint could not be reached'),
  'ERR::WEBHOOK::QUEUE_FULL': define(429, true, false, 'The webhook queue is full'),
  'ERR::WEBHOOK::QUEUE_LIMIT_ZERO': define(
    400,
    false,
    false,
    'The webhook queue limit is 0: it can never accept a job',
  ),
  'ERR::WEBHOOK::MAX_RETRY': define(429, false, false, 'The webhook delivery failed after every retry'),
  'ERR::SCHEDULE::DISABLED': define(400, false, false, 'The schedule is disabled'),
  'ERR::SCHEDULER::NOT_FOUND': define(404, false, false, 'No schedule with this id in this project and env'),
  'ERR::SCHEDULER::INVALID_REQUEST': define(400, false, false, 'The schedule request is not valid'),
  'ERR::SCHEDULER::INVALID_STATE': define(409, false, false, 'The schedule cannot do this in its state'),
  'ERR::SCHEDULER::LIMIT_REACHED': define(429, false, false, 'The project has its maximum of schedules'),
  'ERR::MONITOR::NOT_FOUND': define(
    404,
    false,
    false,
    'No monitor (or run) with this id in this project and env',
  ),
  'ERR::MONITOR::INVALID_REQUEST': define(400, false, false, 'The monitor request is not valid'),
  'ERR::MONITOR::INVALID_STATE': define(409, false, false, 'The monitor or run cannot do this in its state'),
  // The Extraction API (docs/compat.md "Extraction API"). Failures of the caller's document, template or
  // the operator's model answer 4xx (never 5xx: the TypeScript SDK retries every 5xx three times).
  'ERR::EXTRACTION::CONFIG_ERROR': define(
    400,
    false,
    false,
    'Parameters sent to the Extraction API are not valid',
  ),
  'ERR::EXTRACTION::INVALID_RULE': define(
    400,
    false,
    false,
    'A rule of the extraction template is not valid',
  ),
  'ERR::EXTRACTION::TEMPLATE_NOT_FOUND': define(
    404,
    false,
    false,
    'No saved extraction template with this name',
  ),
  'ERR::EXTRACTION::DOCUMENT_TOO_LARGE': define(413, false, false, 'The document is larger than the limit'),
  'ERR::EXTRACTION::CONTENT_TYPE_NOT_SUPPORTED': define(
    422,
    false,
    false,
    'The content type of the document is not supported for extraction',
  ),
  'ERR::EXTRACTION::NO_CONTENT': define(422, false, false, 'The document is empty'),
  'ERR::EXTRACTION::TIMEOUT': define(422, true, false, 'The extraction did not finish within the timeout'),
  'ERR::EXTRACTION::DATA_ERROR': define(422, true, false, 'The language model did not answer usable data'),
  'ERR::EXTRACTION::MODEL_UNAVAILABLE': define(422, true, false, 'The language model could not be reached'),
  // The Crawler API (docs/compat.md §9): a code with ::CRAWLER:: is the SDKs' ScrapflyCrawlerError.
  'ERR::CRAWLER::CONFIG_ERROR': define(400, false, false, 'The crawler configuration is not valid'),
  'ERR::CRAWLER::FEATURE_NOT_SERVED': define(
    400,
    false,
    false,
    'This crawler feature is not served here yet',
  ),
  'ERR::CRAWLER::NOT_FOUND': define(404, false, false, 'No crawler with this uuid in this project and env'),
  'ERR::CRAWLER::CONTENT_NOT_FOUND': define(404, false, false, 'The crawler has no such page or format'),
  // Visual change comparison (compare/, GET /screenshot/compare: a Snapwire extension, docs/compat.md).
  'ERR::COMPARE::CONFIG_ERROR': define(400, false, false, 'The comparison parameters are not valid'),
  'ERR::COMPARE::NOT_AN_IMAGE': define(
    422,
    false,
    false,
    'Only screenshots (png, jpg, webp, gif) can be compared',
  ),
  'ERR::COMPARE::NOT_A_SCREENSHOT': define(
    422,
    false,
    false,
    'The log has no screenshot to compare (another API, failed or pending)',
  ),
  'ERR::COMPARE::IMAGE_TOO_LARGE': define(413, false, false, 'The image is too large to compare'),
  'ERR::COMPARE::IMAGE_GONE': define(410, false, false, 'The screenshot of this log is no longer stored'),
  'ERR::API::UNAUTHORIZED': define(401, false, false, 'The API key is missing or not valid'),
  'ERR::API::NOT_FOUND': define(404, false, false, 'No such resource'),
  'ERR::API::NOT_SERVED': define(404, false, false, 'Snapwire does not serve this Scrapfly product'),
  'ERR::API::CONFLICT': define(409, false, false, 'The resource already exists'),
  'ERR::API::SERVICE_UNAVAILABLE': define(
    503,
    true,
    false,
    'A storage service Snapwire depends on is unreachable; retry shortly',
  ),
  'ERR::API::INTERNAL_ERROR': define(500, false, false, 'Internal error; it has been logged'),
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly definition: ErrorDefinition;
  /** Seconds a client should wait before retrying (sent as Retry-After on retryable errors). */
  readonly retryAfterSeconds: number | undefined;

  /** `reason` is the user-facing sentence that says what to fix. */
  constructor(
    code: ErrorCode,
    reason: string,
    options: { retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(reason, { cause: options.cause });
    this.name = 'ApiError';
    this.code = code;
    this.definition = ERROR_CATALOGUE[code];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get reason(): string {
    return this.message;
  }
}

export const isApiError = (value: unknown): value is ApiError => value instanceof ApiError;

/** This service's own page on an error code (/docs/errors, generated from this catalogue). */
export function errorDocUrl(code: ErrorCode, publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/docs/errors#${code}`;
}

/**
 * Scrapfly's error body. The synchronous API answers it, and an asynchronous job whose capture failed
 * delivers exactly these bytes to its webhook. What the official SDKs make of it decides its shape
 * (docs/compat.md §2, "What an SDK user sees"): `message` is the reason, because the Python SDK's exception
 * message is "<-- status | code - message"; and the keys are in this order, because the TypeScript SDK's
 * exception message is this body serialised as it arrived, so its first words are the code and the reason.
 */
export function errorBody(error: ApiError, errorId: string, publicUrl: string) {
  return {
    code: error.code,
    message: error.reason,
    retryable: error.definition.retryable,
    http_code: error.definition.httpStatus,
    error_id: errorId,
    links: errorLinks(error.code, publicUrl),
    reason: error.reason,
  };
}

/** Links every error body carries (the Python SDK's error formatter reads them): this service's reference. */
export function errorLinks(code: ErrorCode, publicUrl: string): Record<string, string> {
  return { 'Related Error Doc': errorDocUrl(code, publicUrl) };
}

// PostgreSQL SQLSTATEs that mean "the database went away", not "the query was wrong": class 08 (connection
// exception), 57P01-57P03 (terminated by an administrator, crash shutdown, cannot connect now) and 53300
// (too many connections).
const OUTAGE_SQLSTATE = /^(08...|57P0[123]|53300)$/;
const OUTAGE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);
// node-postgres raises these as plain Errors, without a code.
const OUTAGE_MESSAGES = [
  'Connection terminated',
  'connection error and is not queryable',
  'timeout exceeded when trying to connect',
];

/** The database, or the connection to it, went away under a query (not: the query was wrong). */
export function isStoreOutage(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    (typeof code === 'string' && (OUTAGE_SQLSTATE.test(code) || OUTAGE_SOCKET_CODES.has(code))) ||
    OUTAGE_MESSAGES.some((message) => error.message.includes(message))
  );
}

/**
 * The database (or the connection to it) failed under a query: a retryable 503 instead of an internal
 * error, so that a client retries and an asynchronous job waits in the queue instead of failing
 * (docs/deploy.md, Faults: a PostgreSQL restart loses no job).
 */
export function storeOutageToApiError(error: unknown): ApiError | undefined {
  if (!isStoreOutage(error)) return undefined;
  return new ApiError(
    'ERR::API::SERVICE_UNAVAILABLE',
    `A storage service Snapwire depends on did not answer (${error.message}); retry in a moment`,
    { retryAfterSeconds: 5, cause: error },
  );
}
