import { STATUS_CODES } from 'node:http';
import type { UpstreamAnswer } from '../scrape/fetch-upstream.js';

/**
 * HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) entries of a crawl: one entry per visited page,
 * kept as a blob when the page is stored, so that GET /crawl/{uuid}/artifact?type=har is the `log` wrapper
 * around them. Text bodies are in `content.text`; a binary body is given by its size only.
 */

const TEXTUAL =
  /^(text\/|application\/(json|xml|xhtml\+xml|javascript|ld\+json)|[a-z]+\/[a-z0-9.+-]*\+(json|xml))/i;

const nameValues = (headers: Record<string, string>) =>
  Object.entries(headers).map(([name, value]) => ({ name, value }));

export function harEntry(
  answer: UpstreamAnswer,
  startedAt: number,
  durationMs: number,
): Record<string, unknown> {
  const target = new URL(answer.url);
  const mimeType = answer.headers['content-type'] ?? '';
  const text = TEXTUAL.test(mimeType) ? answer.body.toString('utf8') : undefined;
  return {
    startedDateTime: new Date(startedAt).toISOString(),
    time: durationMs,
    request: {
      method: 'GET',
      url: answer.url,
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: nameValues(answer.requestHeaders),
      queryString: [...target.searchParams].map(([name, value]) => ({ name, value })),
      headersSize: -1,
      bodySize: 0,
    },
    response: {
      status: answer.status,
      statusText: STATUS_CODES[answer.status] ?? '',
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: [
        ...nameValues(answer.headers),
        ...answer.setCookies.map((value) => ({ name: 'set-cookie', value })),
      ],
      content: { size: answer.body.length, mimeType, ...(text !== undefined ? { text } : {}) },
      redirectURL: answer.headers.location ?? '',
      headersSize: -1,
      bodySize: answer.body.length,
    },
    cache: {},
    timings: { send: 0, wait: durationMs, receive: 0 },
    ...(answer.address ? { serverIPAddress: answer.address } : {}),
  };
}

/** The HAR file's opening, before the entries (joined with commas) and HAR_CLOSE. */
export const HAR_OPEN =
  '{"log":{"version":"1.2","creator":{"name":"Snapwire","version":"1"},"pages":[],"entries":[';
export const HAR_CLOSE = ']}}';
