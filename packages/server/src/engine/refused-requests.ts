import { EGRESS_ERROR_HEADER } from '../egress/verdicts.js';
import type { CdpSession } from './cdp.js';

export interface RefusedRequests {
  /** Requests of the page (subresources, frames, fetches, redirects) the egress guard refused. */
  count: number;
  /** The refused hosts, at most a handful, for the log. */
  hosts: string[];
}

const MAX_HOSTS = 20;

/**
 * Counts what the egress guard refused while one page loaded, for its monitoring log. Plain-http requests
 * come back from the proxy with its error header; a refused https or wss tunnel leaves only
 * ERR_TUNNEL_CONNECTION_FAILED, which `explain` (the proxy's record for the host) tells apart from a host
 * that was merely unreachable.
 */
export function watchRefusedRequests(
  session: CdpSession,
  explain: ((hostname: string) => { kind: string } | undefined) | undefined,
  /** Whether a response is the proxy's own answer; a page's forged verdict headers are not counted. */
  isEgressAnswer: ((headers: Record<string, unknown>) => boolean) | undefined = undefined,
): () => RefusedRequests {
  const hostsById = new Map<string, string>();
  const hosts = new Set<string>();
  let count = 0;
  const refuse = (host: string | undefined) => {
    count += 1;
    if (host && hosts.size < MAX_HOSTS) hosts.add(host);
  };
  session.on('Network.requestWillBeSent', (event: { requestId: string; request: { url: string } }) => {
    try {
      hostsById.set(event.requestId, new URL(event.request.url).hostname.replace(/^\[|\]$/g, ''));
    } catch {
      // data: and blob: URLs have no host
    }
  });
  session.on(
    'Network.responseReceived',
    (event: { requestId: string; response: { headers: Record<string, unknown> } }) => {
      const headers = event.response.headers;
      if (isEgressAnswer && !isEgressAnswer(headers)) return;
      const value = headers[EGRESS_ERROR_HEADER] ?? headers[EGRESS_ERROR_HEADER.toUpperCase()];
      if (value === 'DOMAIN_NOT_ALLOWED') refuse(hostsById.get(event.requestId));
    },
  );
  session.on('Network.loadingFailed', (event: { requestId: string; errorText?: string }) => {
    if (!event.errorText?.includes('ERR_TUNNEL_CONNECTION_FAILED')) return;
    const host = hostsById.get(event.requestId);
    if (host && explain?.(host)?.kind === 'DOMAIN_NOT_ALLOWED') refuse(host);
  });
  return () => ({ count, hosts: [...hosts] });
}
