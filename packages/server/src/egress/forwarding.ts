import type http from 'node:http';
import type net from 'node:net';

/** How long a proxy waits for a TCP connection (or an upstream proxy's tunnel) before answering 502. */
export const UPSTREAM_CONNECT_TIMEOUT_MS = 30_000;

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

/** The absolute-form target of a proxied request, if it is http:// (or ws:// for an upgrade). */
export function parseProxiedUrl(raw: string | undefined, websocket = false): URL | undefined {
  try {
    const url = new URL(raw ?? '');
    if (url.protocol === 'http:') return url;
    if (websocket && url.protocol === 'ws:') return url;
  } catch {
    // not absolute
  }
  return undefined;
}

/** The host name of a URL without IPv6 brackets, as the guard resolves it. */
export function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** The port of an http:// or ws:// URL. */
export function portOf(url: URL): number {
  return url.port ? Number(url.port) : 80;
}

/** The `host:port` of a CONNECT request (IPv6 in brackets), or undefined when malformed. */
export function parseConnectAuthority(authority: string): { hostname: string; port: number } | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/@\s]+):(\d{1,5})$/.exec(authority);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) return undefined;
  return { hostname: (match[1] as string).replace(/^\[|\]$/g, ''), port };
}

/** Request headers to send upstream: hop-by-hop ones, and those named in Connection, removed. */
export function forwardedHeaders(incoming: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
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

/** Headers of an upstream answer as the page may see them: hop-by-hop and every x-snapwire-* removed. */
export function upstreamAnswerHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && !name.startsWith('x-snapwire-') && value !== undefined) out[name] = value;
  }
  return out;
}

/** Passes an upstream answer on to the browser (status, cleaned headers, body). */
export function relayAnswer(answer: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(answer.statusCode ?? 502, answer.statusMessage, upstreamAnswerHeaders(answer.headers));
  answer.pipe(res);
  answer.on('error', () => res.destroy());
}

/** The request line and headers of a websocket handshake, sent on a raw connection to the target. */
export function upgradeRequestHead(req: http.IncomingMessage, target: URL): string {
  const headers = forwardedHeaders(req.headers);
  headers.host = target.host;
  headers.connection = 'Upgrade';
  if (req.headers.upgrade) headers.upgrade = req.headers.upgrade;
  const lines = [`${req.method ?? 'GET'} ${target.pathname}${target.search} HTTP/1.1`];
  for (const [name, value] of Object.entries(headers)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one !== undefined) lines.push(`${name}: ${String(one)}`);
    }
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Joins the browser's socket to the upstream one, both ways (`head`: bytes the browser already sent). */
export function splice(client: net.Socket, upstream: net.Socket, head: Buffer): void {
  if (head.length > 0) upstream.write(head);
  upstream.pipe(client);
  client.pipe(upstream);
}
