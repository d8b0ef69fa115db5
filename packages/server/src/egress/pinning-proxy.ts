import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { EgressGuard, EgressRefusedError, NameResolutionError } from './guard.js';

/** Headers the proxy puts on the answers it makes itself, so the capture can tell why a load failed. */
export const EGRESS_ERROR_HEADER = 'x-snapwire-egress-error';
export const EGRESS_REASON_HEADER = 'x-snapwire-egress-reason';
/**
 * The proxy's own answers carry its listener's secret in this header; only an answer carrying it is a
 * verdict. A page cannot forge one: upstream answers lose every x-snapwire-* header on the way through
 * (plain http), and an https page, which the proxy cannot rewrite, does not know the secret.
 */
export const EGRESS_TOKEN_HEADER = 'x-snapwire-egress-token';

/** A fresh secret for one listener's own answers. */
export function newAnswerSecret(): string {
  return randomBytes(18).toString('base64url');
}

/** Whether `headers` (names any case) carry `secret` in EGRESS_TOKEN_HEADER. */
export function carriesSecret(headers: Record<string, unknown>, secret: string): boolean {
  let value: unknown;
  for (const [name, v] of Object.entries(headers)) if (name.toLowerCase() === EGRESS_TOKEN_HEADER) value = v;
  if (typeof value !== 'string') return false;
  const left = Buffer.from(value);
  const right = Buffer.from(secret);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Headers of an upstream answer as the page may see them: hop-by-hop and every x-snapwire-* removed. */
export function upstreamAnswerHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && !name.startsWith('x-snapwire-') && value !== undefined) out[name] = value;
  }
  return out;
}

export type EgressFailureKind =
  | 'DOMAIN_NOT_ALLOWED'
  | 'DNS_NAME_NOT_RESOLVED'
  | 'NETWORK_ERROR'
  | 'BAD_PROTOCOL'
  /** A service worker's script: never fetched (see forward()). */
  | 'SERVICE_WORKER_BLOCKED';

export interface EgressFailure {
  kind: EgressFailureKind;
  hostname: string;
  /** The URL (plain http) or authority (CONNECT) that was asked for. */
  target: string;
  reason: string;
  /** For DOMAIN_NOT_ALLOWED: the class of the refused address (loopback, private, ..., denied). */
  addressClass?: string;
  at: number;
}

/** How long the proxy waits for a TCP connection to a checked address before answering 502. */
export const UPSTREAM_CONNECT_TIMEOUT_MS = 30_000;
/** Failures kept per session (the count goes on; only the list is bounded). */
const MAX_FAILURES_KEPT = 200;

// Hop-by-hop headers (RFC 9110 §7.6.1) are a proxy's own business and never forwarded.
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * What one browser context did through the proxy: a session is a listener of its own, so every request
 * that arrives on it belongs to that context (a page, its iframes, workers and websockets), and refused
 * subresources can be counted per capture.
 */
export interface ProxySession {
  /** `http://127.0.0.1:PORT`: give it to the browser context as its proxy server. */
  readonly server: string;
  /** Requests refused by the egress policy (DOMAIN_NOT_ALLOWED) so far. */
  readonly refusedCount: number;
  /** Failures in order (refused, unresolvable, unreachable), the first MAX_FAILURES_KEPT of them. */
  readonly failures: readonly EgressFailure[];
  /** The last failure for a host name: how a failed HTTPS tunnel is explained to the user. */
  failureFor(hostname: string): EgressFailure | undefined;
  /** Whether a response (its headers) is this session's own proxy answer, i.e. a verdict to trust. */
  isOwnAnswer(headers: Record<string, unknown>): boolean;
  /**
   * The most recent failure of this session, whatever its host. A session belongs to one page, so when its
   * navigation fails with a bare net::ERR_TUNNEL_CONNECTION_FAILED after a redirect to another host, this
   * is the refusal that explains it (failureFor(original host) knows nothing of the redirect's host).
   */
  readonly lastFailure: EgressFailure | undefined;
  close(): Promise<void>;
}

/** Counts and remembers the failures of one listener (and passes them up to the whole proxy). */
export class Recorder {
  refusedCount = 0;
  readonly failures: EgressFailure[] = [];
  last: EgressFailure | undefined;
  private readonly byHost = new Map<string, EgressFailure>();

  constructor(private readonly parent?: Recorder) {}

  add(failure: EgressFailure): void {
    if (failure.kind === 'DOMAIN_NOT_ALLOWED') this.refusedCount += 1;
    this.last = failure;
    if (this.failures.length < MAX_FAILURES_KEPT) this.failures.push(failure);
    const key = failure.hostname.toLowerCase();
    this.byHost.delete(key);
    this.byHost.set(key, failure);
    if (this.byHost.size > 1000) {
      const oldest = this.byHost.keys().next().value;
      if (oldest !== undefined) this.byHost.delete(oldest);
    }
    this.parent?.add(failure);
  }

  failureFor(hostname: string, maxAgeMs = 60_000): EgressFailure | undefined {
    const failure = this.byHost.get(
      hostname
        .toLowerCase()
        .replace(/^\[|\]$/g, '')
        .replace(/\.+$/, ''),
    );
    return failure && Date.now() - failure.at < maxAgeMs ? failure : undefined;
  }
}

/** One loopback listener of the proxy and the sockets it accepted. */
class Listener {
  readonly server: http.Server;
  readonly secret = newAnswerSecret();
  private readonly sockets = new Set<net.Socket>();
  url = '';

  constructor(proxy: PinningProxy, recorder: Recorder) {
    const server = http.createServer((req, res) => void proxy.forward(req, res, recorder, this.secret));
    server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      void proxy.tunnel(req, socket, head, recorder);
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      void proxy.upgrade(req, socket, head, recorder);
    });
    server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('clientError', (_error, socket) => socket.destroy());
    this.server = server;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A forward proxy on loopback that Chromium sends every request through (`--proxy-server`, or a session's
 * own listener per browser context). For each request it resolves the host itself, checks every address
 * with the egress guard and connects only to the address it checked, so DNS rebinding cannot swap the
 * address between check and connect, and Chromium never resolves a name itself. Plain HTTP is forwarded
 * (a redirect comes back to Chromium, whose next hop is a new request here, checked again); HTTPS and
 * websockets are tunnelled (CONNECT); a plain-HTTP websocket upgrade is forwarded the same way. Anything
 * but http(s) and ws(s) is refused.
 */
export class PinningProxy {
  private main: Listener | undefined;
  private readonly sessions = new Set<Listener>();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly recorder = new Recorder();

  constructor(
    private readonly guard: EgressGuard,
    private readonly onFailure: (failure: EgressFailure) => void = () => {},
  ) {}

  /** Requests refused since start, over every session (for metrics and logs). */
  get refusedCount(): number {
    return this.recorder.refusedCount;
  }

  async start(): Promise<string> {
    const listener = new Listener(this, this.recorder);
    const url = await listener.listen();
    this.main = listener;
    return url;
  }

  /** A listener of its own for one browser context; close it when the context is closed. */
  async openSession(): Promise<ProxySession> {
    const recorder = new Recorder(this.recorder);
    const listener = new Listener(this, recorder);
    const server = await listener.listen();
    this.sessions.add(listener);
    return {
      server,
      get refusedCount() {
        return recorder.refusedCount;
      },
      get failures() {
        return recorder.failures;
      },
      get lastFailure() {
        return recorder.last;
      },
      failureFor: (hostname) => recorder.failureFor(hostname),
      isOwnAnswer: (headers) => carriesSecret(headers, listener.secret),
      close: async () => {
        this.sessions.delete(listener);
        await listener.close();
      },
    };
  }

  async stop(): Promise<void> {
    const listeners = [...this.sessions, ...(this.main ? [this.main] : [])];
    this.sessions.clear();
    this.main = undefined;
    await Promise.all(listeners.map((listener) => listener.close()));
    this.agent.destroy();
  }

  /**
   * The last failure for a host in the last minute, over every session. Prefer a session's own
   * failureFor(): with concurrent captures this one may answer another capture's failure for the same host.
   */
  failureFor(hostname: string): EgressFailure | undefined {
    return this.recorder.failureFor(hostname);
  }

  /** Whether a response is an answer of this proxy's main listener or of one of its open sessions. */
  isOwnAnswer(headers: Record<string, unknown>): boolean {
    return [...this.sessions, ...(this.main ? [this.main] : [])].some((listener) =>
      carriesSecret(headers, listener.secret),
    );
  }

  private record(
    recorder: Recorder,
    kind: EgressFailureKind,
    hostname: string,
    target: string,
    reason: string,
    addressClass?: string,
  ): EgressFailure {
    const failure: EgressFailure = { kind, hostname, target, reason, at: Date.now() };
    if (addressClass !== undefined) failure.addressClass = addressClass;
    recorder.add(failure);
    this.onFailure(failure);
    return failure;
  }

  private classify(recorder: Recorder, hostname: string, target: string, error: unknown): EgressFailure {
    if (error instanceof EgressRefusedError) {
      return this.record(recorder, 'DOMAIN_NOT_ALLOWED', hostname, target, error.message, error.addressClass);
    }
    if (error instanceof NameResolutionError)
      return this.record(recorder, 'DNS_NAME_NOT_RESOLVED', hostname, target, error.message);
    const code = (error as NodeJS.ErrnoException).code ?? 'ERROR';
    return this.record(
      recorder,
      'NETWORK_ERROR',
      hostname,
      target,
      `${code} while connecting to ${hostname}`,
    );
  }

  /** @internal Plain-HTTP requests in absolute form (`GET http://host/path`). */
  async forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    recorder: Recorder,
    secret: string,
  ): Promise<void> {
    const target = parseProxiedUrl(req.url);
    if (!target) {
      const failure = this.record(
        recorder,
        'BAD_PROTOCOL',
        '',
        String(req.url ?? '').slice(0, 200),
        'only absolute http:// URLs can be requested through the Snapwire egress proxy',
      );
      this.fail(res, secret, failure, 400);
      return;
    }
    const hostname = target.hostname.replace(/^\[|\]$/g, '');
    if (req.headers['service-worker'] !== undefined) {
      // Chromium marks the fetch of a service worker's script with `Service-Worker: script`. Playwright's
      // serviceWorkers: 'block' only replaces register() in each page's realm, which a page can get around
      // (a fresh about:blank iframe has a pristine one); refusing the script here makes registration fail
      // for every plain-http origin. (Over https the tunnel hides the header; the worker's own requests still
      // come through this proxy and are checked like any other.)
      const failure = this.record(
        recorder,
        'SERVICE_WORKER_BLOCKED',
        hostname,
        target.href,
        'service workers are not allowed in captures',
      );
      this.fail(res, secret, failure, 403);
      return;
    }
    let pinned;
    try {
      pinned = await this.guard.pin(hostname);
    } catch (error) {
      this.fail(res, secret, this.classify(recorder, hostname, target.href, error));
      return;
    }
    const headers = forwardedHeaders(req.headers);
    headers.host = target.host;
    const upstream = http.request({
      host: pinned.address,
      family: pinned.family,
      port: target.port ? Number(target.port) : 80,
      method: req.method,
      path: `${target.pathname}${target.search}`,
      headers,
      agent: this.agent,
      setHost: false,
      timeout: UPSTREAM_CONNECT_TIMEOUT_MS,
    });
    upstream.on('timeout', () =>
      upstream.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
    );
    upstream.on('response', (answer) => {
      upstream.setTimeout(0);
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, upstreamAnswerHeaders(answer.headers));
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', (error) => {
      if (res.headersSent) res.destroy();
      else this.fail(res, secret, this.classify(recorder, hostname, target.href, error));
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  private fail(res: http.ServerResponse, secret: string, failure: EgressFailure, status?: number): void {
    const code = status ?? (failure.kind === 'DOMAIN_NOT_ALLOWED' ? 403 : 502);
    res
      .writeHead(code, {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'no-store',
        [EGRESS_ERROR_HEADER]: failure.kind,
        [EGRESS_REASON_HEADER]: encodeURIComponent(failure.reason),
        [EGRESS_TOKEN_HEADER]: secret,
      })
      .end(`Snapwire egress proxy refused this request: ${failure.reason}\n`);
  }

  /** @internal CONNECT host:port: HTTPS, and websockets of either scheme (Chromium tunnels them all). */
  async tunnel(
    req: http.IncomingMessage,
    client: net.Socket,
    head: Buffer,
    recorder: Recorder,
  ): Promise<void> {
    client.on('error', () => {});
    const authority = req.url ?? '';
    const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/@\s]+):(\d{1,5})$/.exec(authority);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const hostname = (match[1] as string).replace(/^\[|\]$/g, '');
    let pinned;
    try {
      pinned = await this.guard.pin(hostname);
    } catch (error) {
      const failure = this.classify(recorder, hostname, authority, error);
      const status = failure.kind === 'DOMAIN_NOT_ALLOWED' ? '403 Forbidden' : '502 Bad Gateway';
      client.end(
        `HTTP/1.1 ${status}\r\n${EGRESS_ERROR_HEADER}: ${failure.kind}\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    const upstream = net.connect({ host: pinned.address, port, family: pinned.family });
    upstream.setTimeout(UPSTREAM_CONNECT_TIMEOUT_MS, () =>
      upstream.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
    );
    upstream.once('connect', () => {
      upstream.setTimeout(0);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', (error) => {
      if (upstream.connecting || !client.writable) {
        this.classify(recorder, hostname, authority, error);
        client.end(
          `HTTP/1.1 502 Bad Gateway\r\n${EGRESS_ERROR_HEADER}: NETWORK_ERROR\r\nContent-Length: 0\r\n\r\n`,
        );
      }
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
  }

  /** @internal A plain-HTTP websocket handshake sent to the proxy in absolute form (ws:// or http://). */
  async upgrade(
    req: http.IncomingMessage,
    client: net.Socket,
    head: Buffer,
    recorder: Recorder,
  ): Promise<void> {
    client.on('error', () => {});
    const target = parseProxiedUrl(req.url, true);
    if (!target) {
      this.record(
        recorder,
        'BAD_PROTOCOL',
        '',
        String(req.url ?? '').slice(0, 200),
        'only absolute http:// and ws:// URLs can be upgraded through the Snapwire egress proxy',
      );
      client.end(
        `HTTP/1.1 400 Bad Request\r\n${EGRESS_ERROR_HEADER}: BAD_PROTOCOL\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    const hostname = target.hostname.replace(/^\[|\]$/g, '');
    let pinned;
    try {
      pinned = await this.guard.pin(hostname);
    } catch (error) {
      const failure = this.classify(recorder, hostname, target.href, error);
      const status = failure.kind === 'DOMAIN_NOT_ALLOWED' ? '403 Forbidden' : '502 Bad Gateway';
      client.end(
        `HTTP/1.1 ${status}\r\n${EGRESS_ERROR_HEADER}: ${failure.kind}\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    const headers = forwardedHeaders(req.headers);
    headers.host = target.host;
    headers.connection = 'Upgrade';
    if (req.headers.upgrade) headers.upgrade = req.headers.upgrade;
    const port = target.port ? Number(target.port) : 80;
    const upstream = net.connect({ host: pinned.address, port, family: pinned.family });
    upstream.setTimeout(UPSTREAM_CONNECT_TIMEOUT_MS, () =>
      upstream.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
    );
    upstream.once('connect', () => {
      upstream.setTimeout(0);
      const lines = [`${req.method ?? 'GET'} ${target.pathname}${target.search} HTTP/1.1`];
      for (const [name, value] of Object.entries(headers)) {
        for (const one of Array.isArray(value) ? value : [value]) {
          if (one !== undefined) lines.push(`${name}: ${String(one)}`);
        }
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', (error) => {
      if (upstream.connecting) {
        this.classify(recorder, hostname, target.href, error);
        client.end(
          `HTTP/1.1 502 Bad Gateway\r\n${EGRESS_ERROR_HEADER}: NETWORK_ERROR\r\nContent-Length: 0\r\n\r\n`,
        );
      }
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
  }
}

/** The absolute-form target of a proxied request, if it is http:// (or ws:// for an upgrade). */
function parseProxiedUrl(raw: string | undefined, websocket = false): URL | undefined {
  try {
    const url = new URL(raw ?? '');
    if (url.protocol === 'http:') return url;
    if (websocket && url.protocol === 'ws:') return url;
  } catch {
    // not absolute
  }
  return undefined;
}

function forwardedHeaders(incoming: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  // Headers named in Connection are hop-by-hop too.
  const listed = new Set(
    String(incoming.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name && name !== 'upgrade'),
  );
  for (const [name, value] of Object.entries(incoming)) {
    if (!HOP_BY_HOP.has(name) && !listed.has(name) && value !== undefined) headers[name] = value;
  }
  return headers;
}
