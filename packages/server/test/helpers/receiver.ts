import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the receiver does with one request. */
export type Behaviour =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'redirect'; status: number; location: string };

export interface Received {
  at: number;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  answered: number | 'hang' | 'reset';
}

export interface Receiver {
  url: string;
  origin: string;
  received: Received[];
  /** Behaviours used in turn; when they run out, `fallback` answers. */
  script: Behaviour[];
  fallback: Behaviour;
  /** Connections accepted (a canary must stay at zero). */
  connections: number;
  /** Resolves when `count` requests have arrived (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number, path?: string): Promise<Received[]>;
  close(): Promise<void>;
}

export const ok: Behaviour = { kind: 'status', status: 200, body: 'ok' };

/** A real HTTP webhook receiver on loopback whose answers a test scripts, fault by fault. */
export async function startReceiver(host = '127.0.0.1', fallback: Behaviour = ok): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const waiters: Array<() => void> = [];
  const receiver: Receiver = {
    url: '',
    origin: '',
    received: [],
    script: [],
    fallback,
    connections: 0,
    async waitFor(count, timeoutMs = 15_000, path) {
      const matching = () => receiver.received.filter((r) => path === undefined || r.path === path);
      const started = Date.now();
      while (matching().length < count) {
        if (Date.now() - started > timeoutMs) {
          throw new Error(
            `receiver got ${matching().length} of ${count} expected requests within ${timeoutMs} ms`,
          );
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 50);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return matching();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const behaviour = receiver.script.shift() ?? receiver.fallback;
      const entry: Received = {
        at: Date.now(),
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        answered:
          behaviour.kind === 'hang' ? 'hang' : behaviour.kind === 'reset' ? 'reset' : behaviour.status,
      };
      receiver.received.push(entry);
      for (const wake of waiters.splice(0)) wake();
      if (behaviour.kind === 'hang') return;
      if (behaviour.kind === 'reset') {
        req.socket.resetAndDestroy();
        return;
      }
      if (behaviour.kind === 'redirect') {
        res.writeHead(behaviour.status, { location: behaviour.location }).end();
        return;
      }
      res
        .writeHead(behaviour.status, { 'content-type': 'text/plain', ...(behaviour.headers ?? {}) })
        .end(behaviour.body ?? '');
    });
  });
  server.on('connection', (socket) => {
    receiver.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  receiver.origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  receiver.url = `${receiver.origin}/hook`;
  return receiver;
}
