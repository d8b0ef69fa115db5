import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { ApiError, errorBody, errorDocUrl } from '../errors.js';

/**
 * Parses a query string into an object without a prototype, so that every name the client sent is an own
 * key: `__proto__` (or `constructor`) is then just an unknown parameter, refused by name like any other,
 * instead of being swallowed by the object's prototype. A repeated name becomes an array, as with
 * fastify's own parser.
 */
export function parseQueryString(text: string): Record<string, unknown> {
  const out = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(text)) {
    const existing = out[name];
    if (existing === undefined) out[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[name] = [existing, value];
  }
  return out;
}

/**
 * Answers what Node's HTTP parser refuses before fastify sees the request (a query string or headers over
 * the limit, a malformed request line) with a catalogue error, not a bare status line.
 */
export function answerClientError(
  error: NodeJS.ErrnoException,
  socket: Socket,
  maxHeaderBytes: number,
  /** This service's address, for the link to its own error reference (/docs/errors). */
  publicUrl: string,
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const apiError = new ApiError(
    'ERR::SCRAPE::CONFIG_ERROR',
    tooLarge
      ? `The request line and headers are over ${Math.round(maxHeaderBytes / 1024)} KB; shorten the query string (js is at most 16 KB of script)`
      : 'The HTTP request could not be parsed',
  );
  const errorId = randomUUID();
  const body = Buffer.from(JSON.stringify({ ...errorBody(apiError, errorId, publicUrl), http_code: status }));
  const head = [
    `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}`,
    'content-type: application/json',
    `content-length: ${body.length}`,
    `x-scrapfly-reject-code: ${apiError.code}`,
    `x-scrapfly-reject-http-code: ${status}`,
    `x-scrapfly-reject-doc: ${errorDocUrl(apiError.code, publicUrl)}`,
    `x-scrapfly-reject-id: ${errorId}`,
    'x-scrapfly-reject-retryable: false',
    'connection: close',
  ].join('\r\n');
  socket.end(Buffer.concat([Buffer.from(`${head}\r\n\r\n`), body]));
}
