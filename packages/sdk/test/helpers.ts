// Shared test helpers: loopback servers and raw HTTP requests. Only 127.0.0.1, port 0.
import { Buffer } from 'node:buffer';
import http, {
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Loopback {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(listener: RequestListener): Promise<Loopback> {
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * POST with node:http (not fetch), tolerant of the server closing the connection while the body is still
 * being sent (what a 413 does): resolves with the response as soon as it is complete.
 */
export function rawPost(
  url: string,
  options: { headers?: Record<string, string | number>; body?: Buffer; chunks?: Buffer[] },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const request = http.request(url, { method: 'POST', headers: options.headers ?? {} }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        settled = true;
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) });
      });
      response.on('error', () => {});
    });
    request.on('error', (error) => {
      if (!settled) setTimeout(() => !settled && reject(error), 200);
    });
    if (options.chunks) {
      for (const chunk of options.chunks) request.write(chunk);
      request.end();
    } else {
      request.end(options.body);
    }
  });
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Polls `check` every 10 ms, at most `attempts` times. */
export async function waitFor(check: () => boolean | Promise<boolean>, attempts = 300): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('waitFor: condition not met in time');
}

export function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Buffer | string,
) {
  res.writeHead(status, headers);
  res.end(body);
}

/** A tiny valid PNG (1x1, transparent). */
export const PNG_1X1 = Buffer.from(
  '89504E470D0A1A0A0000000D49484452000000010000000108060000001F15C4890000000D4944415478DA63F8CFC0F01F0005000201' +
    'C5A5C1F80000000049454E44AE426082',
  'hex',
);
