import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { EgressGuard, EgressRefusedError, NameResolutionError } from './guard.js';

/** Headers the proxy puts on the answers it makes itself, so the capture can tell why a load failed. */
export const EGRESS_ERROR_HEADER = 'x-snapwire-egress-error';
export const EGRESS_REASON_HEADER = 'x-snapwire-egress-reason';

export type EgressFailureKind = 'DOMAIN_NOT_ALLOWED' | 'DNS_NAME_NOT_RESOLVED' | 'NETWORK_ERROR';

export interface EgressFailure {
  kind: EgressFailureKind;
  hostname: string;
  reason: string;
  at: number;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) are the proxy's own business and never forwarded.
const HOP_BY_HOP = new Set([
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
 * A forward proxy on loopback that Chromium sends every request through (`--proxy-server`). For each
 * request it resolves the host itself, checks every address with the egress guard and connects only to the
 * address it checked, so DNS rebinding cannot swap the address between check and connect, and Chromium
 * never resolves a name itself. Plain HTTP is forwarded; HTTPS and secure websockets are tunnelled (CONNECT).
 */
export class PinningProxy {
  private server: http.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly recentFailures = new Map<string, EgressFailure>();
  /** Requests refused since start (for metrics and logs). */
  refusedCount = 0;

  constructor(
    private readonly guard: EgressGuard,
    private readonly onFailure: (failure: EgressFailure) => void = () => {},
  ) {}

  async start(): Promise<string> {
    const server = http.createServer((req, res) => void this.forward(req, res));
    server.on(
      'connect',
      (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => void this.tunnel(req, socket, head),
    );
    server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    const { port } = server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.agent.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The last failure for a host in the last minute: how a failed HTTPS tunnel is explained to the user. */
  failureFor(hostname: string): EgressFailure | undefined {
    const failure = this.recentFailures.get(hostname.toLowerCase());
    return failure && Date.now() - failure.at < 60_000 ? failure : undefined;
  }

  private record(kind: EgressFailureKind, hostname: string, reason: string): EgressFailure {
    const failure = { kind, hostname, reason, at: Date.now() };
    if (kind === 'DOMAIN_NOT_ALLOWED') this.refusedCount += 1;
    this.recentFailures.set(hostname.toLowerCase(), failure);
    if (this.recentFailures.size > 1000) {
      const oldest = this.recentFailures.keys().next().value;
      if (oldest !== undefined) this.recentFailures.delete(oldest);
    }
    this.onFailure(failure);
    return failure;
  }

  private classify(hostname: string, error: unknown): EgressFailure {
    if (error instanceof EgressRefusedError)
      return this.record('DOMAIN_NOT_ALLOWED', hostname, error.message);
    if (error instanceof NameResolutionError)
      return this.record('DNS_NAME_NOT_RESOLVED', hostname, error.message);
    const code = (error as NodeJS.ErrnoException).code ?? 'ERROR';
    return this.record('NETWORK_ERROR', hostname, `${code} while connecting to ${hostname}`);
  }

  private async forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
      if (target.protocol !== 'http:') throw new Error('not http');
    } catch {
      res
        .writeHead(400, { [EGRESS_ERROR_HEADER]: 'BAD_REQUEST' })
        .end('Snapwire egress proxy: absolute http:// URL expected');
      return;
    }
    const hostname = target.hostname.replace(/^\[|\]$/g, '');
    let pinned;
    try {
      pinned = await this.guard.pin(hostname);
    } catch (error) {
      this.fail(res, this.classify(hostname, error));
      return;
    }
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    }
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
    });
    upstream.on('response', (answer) => {
      const answerHeaders: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (!HOP_BY_HOP.has(name) && value !== undefined) answerHeaders[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answerHeaders);
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', (error) => {
      if (res.headersSent) res.destroy();
      else this.fail(res, this.classify(hostname, error));
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  private fail(res: http.ServerResponse, failure: EgressFailure): void {
    const status = failure.kind === 'DOMAIN_NOT_ALLOWED' ? 403 : 502;
    res
      .writeHead(status, {
        'content-type': 'text/plain; charset=utf-8',
        [EGRESS_ERROR_HEADER]: failure.kind,
        [EGRESS_REASON_HEADER]: encodeURIComponent(failure.reason),
      })
      .end(`Snapwire egress proxy refused this request: ${failure.reason}\n`);
  }

  private async tunnel(req: http.IncomingMessage, client: net.Socket, head: Buffer): Promise<void> {
    const authority = req.url ?? '';
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(authority);
    if (!match) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const hostname = match[1] as string;
    const port = Number(match[2]);
    let pinned;
    try {
      pinned = await this.guard.pin(hostname);
    } catch (error) {
      const failure = this.classify(hostname, error);
      const status = failure.kind === 'DOMAIN_NOT_ALLOWED' ? '403 Forbidden' : '502 Bad Gateway';
      client.end(`HTTP/1.1 ${status}\r\n${EGRESS_ERROR_HEADER}: ${failure.kind}\r\n\r\n`);
      return;
    }
    const upstream = net.connect({ host: pinned.address, port, family: pinned.family });
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', (error) => {
      if (upstream.connecting || !client.writable) {
        this.classify(hostname, error);
        client.end(`HTTP/1.1 502 Bad Gateway\r\n${EGRESS_ERROR_HEADER}: NETWORK_ERROR\r\n\r\n`);
      }
      client.destroy();
    });
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  }
}
