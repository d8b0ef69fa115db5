import http from 'node:http';
import net from 'node:net';
import { EgressGuard } from './guard.js';
import { Recorder, failureOf, type EgressFailure } from './failures.js';
import {
  bareHostname,
  forwardedHeaders,
  parseConnectAuthority,
  parseProxiedUrl,
  portOf,
  relayAnswer,
  splice,
  upgradeRequestHead,
  UPSTREAM_CONNECT_TIMEOUT_MS,
} from './forwarding.js';
import { ProxyListener } from './proxy-listener.js';
import { answerVerdict, carriesSecret, endWithVerdict, type EgressFailureKind } from './verdicts.js';

export type { EgressFailure } from './failures.js';

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
  /** Failures in order (refused, unresolvable, unreachable), the first 200 of them. */
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

/**
 * A forward proxy on loopback that Chromium sends every request through (`--proxy-server`, or a session's
 * own listener per browser context). For each request it resolves the host itself, checks every address
 * with the egress guard and connects only to the address it checked, so DNS rebinding cannot swap the
 * address between check and connect, and Chromium never resolves a name itself. Plain HTTP is forwarded
 * (a redirect comes back to Chromium, whose next hop is a new request here, checked again); HTTPS and
 * websockets are tunnelled (CONNECT); a plain-HTTP websocket upgrade is forwarded the same way. Anything
 * but http(s) and ws(s) is refused. Its listeners, forwarding and verdicts are shared with the country
 * proxy (proxy-listener.ts, forwarding.ts, verdicts.ts).
 */
export class PinningProxy {
  private main: ProxyListener | undefined;
  private readonly sessions = new Set<ProxyListener>();
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
    const listener = this.listenerFor(this.recorder);
    const url = await listener.listen();
    this.main = listener;
    return url;
  }

  /** A listener of its own for one browser context; close it when the context is closed. */
  async openSession(): Promise<ProxySession> {
    const recorder = new Recorder(this.recorder);
    const listener = this.listenerFor(recorder);
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

  /** A listener whose requests are recorded in `recorder`. */
  private listenerFor(recorder: Recorder): ProxyListener {
    return new ProxyListener({
      request: (req, res, secret) => this.forward(req, res, recorder, secret),
      connect: (req, client, head) => this.tunnel(req, client, head, recorder),
      upgrade: (req, client, head) => this.upgrade(req, client, head, recorder),
    });
  }

  private record(recorder: Recorder, failure: EgressFailure): EgressFailure {
    recorder.add(failure);
    this.onFailure(failure);
    return failure;
  }

  /** Records a failure the proxy found itself (not an error of the guard or of a connection). */
  private recordOwn(
    recorder: Recorder,
    kind: EgressFailureKind,
    hostname: string,
    target: string,
    reason: string,
  ): EgressFailure {
    return this.record(recorder, { kind, hostname, target, reason, at: Date.now() });
  }

  private classify(recorder: Recorder, hostname: string, target: string, error: unknown): EgressFailure {
    return this.record(
      recorder,
      failureOf(
        error,
        hostname,
        target,
        (cause) => `${(cause as NodeJS.ErrnoException).code ?? 'ERROR'} while connecting to ${hostname}`,
      ),
    );
  }

  /** Plain-HTTP requests in absolute form (`GET http://host/path`). */
  private async forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    recorder: Recorder,
    secret: string,
  ): Promise<void> {
    const target = parseProxiedUrl(req.url);
    if (!target) {
      const failure = this.recordOwn(
        recorder,
        'BAD_PROTOCOL',
        '',
        String(req.url ?? '').slice(0, 200),
        'only absolute http:// URLs can be requested through the Snapwire egress proxy',
      );
      answerVerdict(res, secret, failure, 400);
      return;
    }
    const hostname = bareHostname(target);
    if (req.headers['service-worker'] !== undefined) {
      // Chromium marks the fetch of a service worker's script with `Service-Worker: script`. Playwright's
      // serviceWorkers: 'block' only replaces register() in each page's realm, which a page can get around
      // (a fresh about:blank iframe has a pristine one); refusing the script here makes registration fail
      // for every plain-http origin. (Over https the tunnel hides the header; the worker's own requests still
      // come through this proxy and are checked like any other.)
      const failure = this.recordOwn(
        recorder,
        'SERVICE_WORKER_BLOCKED',
        hostname,
        target.href,
        'service workers are not allowed in captures',
      );
      answerVerdict(res, secret, failure, 403);
      return;
    }
    let pinned;
    try {
      pinned = await this.guard.pin(hostname);
    } catch (error) {
      answerVerdict(res, secret, this.classify(recorder, hostname, target.href, error));
      return;
    }
    const headers = forwardedHeaders(req.headers);
    headers.host = target.host;
    const bodiless =
      req.headers['transfer-encoding'] === undefined && Number(req.headers['content-length'] ?? 0) === 0;
    let current: http.ClientRequest;
    const send = (resent: boolean): void => {
      const upstream = http.request({
        host: pinned.address,
        family: pinned.family,
        port: portOf(target),
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers,
        agent: this.agent,
        setHost: false,
        timeout: UPSTREAM_CONNECT_TIMEOUT_MS,
      });
      current = upstream;
      upstream.on('timeout', () =>
        upstream.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
      );
      upstream.on('response', (answer) => {
        upstream.setTimeout(0);
        relayAnswer(answer, res);
      });
      upstream.on('error', (error) => {
        // A kept-alive connection the server closed just as the request went out: the server never saw
        // the request, so it is sent once more on a new connection, as browsers do (a body cannot be
        // replayed, so only a request without one).
        if (!resent && bodiless && upstream.reusedSocket && isReset(error) && !res.headersSent) {
          send(true);
          return;
        }
        if (res.headersSent) res.destroy();
        else answerVerdict(res, secret, this.classify(recorder, hostname, target.href, error));
      });
      if (bodiless) upstream.end();
      else req.pipe(upstream);
    };
    send(false);
    res.on('close', () => {
      if (!res.writableFinished) current.destroy();
    });
    if (bodiless) req.resume();
  }

  /** CONNECT host:port: HTTPS, and websockets of either scheme (Chromium tunnels them all). */
  private async tunnel(
    req: http.IncomingMessage,
    client: net.Socket,
    head: Buffer,
    recorder: Recorder,
  ): Promise<void> {
    client.on('error', () => {});
    const authority = req.url ?? '';
    const parsed = parseConnectAuthority(authority);
    if (!parsed) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const { hostname, port } = parsed;
    let pinned;
    try {
      pinned = await this.guard.pin(hostname);
    } catch (error) {
      endWithVerdict(client, this.classify(recorder, hostname, authority, error).kind);
      return;
    }
    const upstream = this.connectPinned(pinned, port);
    upstream.once('connect', () => {
      upstream.setTimeout(0);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      splice(client, upstream, head);
    });
    upstream.on('error', (error) => {
      if (upstream.connecting || !client.writable) {
        this.classify(recorder, hostname, authority, error);
        endWithVerdict(client, 'NETWORK_ERROR');
      }
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
  }

  /** A plain-HTTP websocket handshake sent to the proxy in absolute form (ws:// or http://). */
  private async upgrade(
    req: http.IncomingMessage,
    client: net.Socket,
    head: Buffer,
    recorder: Recorder,
  ): Promise<void> {
    client.on('error', () => {});
    const target = parseProxiedUrl(req.url, true);
    if (!target) {
      this.recordOwn(
        recorder,
        'BAD_PROTOCOL',
        '',
        String(req.url ?? '').slice(0, 200),
        'only absolute http:// and ws:// URLs can be upgraded through the Snapwire egress proxy',
      );
      endWithVerdict(client, 'BAD_PROTOCOL', 400);
      return;
    }
    const hostname = bareHostname(target);
    let pinned;
    try {
      pinned = await this.guard.pin(hostname);
    } catch (error) {
      endWithVerdict(client, this.classify(recorder, hostname, target.href, error).kind);
      return;
    }
    const upstream = this.connectPinned(pinned, portOf(target));
    upstream.once('connect', () => {
      upstream.setTimeout(0);
      upstream.write(upgradeRequestHead(req, target));
      splice(client, upstream, head);
    });
    upstream.on('error', (error) => {
      if (upstream.connecting) {
        this.classify(recorder, hostname, target.href, error);
        endWithVerdict(client, 'NETWORK_ERROR');
      }
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
  }

  /** A TCP connection to the checked address, given up after UPSTREAM_CONNECT_TIMEOUT_MS. */
  private connectPinned(pinned: { address: string; family: number }, port: number): net.Socket {
    const upstream = net.connect({ host: pinned.address, port, family: pinned.family });
    upstream.setTimeout(UPSTREAM_CONNECT_TIMEOUT_MS, () =>
      upstream.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
    );
    return upstream;
  }
}

function isReset(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ECONNRESET';
}
