import { HOP_BY_HOP } from '../egress/forwarding.js';
import { configError, CONTROL, TOKEN, type Query } from './rules.js';

/**
 * `headers[NAME]=VALUE` (the Scrape API's spelling of an extra request header): which names may be set,
 * and how many. The values are secrets (tokens): they are never echoed in an error.
 */

export const HEADER_PARAMETER = /^headers\[([^\]]*)\]$/;

export const HEADER_LIMITS = {
  maxHeaders: 32,
  maxHeaderBytes: 8 * 1024,
} as const;

/**
 * Header names refused by name: what the egress guard and the proxy rely on (Host decides where a plain
 * HTTP request goes; proxy-* and hop-by-hop headers are the proxy's own business; Service-Worker marks the
 * scripts it refuses), what the browser computes itself (Content-Length), and what has its own parameter
 * (Cookie: cookies; User-Agent: user_agent).
 */
const REFUSED_HEADERS: Record<string, string> = {
  host: 'the egress guard decides where requests go from the URL',
  cookie: 'use the cookies parameter',
  'user-agent': 'use the user_agent parameter',
  'content-length': 'the browser computes it',
  'service-worker': 'the egress proxy relies on it',
};

function refusedHeaderReason(name: string): string | undefined {
  if (REFUSED_HEADERS[name]) return REFUSED_HEADERS[name];
  if (name.startsWith('proxy-')) return 'proxy-* headers belong to the egress proxy';
  if (HOP_BY_HOP.has(name)) return 'hop-by-hop headers belong to each connection';
  if (name.startsWith('x-snapwire-')) return 'x-snapwire-* headers are Snapwire’s own';
  return undefined;
}

/** What one API allows of `headers[NAME]`: how many, how long a value, and which names it refuses. */
export interface HeaderRules {
  maxHeaders: number;
  maxHeaderBytes: number;
  /** Why `name` (lower-case) cannot be set, said after "cannot be set with headers[NAME]: "; undefined allows it. */
  refusedReason: (name: string) => string | undefined;
}

/**
 * Every `headers[NAME]=VALUE` of `query`, names lower-case. A name that is not a token, refused by `rules`,
 * given twice (in any case) or repeated, a value that is not one line or too long, and too many headers
 * are each a CONFIG_ERROR saying what to fix; a value is never echoed (it may be a secret).
 */
export function parseHeaderParameters(query: Query, rules: HeaderRules): Record<string, string> {
  const headers: Record<string, string> = {};
  let count = 0;
  for (const [parameter, raw] of Object.entries(query)) {
    const match = HEADER_PARAMETER.exec(parameter);
    if (!match) continue;
    const name = (match[1] ?? '').trim().toLowerCase();
    if (!TOKEN.test(name)) {
      throw configError(
        `The header name in "${parameter}" is not valid; give headers[NAME]=VALUE with a header name such as headers[authorization]`,
      );
    }
    const refused = rules.refusedReason(name);
    if (refused) throw configError(`The header "${name}" cannot be set with headers[${name}]: ${refused}`);
    if (Array.isArray(raw)) throw configError(`headers[${name}] was given ${raw.length} times; give it once`);
    const value = raw ?? '';
    if (CONTROL.test(value) || Buffer.byteLength(value) > rules.maxHeaderBytes) {
      throw configError(
        `The value of headers[${name}] must be one line of at most ${rules.maxHeaderBytes} bytes`,
      );
    }
    if (headers[name] !== undefined)
      throw configError(`The header "${name}" was given twice (header names ignore case)`);
    headers[name] = value;
    count += 1;
  }
  if (count > rules.maxHeaders)
    throw configError(`At most ${rules.maxHeaders} headers[NAME] parameters are accepted; got ${count}`);
  return headers;
}

/** The screenshot API's `headers[NAME]` (capture extensions): undefined when none is given. */
export function parseHeaders(query: Query): Record<string, string> | undefined {
  const headers = parseHeaderParameters(query, { ...HEADER_LIMITS, refusedReason: refusedHeaderReason });
  return Object.keys(headers).length > 0 ? headers : undefined;
}
