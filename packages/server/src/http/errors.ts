import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ApiError, errorBody, errorLinks, isApiError, storeOutageToApiError } from '../errors.js';
import { rejectHeaders } from '../scrapfly-headers.js';

/** The SDKs compare the whole Content-Type string with "application/json": no charset suffix. */
export const JSON_CONTENT_TYPE = 'application/json';
/**
 * A JSON answer that is not an error (the 201 promise of an asynchronous screenshot). The TypeScript SDK
 * parses a body typed exactly `application/json` looking for `error_id` and then reads it again, which
 * throws; with the charset it hands the body over as a result (docs/compat.md §2).
 */
export const JSON_RESULT_CONTENT_TYPE = 'application/json; charset=utf-8';

/** JSON as bytes: Fastify adds "; charset=utf-8" to string bodies, which the SDKs would not recognise. */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Sends an ApiError as Scrapfly's error body plus X-Scrapfly-Reject-* headers. */
export function sendApiError(
  reply: FastifyReply,
  error: ApiError,
  extraHeaders: Record<string, string> = {},
  /** Fields added to the body (the schedule routes add `error`, which the SDK's ScheduleAPIError reads). */
  extraBody: Record<string, unknown> = {},
): FastifyReply {
  // A refused key answers Scrapfly's generic 401 shape, whichever route or hook refused it.
  if (error.code === 'ERR::API::UNAUTHORIZED') return sendUnauthorized(reply, error.reason, extraBody);
  const errorId = randomUUID();
  const { httpStatus } = error.definition;
  // The public URL is decorated on the app by buildApp; links go to this service's own error reference.
  const publicUrl = (reply.server as unknown as { publicUrl?: string }).publicUrl ?? '';
  const headers: Record<string, string> = {
    'content-type': JSON_CONTENT_TYPE,
    ...rejectHeaders(error, errorId, publicUrl),
    ...extraHeaders,
  };
  const body = { ...errorBody(error, errorId, publicUrl), ...extraBody };
  // Scrapfly's scheduler envelope (it carries `error`): both SDKs' ScheduleAPIError read it as
  // "message (reason)", so there the message is the code and the reason is not said twice.
  if ('error' in extraBody) body.message = error.code;
  return reply.code(httpStatus).headers(headers).send(jsonBytes(body));
}

/**
 * Scrapfly's generic auth failure shape; the SDKs turn a 401 into BadApiKeyError. `code` and `links` are
 * added because the Python SDK's error formatter reads both from every error body (KeyError without them).
 */
export function sendUnauthorized(
  reply: FastifyReply,
  message = 'Invalid API key',
  extraBody: Record<string, unknown> = {},
): FastifyReply {
  const code = 'ERR::API::UNAUTHORIZED';
  const publicUrl = (reply.server as unknown as { publicUrl?: string }).publicUrl ?? '';
  return reply
    .code(401)
    .header('content-type', JSON_CONTENT_TYPE)
    .send(
      // Code and message first: the TypeScript SDK's BadApiKeyError message is this body serialised.
      jsonBytes({
        code,
        message,
        retryable: false,
        status: 'error',
        http_code: 401,
        reason: 'Unauthorized',
        error_id: randomUUID(),
        links: errorLinks(code, publicUrl),
        ...extraBody,
      }),
    );
}

/** Fastify's error handler: every error, expected or not, leaves as a catalogue error, never a bare 500. */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendApiError(reply, apiErrorOf(error, request));
}

/** Any error a route raised, as a catalogue error (unexpected ones are logged and become INTERNAL_ERROR). */
export function apiErrorOf(error: unknown, request: FastifyRequest): ApiError {
  if (isApiError(error)) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map(
      (issue) => `${issue.instancePath.replace(/^\//, '') || 'request'} ${issue.message}`,
    );
    return new ApiError('ERR::SCRAPE::CONFIG_ERROR', `Invalid request: ${issues.join('; ')}`);
  }
  const status = (error as { statusCode?: number }).statusCode;
  if (status && status >= 400 && status < 500) {
    return new ApiError('ERR::SCRAPE::CONFIG_ERROR', `Invalid request: ${(error as Error).message}`);
  }
  const outage = storeOutageToApiError(error);
  if (outage) {
    request.log.warn({ err: error }, 'the database failed under a request');
    return outage;
  }
  request.log.error({ err: error }, 'unhandled error');
  return new ApiError('ERR::API::INTERNAL_ERROR', 'An unexpected error happened; it has been logged');
}
