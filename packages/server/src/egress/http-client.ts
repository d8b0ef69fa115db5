// Over 400 lines as one coherent thing: the guarded HTTP client: resolve-check-pin per hop, redirects,
// cookies across hops, pools per checked address and the failure catalogue share one request loop.
import { Pool, buildConnector } from 'undici';
import { ApiError } from '../errors.js';
import { EgressGuard, EgressRefusedError, NameResolutionError, toApiError } from './guard.js';
import type { ResolvedAddress } from './resolver.js';
import { parseTargetUrl, type TargetUrl } from './target-url.js';
import { connectThroughProxy, TunnelRefusedError } from './tunnel-connect.js';

/**
 * The guarded HTTP client for webhook deliveries. Every hop is resolve-check-pin: the host is resolved once
 * by the egress guard, every address it answered is checked, and the TCP (or TLS) connection goes to the
 * checked address only, with the Host header and TLS server name (SNI and certificate check) still the
 * URL's name. Redirects are followed by hand, hop by hop, each one parsed by the shared URL parser and
 * checked again; never from https to http. Connections are kept alive in bounded pools per (pool key,
 * origin, checked address), so a pooled connection can never carry a request to another address than the
 * one just checked, nor one webhook's request on another webhook's connection.
 *
 * It never throws for anything the network or the receiver does: the result says what happened.
 */

export type DeliveryFailureCode =
  /** The URL (or a redirect's) resolves to an address the egress policy refuses. */
  | 'ADDRESS_REFUSED'
  /** The name could not be resolved. */
  | 'DNS_FAILURE'
  /** The attempt did not finish within its timeout (resolve, connect, headers and body together). */
  | 'TIMEOUT'
  /** Nothing listens at the address (ECONNREFUSED). */
  | 'CONNECTION_REFUSED'
  /** The receiver closed or reset the connection before answering. */
  | 'CONNECTION_RESET'
  /** The TLS handshake failed (certificate not valid for the name, untrusted, expired, ...). */
  | 'TLS_ERROR'
  | 'TOO_MANY_REDIRECTS'
  /** A redirect from https to http. */
  | 'INSECURE_REDIRECT'
  /** A redirect without a usable Location (missing, not a URL, not http(s)). */
  | 'BAD_REDIRECT'
  /** The URL itself is not an http(s) URL. */
  | 'BAD_URL'
  | 'NETWORK_ERROR';

export interface DeliveryFailure {
  code: DeliveryFailureCode;
  /** One sentence for the attempt history, saying what happened and, where it helps, what to change. */
  message: string;
  /** Whether a later attempt could succeed without anyone changing the webhook's configuration. */
  retryable: boolean;
  /** The URL being requested when it failed. */
  url: string;
  hostname?: string;
  /** For ADDRESS_REFUSED: the refused address and its class (loopback, private, ..., denied). */
  address?: string;
  addressClass?: string;
}

export interface DeliveryHop {
  url: string;
  method: string;
  /** The address connected to (the one the guard checked). */
  address?: string;
  status?: number;
  durationMs: number;
}

export interface DeliveryResult {
  /** Status of the final response; undefined when no response was received (see `failure`). */
  status: number | undefined;
  /** Headers of the final response, names lower-case, repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The final response's Set-Cookie lines, one each (joining them with ", " would lose their Expires). */
  setCookies: string[];
  /** The Set-Cookie lines of the redirects followed (30x answers that set cookies), first to last. */
  redirectSetCookies: Array<{ url: string; setCookies: string[] }>;
  /** The first `maxBodyBytes` bytes of the final response body. */
  body: Buffer;
  /** The body had more bytes than were read. */
  bodyTruncated: boolean;
  /** The last URL requested. */
  url: string;
  /** Every request made, first to last (redirects included). */
  hops: DeliveryHop[];
  startedAt: number;
  durationMs: number;
  /** Why there is no final response; undefined when the receiver answered (whatever the status). */
  failure: DeliveryFailure | undefined;
}

export interface GuardedRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** Kept in memory so that it can be sent again on a 301/302/307/308 redirect. */
  body?: Buffer | string;
  /** The whole attempt, all hops included. */
  timeoutMs?: number;
  maxRedirects?: number;
  maxBodyBytes?: number;
  /** Aborts the attempt (shutdown); reported as TIMEOUT. */
  signal?: AbortSignal;
  /**
   * Whose connections to use (a webhook's uuid): requests with different keys never share a connection,
   * so one webhook's slow or failing receiver never touches another's deliveries, even on the same origin.
   */
  poolKey?: string;
  /** Connections this key may open to one origin (a webhook's max_concurrency); at most the client's cap. */
  maxConnections?: number;
  /**
   * Cookies across redirects (a scrape's): each 30x answer's Set-Cookie lines are stored, and every next
   * hop is sent what the jar holds for its URL (the caller's own Cookie header goes to the first origin
   * only, as before). Without it, cookies set by a redirect are not kept.
   */
  cookies?: RedirectCookieJar;
  /**
   * Leave by this HTTP proxy (a country route's loopback listener, egress/country-proxy.ts): every hop is a
   * CONNECT tunnel to the address the guard just checked, never to a name the proxy would resolve again.
   */
  tunnel?: string;
}

/** Where a request's redirect hops keep and find cookies (RFC 6265 matching is the jar's). */
export interface RedirectCookieJar {
  store(setCookies: readonly string[], url: string): void;
  headerFor(url: string): string | undefined;
}

export interface GuardedHttpClientOptions {
  /** Extra trusted certificate authorities (PEM), e.g. an operator's internal CA; tests use it. */
  ca?: string | Buffer | Array<string | Buffer>;
  defaultTimeoutMs?: number;
  defaultMaxRedirects?: number;
  defaultMaxBodyBytes?: number;
  /** Connections one pool key may open to one origin (default 32; a webhook's max_concurrency lowers it). */
  maxConnectionsPerOrigin?: number;
}

export const DEFAULT_DELIVERY_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_REDIRECTS = 5;
export const DEFAULT_MAX_BODY_BYTES = 4_096;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers that carry credentials for one origin and are dropped when a redirect leaves it. */
const ORIGIN_CREDENTIALS = ['authorization', 'cookie', 'proxy-authorization'];

/** A failure that ends the attempt; thrown inside, turned into `DeliveryResult.failure`. */
class HopFailure extends Error {
  constructor(readonly failure: DeliveryFailure) {
    super(failure.message);
  }
}

export class GuardedHttpClient {
  private readonly connector: buildConnector.connector;
  private readonly clients = new Map<string, Pool>();

  constructor(
    private readonly guard: EgressGuard,
    private readonly options: GuardedHttpClientOptions = {},
  ) {
    this.connector = buildConnector({
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      // The attempt's own deadline bounds the connect too; this is only a backstop.
      timeout: options.defaultTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS,
      maxCachedSessions: 0,
    });
  }

  async request(request: GuardedRequest): Promise<DeliveryResult> {
    const startedAt = Date.now();
    const timeoutMs = request.timeoutMs ?? this.options.defaultTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
    const maxRedirects = request.maxRedirects ?? this.options.defaultMaxRedirects ?? DEFAULT_MAX_REDIRECTS;
    const maxBodyBytes = request.maxBodyBytes ?? this.options.defaultMaxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = request.signal ? AbortSignal.any([deadline, request.signal]) : deadline;
    const hops: DeliveryHop[] = [];
    const redirectSetCookies: DeliveryResult['redirectSetCookies'] = [];
    const result = (partial: Partial<DeliveryResult> & { url: string }): DeliveryResult => ({
      status: undefined,
      headers: {},
      setCookies: [],
      redirectSetCookies,
      body: Buffer.alloc(0),
      bodyTruncated: false,
      hops,
      startedAt,
      durationMs: Date.now() - startedAt,
      failure: undefined,
      ...partial,
    });

    let target: TargetUrl;
    try {
      target = parseTargetUrl(request.url, { what: 'webhook url', verb: 'called' });
    } catch (error) {
      return result({
        url: request.url,
        failure: {
          code: 'BAD_URL',
          message: (error as Error).message,
          retryable: false,
          url: request.url,
        },
      });
    }

    let method = (request.method ?? 'POST').toUpperCase();
    let body = request.body;
    const headers = lowerCaseHeaders(request.headers ?? {});
    const firstOrigin = target.url.origin;
    const callerCookie = headers.cookie;
    const jar = request.cookies;
    /** The Cookie header of a hop with a jar: the caller's own on their origin, then the jar's for it. */
    const withJarCookies = (url: URL) => {
      if (!jar) return;
      const cookie = [url.origin === firstOrigin ? callerCookie : undefined, jar.headerFor(url.href)]
        .filter((part) => part !== undefined && part !== '')
        .join('; ');
      if (cookie) headers.cookie = cookie;
      else delete headers.cookie;
    };
    withJarCookies(target.url);
    if ((target.url.username || target.url.password) && headers.authorization === undefined) {
      // Userinfo in a webhook URL is HTTP basic auth for that origin; it never goes into the request line.
      const credentials = decodeUserinfo(target.url);
      if (credentials === undefined) {
        return result({
          url: displayUrl(target.url),
          failure: {
            code: 'BAD_URL',
            message: USERINFO_MESSAGE,
            retryable: false,
            url: displayUrl(target.url),
          },
        });
      }
      headers.authorization = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
    }

    for (let redirects = 0; ; redirects += 1) {
      const hopStarted = Date.now();
      const hop: DeliveryHop = { url: displayUrl(target.url), method, durationMs: 0 };
      hops.push(hop);
      let response: HopResponse;
      try {
        const pinned = await this.pin(target, signal, timeoutMs);
        hop.address = pinned.address;
        response = await this.send(
          target,
          pinned,
          { key: request.poolKey ?? '', maxConnections: request.maxConnections, tunnel: request.tunnel },
          { method, headers, body },
          signal,
          timeoutMs,
          maxBodyBytes,
        );
        hop.status = response.status;
      } catch (error) {
        hop.durationMs = Date.now() - hopStarted;
        const failure =
          error instanceof HopFailure ? error.failure : describeError(error, target, signal, timeoutMs);
        return result({ url: hop.url, failure });
      }
      hop.durationMs = Date.now() - hopStarted;

      const location = decodeLocation(response.headers.location);
      if (!REDIRECTS.has(response.status) || location === undefined) {
        return result({
          url: hop.url,
          status: response.status,
          headers: response.headers,
          setCookies: response.setCookies,
          body: response.body,
          bodyTruncated: response.truncated,
        });
      }
      const redirectFailure = (code: DeliveryFailureCode, message: string, url = hop.url): DeliveryResult =>
        result({
          url: hop.url,
          status: response.status,
          headers: response.headers,
          body: response.body,
          bodyTruncated: response.truncated,
          failure: { code, message, retryable: false, url },
        });
      if (redirects >= maxRedirects) {
        return redirectFailure(
          'TOO_MANY_REDIRECTS',
          `The webhook URL redirected more than ${maxRedirects} times; point the webhook at the final URL`,
        );
      }
      let next: TargetUrl;
      try {
        next = parseTargetUrl(new URL(location, target.url).href, {
          what: `redirect Location from ${hop.url}`,
          verb: 'followed',
        });
      } catch (error) {
        const message =
          error instanceof ApiError
            ? error.message
            : `${hop.url} answered ${response.status} with a Location that is not a URL`;
        return redirectFailure('BAD_REDIRECT', message);
      }
      if (target.url.protocol === 'https:' && next.url.protocol === 'http:') {
        return redirectFailure(
          'INSECURE_REDIRECT',
          `${hop.url} redirected to ${displayUrl(next.url)}: Snapwire never follows a redirect from https to http; point the webhook at an https URL that answers directly`,
          displayUrl(next.url),
        );
      }
      if (next.url.origin !== target.url.origin) {
        for (const name of ORIGIN_CREDENTIALS) delete headers[name];
      }
      if (jar && response.setCookies.length > 0) {
        redirectSetCookies.push({ url: hop.url, setCookies: response.setCookies });
        jar.store(response.setCookies, target.url.href);
      }
      withJarCookies(next.url);
      if (response.status === 303) {
        // "See Other": fetch it with GET, as RFC 9110 says. 301/302/307/308 keep the method and body,
        // so that a moved endpoint still receives the payload it was meant to get.
        method = 'GET';
        body = undefined;
        delete headers['content-type'];
        delete headers['content-length'];
      }
      target = next;
    }
  }

  /** Resolves and checks the hop's host within the attempt's deadline. */
  private async pin(target: TargetUrl, signal: AbortSignal, timeoutMs: number): Promise<ResolvedAddress> {
    signal.throwIfAborted();
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([this.guard.pin(target.hostname), aborted]);
    } catch (error) {
      if (error instanceof EgressRefusedError) {
        const literal = target.isIp;
        throw new HopFailure({
          code: 'ADDRESS_REFUSED',
          message: error.message,
          retryable: !literal,
          url: displayUrl(target.url),
          hostname: target.hostname,
          address: error.address,
          addressClass: error.addressClass,
        });
      }
      if (error instanceof NameResolutionError) {
        throw new HopFailure({
          code: 'DNS_FAILURE',
          message: `The host name ${target.hostname} could not be resolved (${errorCode(error.cause) ?? 'no address'})`,
          retryable: true,
          url: displayUrl(target.url),
          hostname: target.hostname,
        });
      }
      throw describeError(error, target, signal, timeoutMs, 'resolving');
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
      aborted.catch(() => {});
    }
  }

  /** One request on a fresh connection to the pinned address; reads at most `maxBodyBytes` of the body. */
  private async send(
    target: TargetUrl,
    pinned: ResolvedAddress,
    pool: { key: string; maxConnections: number | undefined; tunnel: string | undefined },
    request: { method: string; headers: Record<string, string>; body: Buffer | string | undefined },
    signal: AbortSignal,
    timeoutMs: number,
    maxBodyBytes: number,
  ): Promise<HopResponse> {
    const client = this.clientFor(target, pinned, pool);
    try {
      const answer = await client.request({
        path: `${target.url.pathname}${target.url.search}`,
        method: request.method as 'POST',
        headers: request.headers,
        body: request.body ?? null,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      try {
        for await (const chunk of answer.body) {
          const buffer = chunk as Buffer;
          if (size + buffer.length > maxBodyBytes) {
            chunks.push(buffer.subarray(0, maxBodyBytes - size));
            size = maxBodyBytes;
            truncated = true;
            break;
          }
          chunks.push(buffer);
          size += buffer.length;
        }
      } catch {
        // The receiver answered; a body cut short (reset, timeout) does not change what it answered.
        truncated = true;
      } finally {
        answer.body.destroy();
      }
      const setCookie = answer.headers['set-cookie'];
      return {
        status: answer.statusCode,
        headers: flattenHeaders(answer.headers),
        setCookies: setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie],
        body: Buffer.concat(chunks),
        truncated,
      };
    } catch (error) {
      // undici drops a connection that failed mid-request by itself; the pool (this key's other
      // connections, and every other key's pools) goes on untouched.
      throw error;
    }
  }

  /**
   * Keep-alive connection pools, one per (pool key, origin, checked address), each bounded. A connection is
   * only ever reused for the very address the guard has just checked again for this hop, so reuse cannot
   * carry a request to an address that was not checked; what it saves is a TCP (and TLS) handshake per
   * delivery. Keys keep tenants apart: a receiver that drips its answer holds only its own webhook's
   * connections.
   */
  private clientFor(
    target: TargetUrl,
    pinned: ResolvedAddress,
    pool: { key: string; maxConnections: number | undefined; tunnel: string | undefined },
  ): Pool {
    const key = `${pool.key}|${target.url.origin}|${pinned.address}|${pool.tunnel ?? ''}`;
    const cached = this.clients.get(key);
    if (cached && !cached.destroyed && !cached.closed) {
      this.clients.delete(key);
      this.clients.set(key, cached);
      return cached;
    }
    const connector = this.connector;
    const servername = target.isIp ? undefined : target.hostname;
    const cap = this.options.maxConnectionsPerOrigin ?? DEFAULT_CONNECTIONS_PER_ORIGIN;
    const tunnel = pool.tunnel;
    const authority = `${pinned.address.includes(':') ? `[${pinned.address}]` : pinned.address}:${target.port}`;
    const client = new Pool(target.url.origin, {
      connect: tunnel
        ? (_options, callback) => {
            connectThroughProxy(tunnel, authority, {
              ...(target.url.protocol === 'https:'
                ? {
                    tls: {
                      ...(servername ? { servername } : {}),
                      ...(this.options.ca !== undefined ? { ca: this.options.ca } : {}),
                    },
                  }
                : {}),
              timeoutMs: this.options.defaultTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS,
            }).then(
              (socket) => callback(null, socket),
              (error: Error) => callback(error, null),
            );
          }
        : (options, callback) => {
            // Only the address changes: Host header, SNI and certificate check keep the URL's name.
            connector(
              { ...options, hostname: pinned.address, ...(servername ? { servername } : {}) },
              callback,
            );
          },
      connections: Math.max(1, Math.min(cap, pool.maxConnections ?? cap)),
      keepAliveTimeout: 4_000,
      pipelining: 1,
    });
    this.clients.set(key, client);
    if (this.clients.size > MAX_CACHED_CLIENTS) {
      const [oldestKey, oldest] = this.clients.entries().next().value as [string, Pool];
      this.clients.delete(oldestKey);
      // close() lets requests in flight finish first.
      void oldest.close().catch(() => {});
    }
    return client;
  }

  /** Closes every kept-alive connection (shutdown). */
  async close(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(clients.map((client) => client.destroy()));
  }
}

const DEFAULT_CONNECTIONS_PER_ORIGIN = 32;
const MAX_CACHED_CLIENTS = 256;

interface HopResponse {
  status: number;
  headers: Record<string, string>;
  setCookies: string[];
  body: Buffer;
  truncated: boolean;
}

/**
 * Checks a webhook URL when a webhook is created or updated: the shared parser (http(s) only), then the
 * egress guard on every address the name resolves to. Throws the catalogue error a user should see:
 * ERR::SCRAPE::BAD_PROTOCOL / CONFIG_ERROR for a URL that is not http(s), ERR::SCRAPE::DOMAIN_NOT_ALLOWED
 * (naming the address class and the setting that would allow it) for a refused address, and
 * ERR::SCRAPE::DNS_NAME_NOT_RESOLVED for a name that does not resolve. Returns the parsed URL.
 */
export async function checkWebhookUrl(url: string, guard: EgressGuard): Promise<TargetUrl> {
  const target = parseTargetUrl(url, { what: 'webhook url', verb: 'called' });
  if ((target.url.username || target.url.password) && decodeUserinfo(target.url) === undefined) {
    throw new ApiError('ERR::SCRAPE::CONFIG_ERROR', USERINFO_MESSAGE);
  }
  try {
    await guard.pin(target.hostname);
  } catch (error) {
    const mapped = toApiError(error, 'webhook url');
    if (mapped instanceof ApiError && mapped.code === 'ERR::SCRAPE::DOMAIN_NOT_ALLOWED') {
      throw new ApiError(
        'ERR::SCRAPE::DOMAIN_NOT_ALLOWED',
        `${mapped.message}. Webhooks cannot target localhost, private or other internal addresses`,
        { cause: error },
      );
    }
    throw mapped;
  }
  return target;
}

const USERINFO_MESSAGE =
  'The webhook url has a malformed percent-escape in its user name or password; write a % as %25';

/** The URL's user and password, percent-decoded; undefined when an escape is malformed. */
function decodeUserinfo(url: URL): { user: string; password: string } | undefined {
  try {
    return { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  } catch {
    return undefined;
  }
}

/**
 * Header values arrive as latin1; a Location holding raw UTF-8 (an IDN host, say) is read as UTF-8, as
 * Chromium reads it, so that the shared parser sees the same URL the browser would.
 */
function decodeLocation(value: string | undefined): string | undefined {
  if (value === undefined || !/[\u0080-\u00ff]/.test(value)) return value;
  const decoded = Buffer.from(value, 'latin1').toString('utf8');
  return decoded.includes('\ufffd') ? value : decoded;
}

function lowerCaseHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The URL without userinfo, for results and messages (a password must not land in the attempt log). */
function displayUrl(url: URL): string {
  if (!url.username && !url.password) return url.href;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

function errorCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const TLS_CODES =
  /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|ERR_OSSL_)/;

function describeError(
  error: unknown,
  target: TargetUrl,
  signal: AbortSignal,
  timeoutMs: number,
  during = 'calling',
): DeliveryFailure {
  const url = displayUrl(target.url);
  const base = { url, hostname: target.hostname };
  const code = errorCode(error);
  if (
    signal.aborted ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'ETIMEDOUT' ||
    (error as Error)?.name === 'TimeoutError'
  ) {
    return {
      ...base,
      code: 'TIMEOUT',
      message: `No complete answer from ${url} within ${timeoutMs} ms (${during})`,
      retryable: true,
    };
  }
  if (
    error instanceof TunnelRefusedError ||
    (error as { cause?: unknown })?.cause instanceof TunnelRefusedError
  ) {
    const refused =
      error instanceof TunnelRefusedError ? error : (error as { cause: TunnelRefusedError }).cause;
    return {
      ...base,
      code: 'NETWORK_ERROR',
      message: `${url} could not be reached through the country egress proxy (${refused.statusLine})`,
      retryable: true,
    };
  }
  if (code === 'ECONNREFUSED') {
    return {
      ...base,
      code: 'CONNECTION_REFUSED',
      message: `${target.hostname}:${target.port} refused the connection (nothing listens there)`,
      retryable: true,
    };
  }
  if (code !== undefined && TLS_CODES.test(code)) {
    return {
      ...base,
      code: 'TLS_ERROR',
      message: `The TLS handshake with ${target.hostname}:${target.port} failed: ${code} (${firstLine(error)})`,
      retryable: true,
    };
  }
  if (
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'UND_ERR_SOCKET' ||
    code === 'UND_ERR_CLOSED' ||
    code === 'ECONNABORTED'
  ) {
    return {
      ...base,
      code: 'CONNECTION_RESET',
      message: `${target.hostname}:${target.port} closed the connection before answering (${code})`,
      retryable: true,
    };
  }
  return {
    ...base,
    code: 'NETWORK_ERROR',
    message: `Calling ${url} failed: ${code ?? firstLine(error)}`,
    retryable: true,
  };
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0] ?? '';
}
