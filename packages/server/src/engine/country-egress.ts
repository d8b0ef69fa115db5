import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { EgressGuard, EgressRefusedError, NameResolutionError } from '../egress/guard.js';
import {
  EGRESS_ERROR_HEADER,
  EGRESS_REASON_HEADER,
  EGRESS_TOKEN_HEADER,
  carriesSecret,
  newAnswerSecret,
  upstreamAnswerHeaders,
  HOP_BY_HOP,
  UPSTREAM_CONNECT_TIMEOUT_MS as CONNECT_TIMEOUT_MS,
} from '../egress/pinning-proxy.js';
import type { ResolvedAddress } from '../egress/resolver.js';

/**
 * Egress through an operator's upstream proxy for one country (the `country` parameter).
 *
 * The guarantee of the pinning proxy holds here too: a browser context of a `country` capture is given a
 * loopback listener of its country as its proxy; every request it makes is resolved and checked by the same
 * EgressGuard, and the upstream proxy is asked to CONNECT to the checked IP address, never to a name (so the
 * upstream cannot resolve it to something else). Plain HTTP and ws:// are sent through such a tunnel too.
 * The upstream proxy must therefore allow CONNECT to any port (Squid: allow CONNECT beyond SSL_ports).
 */

interface Failure {
  kind: 'DOMAIN_NOT_ALLOWED' | 'DNS_NAME_NOT_RESOLVED' | 'NETWORK_ERROR';
  reason: string;
  at: number;
}

export interface CountryRoute {
  country: string;
  /** http://127.0.0.1:PORT: the context's proxy server. */
  server: string;
  failureFor(hostname: string): { kind: string; reason: string } | undefined;
  /** Whether a response is this route's own proxy answer (a verdict to trust). */
  isOwnAnswer(headers: Record<string, unknown>): boolean;
}

class UpstreamListener {
  readonly secret = newAnswerSecret();
  private server: http.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly failures = new Map<string, Failure>();
  url = '';
  private readonly upstream: URL;
  private readonly authorization: string | undefined;

  constructor(
    upstream: string,
    private readonly guard: EgressGuard,
    private readonly logger: Logger,
  ) {
    this.upstream = new URL(upstream);
    this.authorization =
      this.upstream.username || this.upstream.password
        ? `Basic ${Buffer.from(`${decodeURIComponent(this.upstream.username)}:${decodeURIComponent(this.upstream.password)}`).toString('base64')}`
        : undefined;
  }

  async start(): Promise<string> {
    const server = http.createServer((req, res) => void this.forward(req, res));
    server.on(
      'connect',
      (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => void this.connect(req, socket, head),
    );
    server.on(
      'upgrade',
      (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => void this.upgrade(req, socket, head),
    );
    server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  failureFor(hostname: string): Failure | undefined {
    const failure = this.failures.get(hostname.toLowerCase());
    return failure && Date.now() - failure.at < 60_000 ? failure : undefined;
  }

  private record(hostname: string, error: unknown): Failure {
    let failure: Failure;
    if (error instanceof EgressRefusedError)
      failure = { kind: 'DOMAIN_NOT_ALLOWED', reason: error.message, at: Date.now() };
    else if (error instanceof NameResolutionError)
      failure = { kind: 'DNS_NAME_NOT_RESOLVED', reason: error.message, at: Date.now() };
    else
      failure = {
        kind: 'NETWORK_ERROR',
        reason: `${(error as Error).message} (through the ${this.upstream.host} egress proxy)`,
        at: Date.now(),
      };
    this.failures.set(hostname.toLowerCase(), failure);
    if (this.failures.size > 500) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    return failure;
  }

  /** A tunnel through the upstream proxy to the checked address. */
  private tunnel(pinned: ResolvedAddress, port: number): Promise<net.Socket> {
    const authority = pinned.family === 6 ? `[${pinned.address}]:${port}` : `${pinned.address}:${port}`;
    return new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect({
        host: this.upstream.hostname.replace(/^\[|\]$/g, ''),
        port: Number(this.upstream.port || 80),
      });
      let buffered = Buffer.alloc(0);
      const fail = (error: Error) => {
        socket.destroy();
        reject(error);
      };
      socket.setTimeout(CONNECT_TIMEOUT_MS, () =>
        fail(new Error('the upstream proxy did not answer in time')),
      );
      socket.once('error', (error) =>
        fail(new Error(`upstream proxy ${this.upstream.host}: ${error.message}`)),
      );
      socket.once('connect', () => {
        socket.write(
          `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${this.authorization ? `Proxy-Authorization: ${this.authorization}\r\n` : ''}\r\n`,
        );
      });
      const onData = (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) {
          if (buffered.length > 16_384) fail(new Error('the upstream proxy sent an oversized answer'));
          return;
        }
        socket.off('data', onData);
        socket.setTimeout(0);
        const status = Number(
          /^HTTP\/1\.[01] (\d{3})/.exec(buffered.subarray(0, end).toString('latin1'))?.[1],
        );
        if (status !== 200) {
          fail(
            new Error(`the upstream proxy ${this.upstream.host} answered ${status || 'garbage'} to CONNECT`),
          );
          return;
        }
        const rest = buffered.subarray(end + 4);
        if (rest.length > 0) socket.unshift(rest);
        socket.removeAllListeners('error');
        resolve(socket);
      };
      socket.on('data', onData);
    });
  }

  private async open(hostname: string, port: number): Promise<net.Socket> {
    let pinned: ResolvedAddress;
    try {
      pinned = await this.guard.pin(hostname);
    } catch (error) {
      throw Object.assign(new Error('refused'), { failure: this.record(hostname, error) });
    }
    try {
      return await this.tunnel(pinned, port);
    } catch (error) {
      throw Object.assign(new Error('unreachable'), { failure: this.record(hostname, error) });
    }
  }

  private async connect(req: http.IncomingMessage, client: net.Socket, head: Buffer): Promise<void> {
    client.on('error', () => {});
    const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(req.url ?? '');
    if (!match) {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    let upstream: net.Socket;
    try {
      upstream = await this.open(match[1] as string, Number(match[2]));
    } catch (error) {
      const failure = (error as { failure?: Failure }).failure;
      const status = failure?.kind === 'DOMAIN_NOT_ALLOWED' ? '403 Forbidden' : '502 Bad Gateway';
      client.end(
        `HTTP/1.1 ${status}\r\n${EGRESS_ERROR_HEADER}: ${failure?.kind ?? 'NETWORK_ERROR'}\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.pipe(client);
    client.pipe(upstream);
  }

  private async forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
      if (target.protocol !== 'http:') throw new Error('not http');
    } catch {
      res
        .writeHead(400, { [EGRESS_ERROR_HEADER]: 'BAD_PROTOCOL', [EGRESS_TOKEN_HEADER]: this.secret })
        .end('absolute http:// URL expected');
      return;
    }
    const hostname = target.hostname.replace(/^\[|\]$/g, '');
    let socket: net.Socket;
    try {
      socket = await this.open(hostname, target.port ? Number(target.port) : 80);
    } catch (error) {
      const failure = (error as { failure?: Failure }).failure;
      res
        .writeHead(failure?.kind === 'DOMAIN_NOT_ALLOWED' ? 403 : 502, {
          'content-type': 'text/plain; charset=utf-8',
          [EGRESS_ERROR_HEADER]: failure?.kind ?? 'NETWORK_ERROR',
          [EGRESS_REASON_HEADER]: encodeURIComponent(failure?.reason ?? 'unreachable'),
          [EGRESS_TOKEN_HEADER]: this.secret,
        })
        .end(`Snapwire egress proxy refused this request: ${failure?.reason ?? 'unreachable'}\n`);
      return;
    }
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    }
    headers.host = target.host;
    headers.connection = 'close';
    const upstream = http.request({
      createConnection: () => socket,
      method: req.method,
      path: `${target.pathname}${target.search}`,
      headers,
      setHost: false,
    });
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, upstreamAnswerHeaders(answer.headers));
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', (error) => {
      this.logger.debug({ err: error }, 'country egress: upstream request failed');
      if (res.headersSent) res.destroy();
      else
        res
          .writeHead(502, { [EGRESS_ERROR_HEADER]: 'NETWORK_ERROR' })
          .end(`Snapwire egress proxy: ${error.message}\n`);
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  private async upgrade(req: http.IncomingMessage, client: net.Socket, head: Buffer): Promise<void> {
    client.on('error', () => {});
    let target: URL;
    try {
      target = new URL(req.url ?? '');
      if (target.protocol !== 'http:' && target.protocol !== 'ws:') throw new Error('not http');
    } catch {
      client.end(
        `HTTP/1.1 400 Bad Request\r\n${EGRESS_ERROR_HEADER}: BAD_PROTOCOL\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    let upstream: net.Socket;
    try {
      upstream = await this.open(
        target.hostname.replace(/^\[|\]$/g, ''),
        target.port ? Number(target.port) : 80,
      );
    } catch (error) {
      const failure = (error as { failure?: Failure }).failure;
      client.end(
        `HTTP/1.1 502 Bad Gateway\r\n${EGRESS_ERROR_HEADER}: ${failure?.kind ?? 'NETWORK_ERROR'}\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    const lines = [`${req.method ?? 'GET'} ${target.pathname}${target.search} HTTP/1.1`];
    for (const [name, value] of Object.entries(req.headers)) {
      if (name === 'proxy-connection' || name === 'proxy-authorization' || value === undefined) continue;
      for (const one of Array.isArray(value) ? value : [value])
        lines.push(`${name}: ${name === 'host' ? target.host : one}`);
    }
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.pipe(client);
    client.pipe(upstream);
  }
}

/** The operator's country proxies; listeners start on first use and live until stop(). */
export class CountryEgress {
  private readonly listeners = new Map<string, Promise<UpstreamListener>>();

  constructor(
    private readonly guard: EgressGuard,
    private readonly proxies: Record<string, string[]>,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  countries(): string[] {
    return Object.keys(this.proxies).sort();
  }

  /** A route for a country that has proxies (pickCountry made sure); one of them at random. */
  async route(country: string): Promise<CountryRoute> {
    const upstreams = this.proxies[country];
    if (!upstreams || upstreams.length === 0) throw new Error(`no proxy for country ${country}`);
    const upstream = upstreams[Math.floor(this.random() * upstreams.length)] as string;
    let listener = this.listeners.get(upstream);
    if (!listener) {
      const created = new UpstreamListener(upstream, this.guard, this.logger);
      listener = created.start().then(() => created);
      this.listeners.set(upstream, listener);
    }
    const ready = await listener;
    return {
      country,
      server: ready.url,
      failureFor: (hostname) => ready.failureFor(hostname),
      isOwnAnswer: (headers) => carriesSecret(headers, ready.secret),
    };
  }

  async stop(): Promise<void> {
    const listeners = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(listeners.map(async (listener) => (await listener.catch(() => undefined))?.stop()));
  }
}
