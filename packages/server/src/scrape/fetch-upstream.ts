import zlib from 'node:zlib';
import { ApiError } from '../errors.js';
import type { DeliveryFailure, GuardedHttpClient, RedirectCookieJar } from '../egress/http-client.js';
import type { ScrapeRequest } from '../request/scrape-request.js';

/**
 * A scrape without a browser: one HTTP request through the egress guard's client (resolve, check, pin,
 * every redirect checked again; credentials dropped when a redirect leaves the origin), with the caller's
 * method, headers, cookies and body. Chromium is never involved.
 */

export interface UpstreamAnswer {
  status: number;
  /** Final response headers, names lower-case. */
  headers: Record<string, string>;
  setCookies: string[];
  /** The Set-Cookie lines of the redirects followed, with the URL that set them. */
  redirectSetCookies: Array<{ url: string; setCookies: string[] }>;
  /** The body, decompressed when the target compressed it. */
  body: Buffer;
  /** The last URL requested (after redirects). */
  url: string;
  /** The headers Snapwire sent to the target (the first hop's). */
  requestHeaders: Record<string, string>;
  /** The address connected to on the last hop. */
  address: string | undefined;
}

/** What a browser-like client sends when the caller sets nothing (the target sees a plain client). */
const DEFAULT_HEADERS: Record<string, string> = {
  'user-agent': 'Mozilla/5.0 (compatible; Snapwire; +https://github.com/snapwire)',
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
};

export async function fetchUpstream(
  client: GuardedHttpClient,
  request: ScrapeRequest,
  limits: { maxBodyBytes: number; maxRedirects: number; poolKey: string; tunnel?: string },
  /** The call's cookies (its session's, or its own): kept across redirects, sent to each hop's URL. */
  cookies?: RedirectCookieJar,
): Promise<UpstreamAnswer> {
  const requestHeaders = { ...DEFAULT_HEADERS, ...request.headers };
  if (requestHeaders['accept-encoding'] === undefined)
    requestHeaders['accept-encoding'] = 'gzip, deflate, br';
  // What the first hop carries, as the result's request_headers say (the client adds the same: the jar's
  // cookies for the URL after the caller's own); read before the redirects add theirs.
  const jarCookie = cookies?.headerFor(request.url);
  const sentHeaders = { ...requestHeaders };
  if (jarCookie) sentHeaders.cookie = sentHeaders.cookie ? `${sentHeaders.cookie}; ${jarCookie}` : jarCookie;
  const result = await client.request({
    url: request.url,
    method: request.method,
    headers: requestHeaders,
    ...(request.body ? { body: request.body } : {}),
    timeoutMs: request.timeoutMs,
    maxRedirects: limits.maxRedirects,
    // One byte over the cap tells "exactly at the cap" from "over it".
    maxBodyBytes: limits.maxBodyBytes + 1,
    poolKey: limits.poolKey,
    ...(limits.tunnel ? { tunnel: limits.tunnel } : {}),
    ...(cookies ? { cookies } : {}),
  });
  if (result.failure) throw failureToApiError(result.failure, request, limits.maxRedirects);
  if (result.status === undefined) {
    throw new ApiError('ERR::SCRAPE::NETWORK_ERROR', `${request.url} gave no answer`, {
      retryAfterSeconds: 1,
    });
  }
  const tooLarge = () =>
    new ApiError(
      'ERR::SCRAPE::UPSTREAM_RESPONSE_TOO_LARGE',
      `${result.url} answered more than ${limits.maxBodyBytes} bytes, the limit of this host (SNAPWIRE_SCRAPE_MAX_BODY_BYTES); scrape a smaller resource or ask the operator to raise it`,
    );
  if (result.body.length > limits.maxBodyBytes) throw tooLarge();
  // Cut short below the cap: the target stalled past the timeout or dropped the connection mid-body. A
  // webhook delivery only needs the status; a scrape that answered part of a page would be a wrong page.
  if (result.bodyTruncated) {
    const stalled = result.durationMs >= request.timeoutMs - 50;
    throw stalled
      ? new ApiError(
          'ERR::SCRAPE::OPERATION_TIMEOUT',
          `${result.url} answered ${result.body.length} bytes of its body, then nothing more within timeout=${request.timeoutMs} ms; raise the timeout parameter or check that the site is up`,
          { retryAfterSeconds: 1 },
        )
      : new ApiError(
          'ERR::SCRAPE::NETWORK_ERROR',
          `${result.url} closed the connection after ${result.body.length} bytes of its body, before the end; the page was not scraped (try again)`,
          { retryAfterSeconds: 1 },
        );
  }
  const body = decompress(result.body, result.headers['content-encoding'], limits.maxBodyBytes, tooLarge);
  const headers = { ...result.headers };
  if (body !== result.body) {
    // What the caller receives is the decoded body: the encoding and length no longer describe it.
    delete headers['content-encoding'];
    delete headers['content-length'];
  }
  return {
    status: result.status,
    headers,
    setCookies: result.setCookies,
    redirectSetCookies: result.redirectSetCookies,
    body,
    url: result.url,
    requestHeaders: sentHeaders,
    address: result.hops.at(-1)?.address,
  };
}

function decompress(
  body: Buffer,
  encoding: string | undefined,
  maxBytes: number,
  tooLarge: () => ApiError,
): Buffer {
  const name = encoding?.trim().toLowerCase();
  if (!name || name === 'identity' || body.length === 0) return body;
  // maxOutputLength stops a small compressed body from expanding past the cap (a zip bomb).
  const options = { maxOutputLength: maxBytes + 1 };
  try {
    let out: Buffer;
    if (name === 'gzip' || name === 'x-gzip') out = zlib.gunzipSync(body, options);
    else if (name === 'br') out = zlib.brotliDecompressSync(body, options);
    else if (name === 'deflate') {
      try {
        out = zlib.inflateSync(body, options);
      } catch {
        out = zlib.inflateRawSync(body, options);
      }
    } else return body;
    if (out.length > maxBytes) throw tooLarge();
    return out;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    throw new ApiError(
      'ERR::SCRAPE::NETWORK_ERROR',
      `The target's ${name}-encoded body could not be decoded (${(error as Error).message})`,
      { retryAfterSeconds: 1 },
    );
  }
}

/** The guarded client's failure as the catalogue error a scraper sees (the same codes /screenshot uses). */
function failureToApiError(failure: DeliveryFailure, request: ScrapeRequest, maxRedirects: number): ApiError {
  switch (failure.code) {
    case 'ADDRESS_REFUSED':
      return new ApiError(
        'ERR::SCRAPE::DOMAIN_NOT_ALLOWED',
        failure.url === request.url
          ? `The url parameter is refused: ${failure.message}`
          : `The page led to a refused address (${failure.url}): ${failure.message}`,
      );
    case 'DNS_FAILURE':
      return new ApiError(
        'ERR::SCRAPE::DNS_NAME_NOT_RESOLVED',
        `The host name ${failure.hostname ?? ''} could not be resolved; check the spelling of the url parameter`,
      );
    case 'TIMEOUT':
      return new ApiError(
        'ERR::SCRAPE::OPERATION_TIMEOUT',
        `The target did not answer completely within timeout=${request.timeoutMs} ms; raise the timeout parameter or check that the site is up`,
        { retryAfterSeconds: 1 },
      );
    case 'TLS_ERROR':
      return new ApiError('ERR::SCRAPE::SSL_ERROR', failure.message);
    case 'TOO_MANY_REDIRECTS':
      return new ApiError(
        'ERR::SCRAPE::TOO_MANY_REDIRECTS',
        `The target redirected more than ${maxRedirects} times (SNAPWIRE_SCRAPE_MAX_REDIRECTS), last at ${failure.url}; scrape the final URL or check for a redirect loop`,
      );
    case 'INSECURE_REDIRECT':
      return new ApiError(
        'ERR::SCRAPE::NETWORK_ERROR',
        `The target redirected from https to http (${failure.url}), which Snapwire does not follow without a browser; scrape the http URL directly or use render_js=true`,
      );
    case 'BAD_REDIRECT':
    case 'BAD_URL':
      return new ApiError('ERR::SCRAPE::NETWORK_ERROR', failure.message);
    default:
      return new ApiError('ERR::SCRAPE::NETWORK_ERROR', `Loading ${failure.url} failed: ${failure.message}`, {
        retryAfterSeconds: 1,
      });
  }
}
