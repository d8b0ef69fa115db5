import type { DeliveryFailureCode, GuardedHttpClient } from '../egress/http-client.js';
import type { DeliveryErrorClass, WebhookTransport } from './transport.js';

const ERROR_CLASSES: Record<DeliveryFailureCode, DeliveryErrorClass> = {
  ADDRESS_REFUSED: 'refused',
  DNS_FAILURE: 'dns',
  TIMEOUT: 'timeout',
  CONNECTION_REFUSED: 'network',
  CONNECTION_RESET: 'reset',
  TLS_ERROR: 'network',
  TOO_MANY_REDIRECTS: 'redirect',
  INSECURE_REDIRECT: 'redirect',
  BAD_REDIRECT: 'redirect',
  BAD_URL: 'refused',
  NETWORK_ERROR: 'network',
};

/** Retry-After in seconds (a number or an HTTP date), or null. */
// eslint-disable-next-line no-restricted-properties -- the receiver's HTTP date is real time, not the injected clock's
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

/** Deliveries over the egress-guarded client: resolve-check-pin on every hop, redirects checked. */
export function guardedTransport(client: GuardedHttpClient): WebhookTransport {
  return async ({ url, headers, body, timeoutMs, poolKey, maxConnections }) => {
    const result = await client.request({
      url,
      method: 'POST',
      headers,
      body,
      timeoutMs,
      ...(poolKey !== undefined ? { poolKey } : {}),
      ...(maxConnections !== undefined ? { maxConnections } : {}),
    });
    if (result.failure || result.status === undefined) {
      return {
        ok: false,
        status: null,
        durationMs: result.durationMs,
        responseExcerpt: null,
        retryAfterSeconds: null,
        errorClass: result.failure ? ERROR_CLASSES[result.failure.code] : 'network',
        error: result.failure?.message ?? 'no answer',
      };
    }
    const ok = result.status >= 200 && result.status < 300;
    const throttled = result.status === 429 || result.status === 503;
    return {
      ok,
      status: result.status,
      durationMs: result.durationMs,
      responseExcerpt: result.body.length > 0 ? result.body.toString('utf8') : null,
      retryAfterSeconds: throttled ? parseRetryAfter(result.headers['retry-after']) : null,
      errorClass: ok ? null : 'http',
      error: ok ? null : `HTTP ${result.status} from ${result.url}`,
    };
  };
}
