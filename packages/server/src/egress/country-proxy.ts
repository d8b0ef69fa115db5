import http from 'node:http';
import net from 'node:net';
import type { Logger } from 'pino';
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
import type { ResolvedAddress } from './resolver.js';
import { answerVerdict, carriesSecret, endWithVerdict } from './verdicts.js';

/**
 * Egress through an operator's upstream proxy for one country (the `country` parameter).
 *
 * The guarantee of the pinning proxy holds here too: a browser context of a `country` capture is given a
 * loopback listener of its country as its proxy; every request it makes is resolved and checked by the same
 * EgressGuard, and the upstream proxy is asked to CONNECT to the checked IP address, never to a name (so the
 * upstream cannot resolve it to something else). Plain HTTP and ws:// are sent through such a tunnel too.
 * The upstream proxy must therefore allow CONNECT to any port (Squid: allow CONNECT beyond SSL_ports).
 * Listener, forwarding and verdicts are the pinning proxy's (proxy-listener.ts, forwarding.ts, verdicts.ts).
 */

export interface CountryRoute {
  country: string;
  /** http://127.0.0.1:PORT: the context's proxy server. */
  server: string;
  failureFor(hostname: string): { kind: string; reason: string } | undefined;
  /** Whether a response is this route's own proxy answer (a verdict to trust). */
  isOwnAnswer(headers: Record<string, unknown>): boolean;
}

/** A thrown failure: the guard refused, or the upstream proxy could not open the tunnel. */
class TunnelFailure extends Error {
  constructor(readonly failure: EgressFailure) {
    super(failure.reason);
  }
}

/** One loopback listener that sends everything through one upstream proxy. */
class UpstreamProxy {
  readonly listener: ProxyListener;
  readonly recorder = new Recorder();
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
    this.listener = new ProxyListener({
      request: (req, res, secret) => this.forward(req, res, secret),
      connect: (req, client, head) => this.connect(req, client, head),
      upgrade: (req, client, head) => this.upgrade(req, client, head),
    });
  }

  private record(hostname: string, target: string, error: unknown): EgressFailure {
    const failure = failureOf(
      error,
      hostname,
      target,
      (cause) => `${(cause as Error).message} (through the ${this.upstream.host} egress proxy)`,
    );
    this.recorder.add(failure);
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
      socket.setTimeout(UPSTREAM_CONNECT_TIMEOUT_MS, () =>
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

  /** Checks `hostname` with the guard, then tunnels to the checked address; throws a TunnelFailure. */
  private async open(hostname: string, port: number, target: string): Promise<net.Socket> {
    let pinned: ResolvedAddress;
    try {
      pinned = await this.guard.pin(hostname);
    } catch (error) {
      throw new TunnelFailure(this.record(hostname, target, error));
    }
    try {
      return await this.tunnel(pinned, port);
    } catch (error) {
      throw new TunnelFailure(this.record(hostname, target, error));
    }
  }

  private async connect(req: http.IncomingMessage, client: net.Socket, head: Buffer): Promise<void> {
    client.on('error', () => {});
    const authority = req.url ?? '';
    const parsed = parseConnectAuthority(authority);
    if (!parsed) {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    let upstream: net.Socket;
    try {
      upstream = await this.open(parsed.hostname, parsed.port, authority);
    } catch (error) {
      endWithVerdict(client, (error as TunnelFailure).failure.kind);
      return;
    }
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    splice(client, upstream, head);
  }

  private async forward(req: http.IncomingMessage, res: http.ServerResponse, secret: string): Promise<void> {
    const target = parseProxiedUrl(req.url);
    if (!target) {
      answerVerdict(
        res,
        secret,
        {
          kind: 'BAD_PROTOCOL',
          reason: 'only absolute http:// URLs can be requested through the Snapwire egress proxy',
        },
        400,
      );
      return;
    }
    let socket: net.Socket;
    try {
      socket = await this.open(bareHostname(target), portOf(target), target.href);
    } catch (error) {
      answerVerdict(res, secret, (error as TunnelFailure).failure);
      return;
    }
    const headers = forwardedHeaders(req.headers);
    headers.host = target.host;
    // The tunnel is this request's own; it is not reused.
    headers.connection = 'close';
    const upstream = http.request({
      createConnection: () => socket,
      method: req.method,
      path: `${target.pathname}${target.search}`,
      headers,
      setHost: false,
    });
    upstream.on('response', (answer) => relayAnswer(answer, res));
    upstream.on('error', (error) => {
      this.logger.debug({ err: error }, 'country egress: upstream request failed');
      if (res.headersSent) res.destroy();
      else answerVerdict(res, secret, this.record(bareHostname(target), target.href, error));
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  private async upgrade(req: http.IncomingMessage, client: net.Socket, head: Buffer): Promise<void> {
    client.on('error', () => {});
    const target = parseProxiedUrl(req.url, true);
    if (!target) {
      endWithVerdict(client, 'BAD_PROTOCOL', 400);
      return;
    }
    let upstream: net.Socket;
    try {
      upstream = await this.open(bareHostname(target), portOf(target), target.href);
    } catch (error) {
      endWithVerdict(client, (error as TunnelFailure).failure.kind);
      return;
    }
    upstream.write(upgradeRequestHead(req, target));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    splice(client, upstream, head);
  }
}

/** The operator's country proxies; listeners start on first use and live until stop(). */
export class CountryEgress {
  private readonly proxies = new Map<string, Promise<UpstreamProxy>>();

  constructor(
    private readonly guard: EgressGuard,
    private readonly upstreams: Record<string, string[]>,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  countries(): string[] {
    return Object.keys(this.upstreams).sort();
  }

  /** A route for a country that has proxies (pickCountry made sure); one of them at random. */
  async route(country: string): Promise<CountryRoute> {
    const upstreams = this.upstreams[country];
    if (!upstreams || upstreams.length === 0) throw new Error(`no proxy for country ${country}`);
    const upstream = upstreams[Math.floor(this.random() * upstreams.length)] as string;
    let proxy = this.proxies.get(upstream);
    if (!proxy) {
      const created = new UpstreamProxy(upstream, this.guard, this.logger);
      proxy = created.listener.listen().then(() => created);
      this.proxies.set(upstream, proxy);
    }
    const ready = await proxy;
    return {
      country,
      server: ready.listener.url,
      failureFor: (hostname) => ready.recorder.failureFor(hostname),
      isOwnAnswer: (headers) => carriesSecret(headers, ready.listener.secret),
    };
  }

  async stop(): Promise<void> {
    const proxies = [...this.proxies.values()];
    this.proxies.clear();
    await Promise.all(proxies.map(async (proxy) => (await proxy.catch(() => undefined))?.listener.close()));
  }
}
