// The receiving side of webhook deliveries (the seed's "built-in server"), following Scrapfly's best
// practices: verify the HMAC on the raw bytes, branch on the resource type, dedup on the job id, and
// acknowledge at once, running the work after the answer is sent (slow handlers cause retries).
//
// `createWebhookReceiver` returns a node:http request listener that also carries `handle()`, the
// framework-free core (headers + raw body in, status + body + deferred work out) that the fastify and
// express adapters (adapters.ts) share.

import { Buffer } from 'node:buffer';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { extensionFor } from './content-type.js';
import { JobIdDedup } from './dedup.js';
import { WebhookHeader } from './headers.js';
import { verifySignature } from './signature.js';

/** What a callback receives for one verified delivery. */
export interface WebhookDelivery {
  /** The body bytes: the image for a screenshot (for a ping, its JSON body). */
  image: Buffer;
  /** e.g. `image/png`. */
  contentType: string;
  /** From the content-type subtype (`png`, `jpeg`, `webp`, `gif`); `bin` if unknown. */
  extension: string;
  /** `X-Scrapfly-Webhook-Job-Id`. */
  jobId: string | undefined;
  /** `X-Scrapfly-Log-Uuid`. */
  logUuid: string | undefined;
  /** `X-Scrapfly-Log-Url`. */
  logUrl: string | undefined;
  /** `X-Scrapfly-Webhook-Name`. */
  webhookName: string | undefined;
  /** `X-Scrapfly-Webhook-Id`. */
  webhookUuid: string | undefined;
  /** `X-Scrapfly-Webhook-Project`. */
  project: string | undefined;
  /** `X-Scrapfly-Webhook-Env`: `LIVE` or `TEST`. */
  env: string | undefined;
  /** `X-Scrapfly-Webhook-Resource-Type`: `screenshot`, `ping`, … */
  resourceType: string;
  /** Every request header, names in lower case (repeated headers joined with `, `). */
  headers: Record<string, string>;
  receivedAt: Date;
}

export interface ReceiverLogger {
  info?(message: string, meta?: Record<string, unknown>): void;
  warn?(message: string, meta?: Record<string, unknown>): void;
  error?(message: string, meta?: Record<string, unknown>): void;
}

export type DeliveryCallback = (delivery: WebhookDelivery) => unknown;

export interface WebhookReceiverOptions {
  /** The webhook's signing secret, or several while rotating (a delivery signed with any one is accepted). */
  secrets: string | readonly string[];
  /** Runs, after the 200 is sent, for each new delivery of an accepted resource type other than `ping`. */
  onScreenshot: DeliveryCallback;
  /** Runs for `ping` deliveries (sent when a webhook is created). Pings are acknowledged either way. */
  onPing?: DeliveryCallback;
  /**
   * Resource types handed to `onScreenshot` (default `['screenshot']`). Others are acknowledged with 200
   * (so the sender does not retry them) and ignored.
   */
  resourceTypes?: readonly string[];
  /**
   * How long a job id is remembered, in ms (default 26 h: the whole retry schedule, 30 s … 1 day).
   * 0 turns deduplication off.
   */
  dedupWindow?: number;
  /** At most this many job ids are remembered (default 10,000); the oldest go first. */
  dedupMaxEntries?: number;
  /** Larger bodies get 413 (default 50 MiB). Also bounds a decompressed body. */
  maxBodyBytes?: number;
  /** node:http listener only: answer 404 to other paths (default: any path). */
  path?: string;
  /** Where rejected, ignored and duplicate deliveries and callback errors are reported. */
  logger?: ReceiverLogger;
  /** Clock for the dedup window (tests). */
  now?: () => number;
}

export type DeliveryKind =
  | 'accepted'
  | 'duplicate'
  | 'ignored'
  | 'unauthorized'
  | 'too_large'
  | 'not_found'
  | 'method_not_allowed'
  | 'raw_body_unavailable';

/** The answer to give for one request, plus the work to start once it is sent. */
export interface DeliveryOutcome {
  status: number;
  kind: DeliveryKind;
  /** JSON text for the response body. */
  body: string;
  /** The verified delivery, for `accepted` and `duplicate`. */
  delivery?: WebhookDelivery;
  /** Starts the callback (no-op unless `accepted`). Call it after the response is sent; it never throws. */
  dispatch(): void;
}

export interface RawDelivery {
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>;
  body: Buffer | Uint8Array;
}

export interface WebhookReceiver {
  /** node:http request listener: `http.createServer(receiver)`. Applies the `path` option. */
  (req: IncomingMessage, res: ServerResponse): void;
  /**
   * Reads and answers one node request whose body nobody has read yet, without the `path` check (for
   * frameworks that routed it already).
   */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** The framework-free core: decide the answer for a raw delivery. Call `outcome.dispatch()` after replying. */
  handle(input: RawDelivery): DeliveryOutcome;
  /** Resolves once every callback started so far has settled (graceful shutdown, tests). */
  drain(): Promise<void>;
  /** Callbacks running now. */
  readonly pending: number;
  readonly maxBodyBytes: number;
}

export const DEFAULT_MAX_BODY_BYTES = 50 * 1024 * 1024;
export const DEFAULT_DEDUP_WINDOW_MS = 26 * 60 * 60 * 1000;
export const DEFAULT_DEDUP_MAX_ENTRIES = 10_000;

const noop = (): void => {};

function flattenHeaders(headers: RawDelivery['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

function json(value: Record<string, unknown>): string {
  return JSON.stringify(value);
}

function outcome(status: number, kind: DeliveryKind, extra: Record<string, unknown> = {}): DeliveryOutcome {
  return { status, kind, body: json({ status: kind, ...extra }), dispatch: noop };
}

/** Decodes a `Content-Encoding`d body, bounded; `undefined` when it is not actually encoded that way. */
function decodeBody(raw: Buffer, encoding: string, maxBytes: number): Buffer | undefined {
  const options = { maxOutputLength: Math.max(1, maxBytes) };
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip') return gunzipSync(raw, options);
    if (encoding === 'deflate') return inflateSync(raw, options);
    if (encoding === 'br') return brotliDecompressSync(raw, options);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError)
      throw error;
    return undefined;
  }
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/**
 * Builds the receiver. Throws if no non-empty secret is given: an unsigned endpoint would accept anyone.
 */
export function createWebhookReceiver(options: WebhookReceiverOptions): WebhookReceiver {
  const secrets = (
    typeof options.secrets === 'string' ? [options.secrets] : [...(options.secrets ?? [])]
  ).filter((secret) => typeof secret === 'string' && secret !== '');
  if (secrets.length === 0)
    throw new TypeError('createWebhookReceiver: at least one non-empty secret is required');
  if (typeof options.onScreenshot !== 'function') {
    throw new TypeError('createWebhookReceiver: onScreenshot must be a function');
  }
  const resourceTypes = new Set((options.resourceTypes ?? ['screenshot']).map((type) => type.toLowerCase()));
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const windowMs = options.dedupWindow ?? DEFAULT_DEDUP_WINDOW_MS;
  const dedup =
    windowMs > 0
      ? new JobIdDedup({
          windowMs,
          maxEntries: options.dedupMaxEntries ?? DEFAULT_DEDUP_MAX_ENTRIES,
          ...(options.now ? { now: options.now } : {}),
        })
      : undefined;
  const logger = options.logger ?? { error: (message: string) => console.error(message) };
  const pending = new Set<Promise<void>>();

  function run(callback: DeliveryCallback, delivery: WebhookDelivery): void {
    const task: Promise<void> = (async () => {
      try {
        await callback(delivery);
      } catch (error) {
        // The 200 is already sent: forget the job id so that a redelivery gets another chance.
        const key = delivery.headers[WebhookHeader.deliveryId] || delivery.jobId;
        if (dedup && key) dedup.forget(key);
        logger.error?.(`webhook callback failed for job ${delivery.jobId ?? '(none)'}: ${describe(error)}`, {
          jobId: delivery.jobId,
          resourceType: delivery.resourceType,
          error,
        });
      }
    })().finally(() => pending.delete(task));
    pending.add(task);
  }

  function handle(input: RawDelivery): DeliveryOutcome {
    const raw =
      input.body instanceof Buffer
        ? input.body
        : input.body instanceof Uint8Array
          ? Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength)
          : undefined;
    if (!raw) {
      logger.error?.('webhook receiver: the raw body is not available (got a parsed body); see the README');
      return outcome(500, 'raw_body_unavailable');
    }
    const headers = flattenHeaders(input.headers);
    if (raw.length > maxBodyBytes) {
      tooLarge(headers, raw.length);
      return outcome(413, 'too_large', { max_bytes: maxBodyBytes });
    }
    // The previous-secret signature too: during a rotation's grace period a receiver still configured with
    // the old secret keeps accepting deliveries (the server sends it only while the grace period runs).
    const signatures = [
      headers[WebhookHeader.signature],
      headers[WebhookHeader.signatureLowercase],
      headers[WebhookHeader.signaturePrevious],
    ].filter((value): value is string => typeof value === 'string' && value !== '');
    const verifies = (body: Buffer): boolean =>
      signatures.some((signature) => verifySignature({ body, signature, secrets }));

    // Verify the bytes as they came. If they are content-encoded, the signature may instead cover the
    // decoded bytes (stacks that decompress transparently hand those over): accept either.
    let payload = raw;
    let verified = verifies(raw);
    const encoding = headers['content-encoding']?.trim().toLowerCase();
    if (encoding && encoding !== 'identity') {
      let decoded: Buffer | undefined;
      try {
        decoded = decodeBody(raw, encoding, maxBodyBytes);
      } catch {
        tooLarge(headers, maxBodyBytes + 1);
        return outcome(413, 'too_large', { max_bytes: maxBodyBytes });
      }
      if (decoded) {
        payload = decoded;
        if (!verified) verified = verifies(decoded);
      }
    }
    const jobId = headers[WebhookHeader.jobId] || undefined;
    const resourceType = (headers[WebhookHeader.resourceType] ?? '').trim().toLowerCase();
    if (!verified) {
      logger.warn?.(
        `webhook delivery refused: ${signatures.length === 0 ? 'no signature header' : 'bad signature'} (job ${jobId ?? '(none)'})`,
        { jobId, resourceType },
      );
      return outcome(401, 'unauthorized', { error: 'invalid signature' });
    }

    const contentType = headers['content-type'] ?? 'application/octet-stream';
    const delivery: WebhookDelivery = {
      image: payload,
      contentType,
      extension: extensionFor(contentType),
      jobId,
      logUuid: headers[WebhookHeader.logUuid],
      logUrl: headers[WebhookHeader.logUrl],
      webhookName: headers[WebhookHeader.name],
      webhookUuid: headers[WebhookHeader.webhookId],
      project: headers[WebhookHeader.project],
      env: headers[WebhookHeader.env],
      resourceType,
      headers,
      receivedAt: new Date(options.now ? options.now() : Date.now()),
    };

    const callback =
      resourceType === 'ping'
        ? options.onPing
        : resourceTypes.has(resourceType)
          ? options.onScreenshot
          : undefined;
    if (!callback) {
      if (resourceType !== 'ping') {
        logger.info?.(
          `webhook delivery ignored: resource type "${resourceType}" (job ${jobId ?? '(none)'})`,
          {
            jobId,
            resourceType,
          },
        );
      } else {
        logger.info?.(`webhook ping received (job ${jobId ?? '(none)'})`, { jobId, resourceType });
      }
      return outcome(200, 'ignored', { resource_type: resourceType });
    }
    // Retries of one delivery share its delivery id (the job id when absent); a replay has a new one.
    const dedupKey = headers[WebhookHeader.deliveryId] || jobId;
    if (dedup && dedupKey && dedup.checkAndRemember(dedupKey)) {
      logger.info?.(`webhook delivery duplicate: job ${jobId} already received`, { jobId, resourceType });
      return { ...outcome(200, 'duplicate', { job_id: jobId }), delivery };
    }
    let started = false;
    return {
      status: 200,
      kind: 'accepted',
      body: json({ status: 'accepted', job_id: jobId ?? null }),
      delivery,
      dispatch: () => {
        if (started) return;
        started = true;
        run(callback, delivery);
      },
    };
  }

  function tooLarge(headers: IncomingHttpHeaders, bytes: number): void {
    logger.warn?.(
      `webhook delivery refused: body of ${bytes}+ bytes over the ${maxBodyBytes} byte limit (job ${String(headers[WebhookHeader.jobId] ?? '(none)')})`,
      { bytes, maxBodyBytes },
    );
  }

  function serve(req: IncomingMessage, res: ServerResponse, checkPath: boolean): void {
    const send = (result: DeliveryOutcome, close = false): void => {
      if (res.headersSent) return;
      res.statusCode = result.status;
      res.setHeader('content-type', 'application/json');
      if (result.kind === 'method_not_allowed') res.setHeader('allow', 'POST');
      if (close) res.setHeader('connection', 'close');
      res.end(result.body);
    };
    if (checkPath && options.path !== undefined) {
      const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (pathname !== options.path) return send(outcome(404, 'not_found'), true);
    }
    if (req.method !== 'POST') return send(outcome(405, 'method_not_allowed'), true);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      // Refuse before reading a byte; the connection is closed after the answer.
      tooLarge(req.headers, declared);
      return send(outcome(413, 'too_large', { max_bytes: maxBodyBytes }), true);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBodyBytes) {
        refused = true;
        chunks.length = 0;
        tooLarge(req.headers, size);
        send(outcome(413, 'too_large', { max_bytes: maxBodyBytes }), true);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      const result = handle({ headers: req.headers, body: Buffer.concat(chunks, size) });
      send(result);
      // Hand the work off only after the answer is on its way.
      setImmediate(result.dispatch);
    });
    req.on('error', noop);
  }

  const listener = ((req: IncomingMessage, res: ServerResponse): void =>
    serve(req, res, true)) as WebhookReceiver;
  listener.handle = handle;
  listener.handleRequest = (req, res) => serve(req, res, false);
  listener.drain = async () => {
    // Callbacks started while draining are waited for too; bounded by what is pending at each pass.
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };
  Object.defineProperty(listener, 'pending', { get: () => pending.size, enumerable: true });
  Object.defineProperty(listener, 'maxBodyBytes', { value: maxBodyBytes, enumerable: true });
  return listener;
}
