import { randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type net from 'node:net';

/**
 * The verdict protocol of Snapwire's egress proxies: how a proxy's own answer (a refusal, an unresolvable
 * name, an unreachable address) is told apart from a page's. The error kind and reason ride in headers;
 * on plain http the answer also carries the listener's secret token, so only a listener's own answer is
 * trusted as a verdict (upstream answers lose every x-snapwire-* header, see forwarding.ts).
 */
export const EGRESS_ERROR_HEADER = 'x-snapwire-egress-error';
export const EGRESS_REASON_HEADER = 'x-snapwire-egress-reason';
/**
 * The proxy's own answers carry its listener's secret in this header; only an answer carrying it is a
 * verdict. A page cannot forge one: upstream answers lose every x-snapwire-* header on the way through
 * (plain http), and an https page, which the proxy cannot rewrite, does not know the secret.
 */
export const EGRESS_TOKEN_HEADER = 'x-snapwire-egress-token';

export type EgressFailureKind =
  | 'DOMAIN_NOT_ALLOWED'
  | 'DNS_NAME_NOT_RESOLVED'
  | 'NETWORK_ERROR'
  | 'BAD_PROTOCOL'
  /** A service worker's script: never fetched (see PinningProxy.forward()). */
  | 'SERVICE_WORKER_BLOCKED';

/** What a verdict says: the kind of failure and a reason a user can read. */
export interface Verdict {
  kind: EgressFailureKind;
  reason: string;
}

/** A fresh secret for one listener's own answers. */
export function newAnswerSecret(): string {
  return randomBytes(18).toString('base64url');
}

/** Whether `headers` (names any case) carry `secret` in EGRESS_TOKEN_HEADER. */
export function carriesSecret(headers: Record<string, unknown>, secret: string): boolean {
  let value: unknown;
  for (const [name, v] of Object.entries(headers)) if (name.toLowerCase() === EGRESS_TOKEN_HEADER) value = v;
  if (typeof value !== 'string') return false;
  const left = Buffer.from(value);
  const right = Buffer.from(secret);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A refusal is 403; anything else the proxy could not do is 502. */
export function verdictStatus(kind: EgressFailureKind): number {
  return kind === 'DOMAIN_NOT_ALLOWED' ? 403 : 502;
}

/** Answers a plain-http request with a verdict signed by the listener's `secret`. */
export function answerVerdict(
  res: http.ServerResponse,
  secret: string,
  verdict: Verdict,
  status = verdictStatus(verdict.kind),
): void {
  res
    .writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      [EGRESS_ERROR_HEADER]: verdict.kind,
      [EGRESS_REASON_HEADER]: encodeURIComponent(verdict.reason),
      [EGRESS_TOKEN_HEADER]: secret,
    })
    .end(`Snapwire egress proxy refused this request: ${verdict.reason}\n`);
}

/**
 * Ends a CONNECT or upgrade socket with a verdict. Chromium hides a failed tunnel's answer from the page
 * (net::ERR_TUNNEL_CONNECTION_FAILED), so the kind is only a hint here; the capture asks the listener's
 * failureFor() for the reason.
 */
export function endWithVerdict(
  client: net.Socket,
  kind: EgressFailureKind,
  status = verdictStatus(kind),
): void {
  const text = status === 403 ? 'Forbidden' : status === 400 ? 'Bad Request' : 'Bad Gateway';
  client.end(`HTTP/1.1 ${status} ${text}\r\n${EGRESS_ERROR_HEADER}: ${kind}\r\nContent-Length: 0\r\n\r\n`);
}
