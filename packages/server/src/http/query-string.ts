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
 * the limit, a malformed request line, a request that did not arrive in time) with a catalogue error, not
 * a bare status line, then closes the connection: a client that keeps sending must not keep it open.
 */
export function answerClientError(
  error: NodeJS.ErrnoException,
  socket: Socket,
  limits: {
    maxHeaderBytes: number;
    /** This service's address, for the link to its own error reference (/docs/errors). */
    publicUrl: string;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
  },
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const { status, statusText, reason } = clientErrorAnswer(error, limits);
  const apiError = new ApiError('ERR::SCRAPE::CONFIG_ERROR', reason);
  const errorId = randomUUID();
  const body = Buffer.from(
    JSON.stringify({ ...errorBody(apiError, errorId, limits.publicUrl), http_code: status }),
  );
  const head = [
    `HTTP/1.1 ${status} ${statusText}`,
    'content-type: application/json',
    `content-length: ${body.length}`,
    `x-scrapfly-reject-code: ${apiError.code}`,
    `x-scrapfly-reject-http-code: ${status}`,
    `x-scrapfly-reject-doc: ${errorDocUrl(apiError.code, limits.publicUrl)}`,
    `x-scrapfly-reject-id: ${errorId}`,
    'x-scrapfly-reject-retryable: false',
    'connection: close',
  ].join('\r\n');
  // The HTTP server keeps a socket half open after end(); destroyed once the answer is out.
  socket.end(Buffer.concat([Buffer.from(`${head}\r\n\r\n`), body]), () => socket.destroy());
}

function clientErrorAnswer(
  error: NodeJS.ErrnoException,
  limits: { maxHeaderBytes: number; headersTimeoutMs: number; requestTimeoutMs: number },
): { status: number; statusText: string; reason: string } {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return {
      status: 431,
      statusText: 'Request Header Fields Too Large',
      reason: `The request line and headers are over ${Math.round(limits.maxHeaderBytes / 1024)} KB; shorten the query string (js is at most 16 KB of script)`,
    };
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return {
      status: 408,
      statusText: 'Request Timeout',
      reason: `The request did not arrive in time: its headers must arrive within ${limits.headersTimeoutMs} ms (SNAPWIRE_HTTP_HEADERS_TIMEOUT) and the whole request within ${limits.requestTimeoutMs} ms (SNAPWIRE_HTTP_REQUEST_TIMEOUT); send it at once`,
    };
  }
  return { status: 400, statusText: 'Bad Request', reason: 'The HTTP request could not be parsed' };
}
