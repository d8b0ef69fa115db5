import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ApiError, errorBody, isApiError } from '../errors.js';
import { rejectHeaders } from '../scrapfly-headers.js';

/** The SDKs compare the whole Content-Type string with "application/json": no charset suffix. */
export const JSON_CONTENT_TYPE = 'application/json';

/** JSON as bytes: Fastify adds "; charset=utf-8" to string bodies, which the SDKs would not recognise. */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Sends an ApiError as Scrapfly's error body plus X-Scrapfly-Reject-* headers. */
export function sendApiError(
  reply: FastifyReply,
  error: ApiError,
  extraHeaders: Record<string, string> = {},
): FastifyReply {
  const errorId = randomUUID();
  const { httpStatus } = error.definition;
  const headers: Record<string, string> = {
    'content-type': JSON_CONTENT_TYPE,
    ...rejectHeaders(error, errorId),
    ...extraHeaders,
  };
  return reply
    .code(httpStatus)
    .headers(headers)
    .send(jsonBytes(errorBody(error, errorId)));
}

/** Scrapfly's generic auth failure shape; the SDKs turn a 401 into BadApiKeyError. */
export function sendUnauthorized(reply: FastifyReply, message = 'Invalid API key'): FastifyReply {
  return reply
    .code(401)
    .header('content-type', JSON_CONTENT_TYPE)
    .send(
      jsonBytes({
        status: 'error',
        http_code: 401,
        reason: 'Unauthorized',
        error_id: randomUUID(),
        message,
      }),
    );
}

/** Fastify's error handler: every error, expected or not, leaves as a catalogue error, never a bare 500. */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isApiError(error)) return sendApiError(reply, error);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map(
      (issue) => `${issue.instancePath.replace(/^\//, '') || 'request'} ${issue.message}`,
    );
    return sendApiError(
      reply,
      new ApiError('ERR::SCRAPE::CONFIG_ERROR', `Invalid request: ${issues.join('; ')}`),
    );
  }
  const status = (error as { statusCode?: number }).statusCode;
  if (status && status >= 400 && status < 500) {
    return sendApiError(
      reply,
      new ApiError('ERR::SCRAPE::CONFIG_ERROR', `Invalid request: ${(error as Error).message}`),
    );
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendApiError(
    reply,
    new ApiError('ERR::API::INTERNAL_ERROR', 'An unexpected error happened; it has been logged'),
  );
}
