import http from 'node:http';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import { newAnswerSecret } from './verdicts.js';

/** What a proxy does with the three kinds of request a browser sends to its proxy server. */
export interface ProxyHandlers {
  /** Plain http in absolute form (`GET http://host/path`). */
  request(req: http.IncomingMessage, res: http.ServerResponse, secret: string): Promise<void>;
  /** CONNECT host:port (https, and websockets of either scheme). */
  connect(req: http.IncomingMessage, client: net.Socket, head: Buffer): Promise<void>;
  /** A plain-http websocket handshake in absolute form. */
  upgrade(req: http.IncomingMessage, client: net.Socket, head: Buffer): Promise<void>;
}

/**
 * One loopback listener of an egress proxy: its own secret for its verdicts (verdicts.ts), and the sockets
 * it accepted, so close() ends them all (a browser keeps proxy connections alive).
 */
export class ProxyListener {
  readonly secret = newAnswerSecret();
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();
  /** `http://127.0.0.1:PORT` once listening. */
  url = '';

  constructor(handlers: ProxyHandlers) {
    const server = http.createServer((req, res) => void handlers.request(req, res, this.secret));
    server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      void handlers.connect(req, socket, head);
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      void handlers.upgrade(req, socket, head);
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
