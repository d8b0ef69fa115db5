/** One POST of a delivery, as the delivery worker needs it; implemented over the egress-guarded client. */
export interface DeliveryRequest {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
  /** Whose connections to use (the webhook's uuid): webhooks never share connections. */
  poolKey?: string;
  /** Connections the webhook may hold to its receiver (its max_concurrency). */
  maxConnections?: number;
}

export type DeliveryErrorClass = 'http' | 'timeout' | 'reset' | 'refused' | 'dns' | 'redirect' | 'network';

export interface DeliveryResult {
  /** True for a 2xx answer (after following allowed redirects). */
  ok: boolean;
  status: number | null;
  durationMs: number;
  /** The start of the receiver's answer, read up to a small cap. */
  responseExcerpt: string | null;
  /** Retry-After of a 429/503 answer, in seconds. */
  retryAfterSeconds: number | null;
  errorClass: DeliveryErrorClass | null;
  /** What went wrong, for people: "HTTP 500", "timed out after 10000 ms", "refused: 127.0.0.1 is loopback". */
  error: string | null;
}

export type WebhookTransport = (request: DeliveryRequest) => Promise<DeliveryResult>;
