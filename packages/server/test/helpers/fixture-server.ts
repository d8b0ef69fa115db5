import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface FixtureServer {
  /** http://HOST:PORT of this server as the service should be asked for it. */
  origin: string;
  port: number;
  /** Requests received, by path. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

/**
 * Serves the HTML files of test/fixtures on loopback (`/name` -> `fixtures/name.html`) plus a few
 * dynamic routes every suite uses, and any extra handlers a test adds. Never anything but loopback.
 */
export async function startFixtureServer(
  options: { host?: string; originHost?: string; routes?: Record<string, Handler> } = {},
): Promise<FixtureServer> {
  const host = options.host ?? '127.0.0.1';
  const hits = new Map<string, number>();
  const sockets = new Set<import('node:net').Socket>();
  const routes: Record<string, Handler> = { ...builtinRoutes(), ...(options.routes ?? {}) };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    const route = routes[url.pathname];
    if (route) return route(req, res);
    const file = path.join(FIXTURES, `${url.pathname.replace(/^\/+/, '') || 'index'}.html`);
    if (!file.startsWith(FIXTURES) || !fs.existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' }).end('<h1>no such fixture</h1>');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(fs.readFileSync(file));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const originHost = options.originHost ?? host;
  return {
    origin: `http://${originHost.includes(':') ? `[${originHost}]` : originHost}:${port}`,
    port,
    hits,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function builtinRoutes(): Record<string, Handler> {
  return {
    // A page whose load event never fires: its stylesheet never finishes.
    '/never-loads': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html><head><link rel="stylesheet" href="/hang.css"></head><body>waiting</body></html>');
    },
    '/hang.css': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/css' });
      res.write('body{}');
      // never ends; the socket is destroyed when the server closes
    },
    '/status-404': (_req, res) => {
      res
        .writeHead(404, { 'content-type': 'text/html; charset=utf-8' })
        .end('<html><body style="margin:0;background:#ff0000"><h1>Not here</h1></body></html>');
    },
    '/redirect-to-solid': (_req, res) => {
      res.writeHead(302, { location: '/solid' }).end();
    },
    '/image.png': (_req, res) => {
      res
        .writeHead(200, { 'content-type': 'image/png' })
        .end(fs.readFileSync(path.join(FIXTURES, 'pixel.png')));
    },
    '/data.json': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"world"}');
    },
  };
}
