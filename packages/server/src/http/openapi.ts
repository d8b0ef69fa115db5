// Reusable pieces of the OpenAPI document (served at /openapi.json, browsable at /docs). Routes describe
// their answers in `schema.openapi` (documentation only: it never touches validation or serialisation,
// which stay with the zod schemas and parseScreenshotRequest's catalogue errors):
//
//   schema: {
//     querystring: keyQuery,
//     openapi: { responses: { 200: jsonResponse('The webhook'), ...errorResponses(404) } },
//   }
//
// Every route with a `key` query parameter is marked with the apiKey security scheme and gets the 401
// answer automatically (see finishDocument).
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { ZodType } from 'zod';
import { ERROR_CATALOGUE, type ErrorCode } from '../errors.js';

/** What a route adds to its OpenAPI operation. */
export interface OpenApiOperation {
  /** Answers by status code, built with the helpers below. */
  responses?: Record<number | string, ResponseDoc>;
  /** A richer query schema for the document (enums, ranges, defaults, examples) than the validator's. */
  querystring?: ZodType;
  /** Security requirements other than the default (apiKey for routes taking `key`), e.g. a bearer token. */
  security?: Array<Record<string, string[]>>;
  /** A raw request body (POST /extraction's document): its media types and what it is. */
  rawBody?: { contentTypes: string[]; description: string };
}

declare module 'fastify' {
  interface FastifySchema {
    /** Documentation only; see packages/server/src/http/openapi.ts. */
    openapi?: OpenApiOperation;
  }
}

export interface ResponseDoc {
  description: string;
  content?: Record<string, { schema: Record<string, unknown> }>;
  headers?: Record<string, Record<string, unknown>>;
}

export const SECURITY_SCHEME = 'apiKey';
/** The same project key sent as `Authorization: Bearer KEY` (the MCP endpoint accepts either). */
export const BEARER_SECURITY_SCHEME = 'bearerKey';

/** Scrapfly's error body (README "Errors", docs at /docs/errors). */
export const ERROR_BODY_SCHEMA = answerObject({
  code: {
    type: 'string',
    enum: Object.keys(ERROR_CATALOGUE),
    description: 'Catalogue code; each one is explained at /docs/errors#CODE',
    example: 'ERR::SCRAPE::CONFIG_ERROR',
  },
  error_id: { type: 'string', format: 'uuid' },
  http_code: { type: 'integer', example: 400 },
  links: {
    type: 'object',
    properties: { 'Related Error Doc': { type: 'string', description: 'This service’s page on the code' } },
  },
  message: {
    type: 'string',
    description:
      'What went wrong and what to fix, as `reason` (the official SDKs show it in their exception); on the schedule routes the code, which their SDK error prints as "message (reason)"',
  },
  reason: { type: 'string', description: 'What went wrong and what to fix' },
  retryable: { type: 'boolean', description: 'Whether the same request may succeed later' },
});

const UNAUTHORIZED_BODY_SCHEMA = answerObject(
  {
    status: { type: 'string', enum: ['error'] },
    http_code: { type: 'integer', enum: [401] },
    reason: { type: 'string', enum: ['Unauthorized'] },
    error_id: { type: 'string', format: 'uuid' },
    message: { type: 'string', example: 'Invalid API key' },
    code: { type: 'string', enum: ['ERR::API::UNAUTHORIZED'] },
    retryable: { type: 'boolean', enum: [false] },
    links: ERROR_BODY_SCHEMA.properties.links,
    error: {
      type: 'string',
      enum: ['ERR::API::UNAUTHORIZED'],
      description: 'Schedule routes only: the code again',
    },
  },
  ['code', 'retryable', 'links', 'error'],
);

const REJECT_HEADERS = {
  'X-Scrapfly-Reject-Code': { type: 'string', description: 'The error code' },
  'X-Scrapfly-Reject-Description': { type: 'string', description: 'Fixed description of the code' },
  'X-Scrapfly-Reject-Doc': { type: 'string', description: 'Link to the code’s entry at /docs/errors' },
  'X-Scrapfly-Reject-Retryable': { type: 'string', enum: ['true', 'false'] },
  'Retry-After': { type: 'integer', description: 'Seconds to wait (retryable errors only)' },
};

const STATUS_MEANING: Record<number, string> = {
  400: 'The request is not valid (a parameter missing, malformed, unknown or out of range)',
  404: 'No such resource in this project',
  409: 'The resource already exists',
  410: 'The resource existed but is no longer stored (retention)',
  413: 'The input is larger than the service takes',
  422: 'The page could not be captured as asked (address refused, DNS, network, selector, script …)',
  429: 'Throttled: concurrency, queue or monthly credits exhausted',
  500: 'Unexpected internal error (logged)',
  504: 'The capture did not finish within the timeout',
};

/** Error answers with the error schema; each names the catalogue codes that use the status. */
/** A rectangle in image pixels: a changed region of a comparison, an ignored area of a monitor. */
export const PIXEL_RECT_SCHEMA = answerObject({
  x: { type: 'integer' },
  y: { type: 'integer' },
  width: { type: 'integer' },
  height: { type: 'integer' },
});

export function errorResponses(...statuses: number[]): Record<number, ResponseDoc> {
  const out: Record<number, ResponseDoc> = {};
  for (const status of statuses) {
    const codes = (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).filter(
      (code) => ERROR_CATALOGUE[code].httpStatus === status,
    );
    out[status] = {
      description: `${STATUS_MEANING[status] ?? 'Error'}. Codes: ${codes.join(', ')}`,
      content: { 'application/json': { schema: ERROR_BODY_SCHEMA } },
      headers: REJECT_HEADERS,
    };
  }
  return out;
}

/** Error answers of the schedule routes: the error body plus `error`, the code the SDK's ScheduleAPIError reads. */
export function scheduleErrorResponses(...statuses: number[]): Record<number, ResponseDoc> {
  const out = errorResponses(...statuses);
  const schema = {
    ...ERROR_BODY_SCHEMA,
    required: [...ERROR_BODY_SCHEMA.required, 'error'],
    properties: {
      ...ERROR_BODY_SCHEMA.properties,
      error: { type: 'string', description: 'The code again (read by the SDK’s ScheduleAPIError)' },
    },
  };
  for (const response of Object.values(out)) response.content = { 'application/json': { schema } };
  return out;
}

export const UNAUTHORIZED_RESPONSE: ResponseDoc = {
  description: 'The key is missing, unknown or revoked',
  content: { 'application/json': { schema: UNAUTHORIZED_BODY_SCHEMA } },
};

/** The X-Scrapfly-* headers of a captured screenshot. */
export const SCREENSHOT_HEADERS: Record<string, Record<string, unknown>> = {
  'X-Scrapfly-Upstream-Http-Code': { type: 'integer', description: 'HTTP status of the captured page' },
  'X-Scrapfly-Upstream-Url': { type: 'string', description: 'Final URL after redirects' },
  'X-Scrapfly-Screenshot-Url': {
    type: 'string',
    description: 'The stored image (GET it again with ?key=)',
  },
  'X-Scrapfly-Api-Cost': { type: 'integer', description: 'Credits charged (60, 0 on a cache hit)' },
  'X-Scrapfly-Remaining-Api-Credit': { type: 'integer', description: 'Credits left this month' },
  'X-Scrapfly-Account-Concurrent-Usage': { type: 'integer' },
  'X-Scrapfly-Account-Remaining-Concurrent-Usage': { type: 'integer' },
  'X-Scrapfly-Project-Concurrent-Usage': { type: 'integer' },
  'X-Scrapfly-Project-Remaining-Concurrent-Usage': { type: 'integer' },
  'X-Scrapfly-Response-Time': { type: 'string', description: 'Seconds, e.g. 1.234' },
  'X-Scrapfly-Log-Uuid': { type: 'string', description: 'Monitoring log of the call' },
  'X-Scrapfly-Cache-Status': { type: 'string', enum: ['HIT', 'MISS'], description: 'With cache=true' },
  'x-request-id': { type: 'string' },
};

export const IMAGE_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'] as const;
/** What a capture can answer: the images, and format=pdf's document (a Snapwire extension). */
export const CAPTURE_CONTENT_TYPES = [...IMAGE_CONTENT_TYPES, 'application/pdf'] as const;

/** A 200 answering the capture's bytes (content type by `format`) with the X-Scrapfly-* headers. */
export function imageResponse(description: string): ResponseDoc {
  return {
    description,
    content: Object.fromEntries(
      CAPTURE_CONTENT_TYPES.map((type) => [type, { schema: { type: 'string', format: 'binary' } }]),
    ),
    headers: SCREENSHOT_HEADERS,
  };
}

/** The 201 promise of an asynchronous (webhook_name) screenshot: the job is stored before it leaves. */
export const ACCEPTED_RESPONSE: ResponseDoc = {
  description:
    'Asynchronous (webhook_name given): the job is stored and will be delivered to the webhook; nothing is lost',
  content: {
    'application/json': {
      schema: answerObject(
        {
          job_uuid: { type: 'string', description: 'Also sent as X-Scrapfly-Webhook-Job-Id (dedup key)' },
          log_uuid: { type: 'string' },
          log_url: { type: 'string' },
          success: { type: 'boolean', enum: [true] },
          webhook_enqueued: { type: 'boolean', enum: [true] },
          webhook_name: { type: 'string' },
          webhook_uuid: { type: 'string' },
          webhook_queue_limit: { type: 'integer' },
          webhook_queued_element: { type: 'integer' },
        },
        ['webhook_uuid', 'webhook_queue_limit', 'webhook_queued_element'],
      ),
    },
  },
  headers: {
    'X-Scrapfly-Log-Uuid': { type: 'string' },
    'X-Scrapfly-Log-Url': { type: 'string' },
  },
};

/**
 * An answer object whose properties are all always sent but those named `optional`: the `required` list is
 * derived from the properties, so a property added to the answer cannot be left out of it (the SDK's wire
 * types read `required`: scripts/sdk-wire-types.ts).
 */
export function answerObject<P extends Record<string, unknown>>(
  properties: P,
  optional: ReadonlyArray<keyof P & string> = [],
) {
  return {
    type: 'object' as const,
    required: Object.keys(properties).filter((name) => !(optional as readonly string[]).includes(name)),
    properties,
  };
}

/** A JSON schema of `type` or null (a field always sent, empty as null). */
export const nullable = (type: string, extra: Record<string, unknown> = {}) => ({
  type: [type, 'null'],
  ...extra,
});

/** A JSON answer; the schema is optional (left open when the shape is documented elsewhere). */
export function jsonResponse(
  description: string,
  schema: Record<string, unknown> = { type: 'object' },
): ResponseDoc {
  return { description, content: { 'application/json': { schema } } };
}

/**
 * @fastify/swagger's per-route transform: the zod schemas become JSON schema (fastify-type-provider-zod),
 * and `schema.openapi` supplies the documented query and the answers.
 */
export const openapiRouteTransform: typeof jsonSchemaTransform = (input) => {
  const extra = (input.schema as { openapi?: OpenApiOperation } | undefined)?.openapi;
  const schema = input.schema
    ? {
        ...input.schema,
        ...(extra?.querystring ? { querystring: extra.querystring } : {}),
      }
    : input.schema;
  if (schema) delete (schema as { openapi?: unknown }).openapi;
  const transformed = jsonSchemaTransform({ ...input, schema });
  if (extra?.rawBody && transformed.schema) {
    const document = transformed.schema as Record<string, unknown>;
    document.body = { type: 'string', format: 'binary', description: extra.rawBody.description };
    document.consumes = extra.rawBody.contentTypes;
  }
  if (extra?.responses && transformed.schema) {
    (transformed.schema as Record<string, unknown>).response = extra.responses;
  }
  // Passed on as an x- key (@fastify/swagger copies those) because schema.security would need the schemes
  // declared before finishDocument adds them; finishDocument turns it into `security`.
  if (extra?.security && transformed.schema) {
    (transformed.schema as Record<string, unknown>)[SECURITY_EXTENSION] = extra.security;
  }
  return transformed;
};

/** A ResponseDoc in the document's own form (what @fastify/swagger does for route-declared answers). */
function asDocumentResponse(response: ResponseDoc): Record<string, unknown> {
  const { headers, ...rest } = response;
  if (!headers) return rest;
  return {
    ...rest,
    headers: Object.fromEntries(
      Object.entries(headers).map(([name, { description, ...schema }]) => [
        name,
        { ...(description ? { description } : {}), schema },
      ]),
    ),
  };
}

const SECURITY_EXTENSION = 'x-snapwire-security';

type Operation = {
  parameters?: Array<{ name: string; in: string; schema?: Record<string, unknown>; [key: string]: unknown }>;
  [SECURITY_EXTENSION]?: Array<Record<string, string[]>>;
  security?: unknown;
  responses?: Record<string, unknown>;
  requestBody?: unknown;
};

/**
 * A query parameter's `style`/`explode` given as zod meta (e.g. headers[NAME] as deepObject) lands in its
 * schema; OpenAPI wants them on the parameter.
 */
function liftSerialisationStyle(operation: Operation): void {
  for (const parameter of operation.parameters ?? []) {
    for (const field of ['style', 'explode'] as const) {
      if (parameter.schema && field in parameter.schema) {
        parameter[field] = parameter.schema[field];
        delete parameter.schema[field];
      }
    }
  }
}

/**
 * The finishing pass over the whole document (@fastify/swagger's transformObject): the apiKey scheme, and
 * on every route that takes `key` in the query, the security requirement and the 401 answer. Routes get
 * the 400 answer too (every route validates its input) unless they declared their own.
 */
export function finishDocument(document: Record<string, unknown>): Record<string, unknown> {
  const doc = document as {
    components?: { securitySchemes?: Record<string, unknown>; schemas?: Record<string, unknown> };
    paths?: Record<string, Record<string, Operation>>;
  };
  doc.components = {
    ...doc.components,
    securitySchemes: {
      ...doc.components?.securitySchemes,
      [SECURITY_SCHEME]: {
        type: 'apiKey',
        in: 'query',
        name: 'key',
        description:
          'A project’s LIVE or TEST key (printed at the first start; `snapwire projects` manages them)',
      },
      [BEARER_SECURITY_SCHEME]: {
        type: 'http',
        scheme: 'bearer',
        description: 'The same project key as `Authorization: Bearer KEY` (accepted where a route says so)',
      },
    },
    schemas: { ...doc.components?.schemas, Error: ERROR_BODY_SCHEMA },
  };
  for (const operations of Object.values(doc.paths ?? {})) {
    for (const [method, shared] of Object.entries(operations)) {
      if (!['get', 'head', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      // A route of several methods (/scrape) shares one operation object among them: each gets its own,
      // without a request body where the method sends none, and without an answer body on HEAD.
      const operation = structuredClone(shared);
      operations[method] = operation;
      if (['get', 'head', 'delete'].includes(method)) delete operation.requestBody;
      if (method === 'head') {
        for (const response of Object.values(operation.responses ?? {}))
          delete (response as { content?: unknown }).content;
      }
      liftSerialisationStyle(operation);
      const declared = operation[SECURITY_EXTENSION];
      delete operation[SECURITY_EXTENSION];
      const keyed = operation.parameters?.some((p) => p.in === 'query' && p.name === 'key');
      if (keyed || declared) {
        operation.parameters = operation.parameters?.filter((p) => !(p.in === 'query' && p.name === 'key'));
        operation.security = declared ?? [{ [SECURITY_SCHEME]: [] }];
        operation.responses = { ...operation.responses, 401: asDocumentResponse(UNAUTHORIZED_RESPONSE) };
      }
      const responses = operation.responses ?? {};
      if (!responses['400']) responses['400'] = asDocumentResponse(errorResponses(400)[400] as ResponseDoc);
      // @fastify/swagger writes a placeholder 200 when a route declared nothing; keep it only as a last resort.
      operation.responses = responses;
    }
  }
  return document;
}
