// Fastify and express adapters over the receiver core. Neither framework is imported: the types below
// are the few members used, so the SDK keeps no runtime dependency.
//
// The one thing both frameworks get in the way of is the raw body: the HMAC covers the bytes as sent,
// and a body parsed to JSON (or decoded to a string) cannot be turned back into them.
// - fastify: the plugin registers, inside its own encapsulated context, a catch-all content-type parser
//   with `parseAs: 'buffer'` after removing the default ones, so `request.body` is the raw Buffer for
//   every content type (images and JSON pings alike) on its route only.
// - express: mount the middleware before any body parser, or behind `express.raw({ type: '*/*' })`;
//   it reads the stream itself when nothing has consumed it.

import { Buffer } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createWebhookReceiver,
  type DeliveryOutcome,
  type WebhookReceiver,
  type WebhookReceiverOptions,
} from './receiver.js';

function toReceiver(source: WebhookReceiver | WebhookReceiverOptions): WebhookReceiver {
  return typeof source === 'function' ? source : createWebhookReceiver(source);
}

// ---------------------------------------------------------------------------------------------- fastify

export interface FastifyRequestLike {
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}

export interface FastifyReplyLike {
  code(statusCode: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}

/** The members of a fastify instance the plugin uses. */
export interface FastifyInstanceLike {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(
    contentType: string,
    options: { parseAs: 'buffer'; bodyLimit?: number },
    parser: (request: any, body: Buffer, done: (error: Error | null, body?: unknown) => void) => void,
  ): void;
  post(path: string, handler: (request: any, reply: any) => Promise<unknown>): unknown;
}

export type FastifyWebhookPluginOptions = WebhookReceiverOptions & {
  /** Route path inside the plugin's prefix (default `/webhook`). */
  path?: string;
  /** Use an existing receiver (its secrets and callbacks) instead of building one from these options. */
  receiver?: WebhookReceiver;
};

/**
 * A fastify route handler for a route whose body is the raw Buffer (see `snapwireFastifyPlugin`, or
 * register your own `addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => done(null, body))`
 * in the route's context). A parsed body is refused with 500 rather than verified wrongly.
 */
export function createFastifyWebhookHandler(
  source: WebhookReceiver | WebhookReceiverOptions,
): (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<FastifyReplyLike> {
  const receiver = toReceiver(source);
  return async (request, reply) => {
    // An empty body can reach the handler as undefined (no parser runs for zero bytes).
    const body = request.body === undefined || request.body === null ? Buffer.alloc(0) : request.body;
    // A body that is not bytes (a parser other than parseAs 'buffer' ran) is refused by handle() with 500.
    const result: DeliveryOutcome = receiver.handle({ headers: request.headers, body: body as Buffer });
    reply.code(result.status).header('content-type', 'application/json').send(result.body);
    setImmediate(result.dispatch);
    return reply;
  };
}

/**
 * Fastify plugin: `app.register(snapwireFastifyPlugin, { secrets, onScreenshot, path: '/webhook' })`.
 * Do not wrap it in fastify-plugin: its raw-body parser must stay encapsulated to its own route. Bodies
 * over `maxBodyBytes` are refused by fastify's parser with 413.
 */
export async function snapwireFastifyPlugin(
  fastify: FastifyInstanceLike,
  options: FastifyWebhookPluginOptions,
): Promise<void> {
  const { path = '/webhook', receiver: given, ...receiverOptions } = options;
  const receiver = given ?? createWebhookReceiver(receiverOptions);
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: receiver.maxBodyBytes },
    (_request, body, done) => done(null, body),
  );
  fastify.post(path, createFastifyWebhookHandler(receiver));
}

// ---------------------------------------------------------------------------------------------- express

/** An express request: a node IncomingMessage, with `body` when a body parser ran. */
export type ExpressRequestLike = IncomingMessage & { body?: unknown };
export type ExpressNext = (error?: unknown) => void;

/**
 * Express middleware (`app.post('/webhook', createExpressWebhookMiddleware({ secrets, onScreenshot }))`).
 * Works with `express.raw({ type: '*\/*', limit })` in front (then `req.body` is the Buffer) or with no
 * body parser at all (the stream is read here, up to `maxBodyBytes`). If `express.json()` or another
 * parser already consumed the body, it calls `next(error)`: the signature cannot be checked on a parsed body.
 */
export function createExpressWebhookMiddleware(
  source: WebhookReceiver | WebhookReceiverOptions,
): (req: ExpressRequestLike, res: ServerResponse, next: ExpressNext) => void {
  const receiver = toReceiver(source);
  return (req, res, next) => {
    if (req.body instanceof Uint8Array) {
      const result = receiver.handle({ headers: req.headers, body: req.body });
      res.statusCode = result.status;
      res.setHeader('content-type', 'application/json');
      res.end(result.body);
      setImmediate(result.dispatch);
      return;
    }
    const parsed =
      req.body !== undefined &&
      req.body !== null &&
      !(
        typeof req.body === 'object' &&
        Object.keys(req.body as object).length === 0 &&
        req.readableEnded === false
      );
    if (parsed || req.readableEnded) {
      next(
        new Error(
          'snapwire webhook middleware: the raw body was already consumed by another body parser; mount it ' +
            'before express.json() or use express.raw({ type: "*/*" }) on this route',
        ),
      );
      return;
    }
    // Nothing read the stream: the receiver reads it (with its size limit) and answers.
    receiver.handleRequest(req, res);
  };
}
