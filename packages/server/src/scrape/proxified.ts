import type { ScrapeOutcome } from './scrape-service.js';

/**
 * proxified_response=true (docs/compat.md §7): the answer is the target's own status, headers and body (the
 * content in the asked format) instead of the envelope. The X-Scrapfly-* headers come along; a failure of
 * the scrape itself answers the catalogue status with the error as JSON and the X-Scrapfly-Reject-*
 * headers, which the TypeScript SDK turns back into an error. A target's own 4xx/5xx is not a failure here:
 * it is answered as served.
 */

/** Framing and hop-by-hop headers: the answer is framed anew by this server. */
const NOT_FORWARDED = new Set([
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
  'set-cookie',
]);

export interface ProxifiedAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** True when the scrape failed (not the target): the caller adds the X-Scrapfly-Reject-* headers. */
  rejected: boolean;
}

export function proxifiedAnswerOf(outcome: ScrapeOutcome): ProxifiedAnswer {
  const { result } = outcome.envelope;
  const upstreamAnswered =
    outcome.error === undefined || outcome.error.code === 'ERR::SCRAPE::BAD_UPSTREAM_RESPONSE';
  if (!upstreamAnswered || result.status_code === 0) {
    return {
      status: outcome.httpStatus,
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-scrapfly-proxified': 'true' },
      body: Buffer.from(JSON.stringify(result.error), 'utf8'),
      rejected: true,
    };
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.response_headers)) {
    if (!NOT_FORWARDED.has(name) && !name.startsWith('x-scrapfly-')) headers[name] = value;
  }
  if (result.content_type) headers['content-type'] = result.content_type;
  if (outcome.setCookies.length > 0) headers['set-cookie'] = outcome.setCookies;
  headers['x-scrapfly-proxified'] = 'true';
  return {
    status: result.status_code,
    headers,
    body: Buffer.from(result.content, result.content_encoding === 'base64' ? 'base64' : 'utf8'),
    rejected: false,
  };
}
