// Webhook signatures (docs/compat.md §3): HMAC-SHA256 over the raw body bytes, keyed with the secret as UTF-8,
// sent as UPPERCASE hex in `X-Scrapfly-Webhook-Signature` and lower case in
// `X-Scrapfly-Webhook-Signature-Lowercase`. The server signs with `signPayload`, receivers check with
// `verifySignature`; both agree with Scrapfly's official SDK (`verifySignature(body, signature, secret)`).

import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';

export type WebhookBody = Buffer | Uint8Array | string;

function hmac(body: WebhookBody, secret: string): Buffer {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8'));
  mac.update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  return mac.digest();
}

/** HMAC-SHA256 of `body` (a string is taken as UTF-8) with `secret` (UTF-8), as UPPERCASE hex. */
export function signPayload(body: WebhookBody, secret: string): string {
  if (typeof secret !== 'string' || secret === '')
    throw new TypeError('signPayload: secret must be a non-empty string');
  return hmac(body, secret).toString('hex').toUpperCase();
}

export interface VerifySignatureInput {
  /** The raw request body, exactly as received. A string is taken as UTF-8. */
  body: WebhookBody;
  /** `X-Scrapfly-Webhook-Signature` (upper case) or `…-Lowercase`: either case is accepted. */
  signature: string | null | undefined;
  /** The webhook's signing secret, or several while rotating (any one may match). Empty ones are ignored. */
  secrets: string | readonly string[];
}

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/**
 * True when `signature` is the HMAC-SHA256 of `body` under one of `secrets`. Compares the 32 digest bytes
 * with `crypto.timingSafeEqual`, and checks every secret (no early exit), so the time taken does not say
 * which secret matched. Never throws: a missing or malformed signature is simply `false`.
 */
export function verifySignature(input: VerifySignatureInput): boolean {
  const { body, signature, secrets } = input ?? ({} as VerifySignatureInput);
  if (typeof signature !== 'string') return false;
  const trimmed = signature.trim();
  if (!HEX_SHA256.test(trimmed)) return false;
  if (body === null || body === undefined) return false;
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) return false;
  const received = Buffer.from(trimmed, 'hex');
  const list = (typeof secrets === 'string' ? [secrets] : Array.isArray(secrets) ? secrets : []).filter(
    (secret): secret is string => typeof secret === 'string' && secret !== '',
  );
  let matched = false;
  for (const secret of list) {
    const expected = hmac(body, secret);
    // Both are 32 bytes (the regex above fixed the received length), as timingSafeEqual requires.
    if (expected.length === received.length && timingSafeEqual(expected, received)) matched = true;
  }
  return matched;
}
