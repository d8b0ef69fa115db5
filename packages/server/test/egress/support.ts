import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';

/**
 * Test furniture for the egress matrix. Everything here listens on loopback only: the canary on 127.0.0.1
 * and [::1], fixture pages on 127.0.0.2, on the same port, so that an address swapped after the check
 * (DNS rebinding from 127.0.0.2 to 127.0.0.1) would land on the canary.
 */

export interface Canary {
  port: number;
  /** TCP connections accepted on 127.0.0.1:port and [::1]:port since the last reset. */
  connections(): number;
  /** What each connection sent first (for the failure message if one ever arrives). */
  seen(): string[];
  reset(): void;
  close(): Promise<void>;
}

export interface Fixture {
  port: number;
  /** http://127.0.0.2:PORT */
  origin: string;
  /** Requests received, by path (websocket upgrades count under their path too). */
  hits: Map<string, number>;
  /** JSON bodies pages POSTed to /report?case=NAME, by NAME. */
  reports: Map<string, Record<string, string>>;
  routes: Map<string, (req: http.IncomingMessage, res: http.ServerResponse) => void>;
  close(): Promise<void>;
}

/** A canary on 127.0.0.1:P and [::1]:P plus a fixture server on 127.0.0.2:P, for one free port P. */
export async function startCanaryAndFixture(): Promise<{ canary: Canary; fixture: Fixture }> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const canary = await startCanary(0).catch(() => undefined);
    if (!canary) continue;
    const fixture = await startFixture(canary.port).catch(() => undefined);
    if (fixture) return { canary, fixture };
    await canary.close();
  }
  throw new Error('no port free on 127.0.0.1, ::1 and 127.0.0.2 at once after 20 tries');
}

async function listen(server: net.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as net.AddressInfo).port;
}

const CANARY_PAGE =
  '<!doctype html><html><body style="margin:0;background:#ff00ff"><h1>CANARY REACHED</h1></body></html>';

async function startCanary(wanted: number): Promise<Canary> {
  let count = 0;
  const seen: string[] = [];
  const sockets = new Set<net.Socket>();
  const servers: net.Server[] = [];
  const onConnection = (socket: net.Socket) => {
    count += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', (data) => {
      seen.push(`${socket.localAddress} <- ${data.subarray(0, 120).toString('latin1').split('\r\n')[0]}`);
      socket.end(
        `HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: ${CANARY_PAGE.length}\r\nconnection: close\r\n\r\n${CANARY_PAGE}`,
      );
    });
  };
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
      ),
    );
  };
  try {
    const v4 = net.createServer(onConnection);
    servers.push(v4);
    const port = await listen(v4, wanted, '127.0.0.1');
    const v6 = net.createServer(onConnection);
    servers.push(v6);
    await listen(v6, port, '::1');
    return {
      port,
      connections: () => count,
      seen: () => [...seen],
      reset: () => {
        count = 0;
        seen.length = 0;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function startFixture(port: number): Promise<Fixture> {
  const hits = new Map<string, number>();
  const reports = new Map<string, Record<string, string>>();
  const routes = new Map<string, (req: http.IncomingMessage, res: http.ServerResponse) => void>();
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    if (url.pathname === '/report' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        try {
          reports.set(url.searchParams.get('case') ?? '', JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reports.set(url.searchParams.get('case') ?? '', { error: 'not JSON' });
        }
        res.writeHead(204).end();
      });
      return;
    }
    const route = routes.get(url.pathname);
    if (route) return route(req, res);
    res.writeHead(404, { 'content-type': 'text/plain' }).end('no such fixture');
  });
  // A minimal websocket endpoint (handshake only): proves that an allowed websocket gets through.
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    const key = String(req.headers['sec-websocket-key'] ?? '');
    const accept = crypto
      .createHash('sha1')
      .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.on('error', () => {});
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await listen(server, port, '127.0.0.2');
  return {
    port,
    origin: `http://127.0.0.2:${port}`,
    hits,
    reports,
    routes,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function html(res: http.ServerResponse, body: string, status = 200): void {
  res
    .writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
    .end(body);
}

/**
 * Every spelling of "this machine" a page or a user can write, aimed at the canary's port. Names are
 * mapped by the test's resolver (see CANARY_NAMES).
 */
export function loopbackHosts(port: number): Array<{ label: string; authority: string }> {
  return [
    ['127.0.0.1', `127.0.0.1:${port}`],
    ['[::1]', `[::1]:${port}`],
    ['localhost', `localhost:${port}`],
    ['LOCALHOST. (case, trailing dot)', `LOCALHOST.:${port}`],
    ['sub.localhost', `sub.localhost:${port}`],
    ['full-width localhost (IDN)', `ｌｏｃａｌｈｏｓｔ:${port}`],
    ['decimal 2130706433', `2130706433:${port}`],
    ['hex 0x7f000001', `0x7f000001:${port}`],
    ['hex-dotted 0x7f.1', `0x7f.1:${port}`],
    ['octal 0177.0.0.1', `0177.0.0.1:${port}`],
    ['short 127.1', `127.1:${port}`],
    ['trailing dot 127.0.0.1.', `127.0.0.1.:${port}`],
    ['percent-encoded %31%32%37.0.0.1', `%31%32%37.0.0.1:${port}`],
    ['[::ffff:127.0.0.1]', `[::ffff:127.0.0.1]:${port}`],
    ['0.0.0.0', `0.0.0.0:${port}`],
    ['[::]', `[::]:${port}`],
    ['userinfo good.test@127.0.0.1', `good.test@127.0.0.1:${port}`],
    ['name -> 127.0.0.1', `canary.test:${port}`],
    ['name -> ::1', `v6canary.test:${port}`],
    ['name -> ::ffff:127.0.0.1', `mapped.test:${port}`],
    ['IDN name bücher.test -> 127.0.0.1', `bücher.test:${port}`],
    ['name -> [127.0.0.2, 127.0.0.1]', `mixed.test:${port}`],
  ].map(([label, authority]) => ({ label: label as string, authority: authority as string }));
}

/** The names the test resolver knows: only loopback answers, never a name outside this machine. */
export const CANARY_NAMES: Record<string, string | string[] | string[][]> = {
  'allowed.test': '127.0.0.2',
  'canary.test': '127.0.0.1',
  'v6canary.test': '::1',
  'mapped.test': '::ffff:127.0.0.1',
  'xn--bcher-kva.test': '127.0.0.1',
  'mixed.test': ['127.0.0.2', '127.0.0.1'],
  // Rebinding: the first answer is the allowed 127.0.0.2, every later one is the canary's 127.0.0.1.
  'rebind.test': [['127.0.0.2'], ['127.0.0.1']],
  'rebind-redirect.test': [['127.0.0.2'], ['127.0.0.2'], ['127.0.0.1']],
  // Rebinding after the page has loaded: check, document, then every later request gets 127.0.0.1.
  'rebind-late.test': [['127.0.0.2'], ['127.0.0.2'], ['127.0.0.1']],
};
