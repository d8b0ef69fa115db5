import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { projectScope } from '../../accounts/concurrency-leases.js';
import { ApiError } from '../../errors.js';
import { tooLarge } from '../../extraction/document.js';
import { ExtractionFailure } from '../../jobs/extraction-service.js';
import {
  EXTRACTION_LIMITS,
  EXTRACTION_MODELS,
  parseExtractionRequest,
} from '../../request/extraction-request.js';
import type { Query } from '../../request/rules.js';
import type { Services } from '../../services.js';
import { callerOf } from '../auth.js';
import { handleError, JSON_RESULT_CONTENT_TYPE, jsonBytes, sendApiError } from '../errors.js';
import { answerObject, errorResponses, jsonResponse, SCREENSHOT_HEADERS } from '../openapi.js';
import { parseQueryString } from '../query-string.js';
import { startStopwatch } from '../../clock.js';

// The document's view of the parameters (README "Extracting data"); requests are checked by
// parseExtractionRequest, whose catalogue errors name the fix.
const extractionQueryDoc = z.object({
  key: z.string().describe('Project API key (LIVE or TEST)'),
  content_type: z
    .string()
    .describe(
      'Media type of the document in the body: text/html, application/xhtml+xml, text/xml, application/json, text/plain, text/markdown, ...',
    )
    .meta({ examples: ['text/html'] }),
  url: z.string().describe("The document's address: links are made absolute against it").optional(),
  charset: z
    .string()
    .describe('Charset of the document (default utf-8); bytes not valid in it are refused')
    .optional(),
  extraction_template: z
    .string()
    .describe(
      'ephemeral:BASE64URL of a rules template (padding optional); persistent:NAME or NAME: a template saved with /extraction/templates (unknown: 404 ERR::EXTRACTION::TEMPLATE_NOT_FOUND)',
    )
    .optional(),
  extraction_prompt: z
    .string()
    .max(EXTRACTION_LIMITS.maxPromptLength)
    .describe("A request about the document for the operator's language model (needs SNAPWIRE_LLM_*)")
    .optional(),
  extraction_model: z
    .enum(EXTRACTION_MODELS)
    .describe("Auto-extraction model, answered in a documented JSON shape by the operator's language model")
    .optional(),
  webhook_name: z
    .string()
    .describe(
      'A webhook of this project and environment: the call answers 201 at once and the extraction result ({data, content_type}) is delivered there, signed',
    )
    .optional(),
  timeout: z
    .int()
    .min(EXTRACTION_LIMITS.minTimeoutMs)
    .default(EXTRACTION_LIMITS.defaultTimeoutMs)
    .describe("Budget of the extraction in ms, up to the operator's SNAPWIRE_MAX_TIMEOUT_MS"),
});

/** The X-Scrapfly-* headers of an extraction's answer (the same meaning as on /screenshot). */
const EXTRACTION_HEADERS = [
  'X-Scrapfly-Api-Cost',
  'X-Scrapfly-Remaining-Api-Credit',
  'X-Scrapfly-Project-Concurrent-Usage',
  'X-Scrapfly-Project-Remaining-Concurrent-Usage',
  'X-Scrapfly-Response-Time',
  'X-Scrapfly-Log-Uuid',
  'x-request-id',
];

const resultSchema = {
  ...answerObject(
    {
      data: { description: 'The extracted data: an object for templates, JSON or a string for prompts' },
      content_type: { type: 'string', examples: ['application/json'] },
      data_quality: { type: 'string', description: 'Set when the document was cut to the model budget' },
    },
    ['data_quality'],
  ),
  examples: [
    {
      data: { title: 'Blue Widget', price: { amount: 12.5, currency: 'USD', raw: '$12.50' } },
      content_type: 'application/json',
    },
  ],
};

/** Fastify's own refusals of the body (too large for the parser's limit) as catalogue errors. */
function bodyErrorHandler(maxBytes: number) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendApiError(reply, tooLarge(maxBytes, 'as sent'));
    return handleError(error, request, reply);
  };
}

const route: (services: Services) => FastifyPluginAsyncZod = (services) => async (app) => {
  const maxBytes = services.settings.extractionMaxBytes;
  // The body is the document itself, whatever its type, compressed or not: taken as bytes (this plugin's
  // parsers replace the app's JSON parser for this route only).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBytes }, (_request, body, done) => {
    done(null, body);
  });

  app.post(
    '/extraction',
    {
      config: { auth: 'key' },
      bodyLimit: maxBytes,
      errorHandler: bodyErrorHandler(maxBytes),
      schema: {
        summary: 'Extract data from a document',
        description:
          "The document is the request body (Content-Type: its media type; Content-Encoding: gzip, deflate or zstd when compressed). Extracts by a rules template (css, xpath, jmespath, regex; nested rules, formatters, extractors), or with extraction_prompt / extraction_model by the operator's language model. Answers {data, content_type}. Errors answer Scrapfly-style JSON with error_id (the SDKs raise ExtractionApiError).",
        tags: ['extraction'],
        // loose: unknown names reach parseExtractionRequest, which refuses them by name.
        querystring: z.object({ key: z.string().optional() }).loose(),
        openapi: {
          querystring: extractionQueryDoc,
          rawBody: {
            contentTypes: ['text/html', 'application/json', 'text/xml', 'text/plain', 'text/markdown'],
            description:
              'The document, as content_type says; Content-Encoding gzip, deflate or zstd when compressed',
          },
          responses: {
            200: {
              ...jsonResponse('The extracted data', resultSchema),
              headers: Object.fromEntries(
                EXTRACTION_HEADERS.map((name) => [name, SCREENSHOT_HEADERS[name] ?? { type: 'string' }]),
              ),
            },
            201: jsonResponse(
              'With webhook_name: the job is queued (job_uuid, log_uuid, webhook_*; data and content_type null); the result is delivered to the webhook',
            ),
            ...errorResponses(400, 404, 413, 422, 429),
          },
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const elapsed = startStopwatch();
      const sent = parseQueryString(
        request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '',
      );
      try {
        const parsed = parseExtractionRequest(sent as Query, {
          maxTimeoutMs: services.settings.maxTimeoutMs,
        });
        const bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const encoding = request.headers['content-encoding'];
        const body = { bytes, contentEncoding: Array.isArray(encoding) ? encoding.join(',') : encoding };
        if (parsed.webhookName !== undefined) {
          // Asynchronous: the job and its document are committed before this 201 goes out.
          const accepted = await services.asyncExtractions.accept(caller, parsed, body);
          return reply
            .code(201)
            .headers({
              'content-type': JSON_RESULT_CONTENT_TYPE,
              'x-scrapfly-api-cost': '0',
              'x-scrapfly-log-uuid': accepted.log_uuid,
              'x-scrapfly-log-url': accepted.log_url,
              'x-request-id': request.id,
            })
            .send(jsonBytes(accepted));
        }
        const outcome = await services.extractions.extract(caller, parsed, body);
        const usage = await services.concurrency.usage(projectScope(caller.project.id));
        return reply
          .code(200)
          .headers({
            // With the charset: both SDKs read it as a result (the Python one looks for application/json in it).
            'content-type': JSON_RESULT_CONTENT_TYPE,
            'x-scrapfly-api-cost': String(outcome.cost),
            'x-scrapfly-remaining-api-credit': String(outcome.remainingCredits),
            'x-scrapfly-project-concurrent-usage': String(usage),
            'x-scrapfly-project-remaining-concurrent-usage': String(
              Math.max(0, caller.project.limits.concurrency - usage),
            ),
            'x-scrapfly-response-time': (elapsed() / 1000).toFixed(3),
            'x-scrapfly-log-uuid': outcome.logUuid,
            'x-request-id': request.id,
          })
          .send(jsonBytes(outcome.result));
      } catch (error) {
        if (error instanceof ExtractionFailure) {
          return sendApiError(reply, error.error, {
            'x-scrapfly-log-uuid': error.logUuid,
            'x-scrapfly-api-cost': String(error.cost),
            'x-scrapfly-remaining-api-credit': String(await services.extractions.remainingCredits(caller)),
            'x-request-id': request.id,
          });
        }
        if (error instanceof ApiError) return sendApiError(reply, error, { 'x-request-id': request.id });
        throw error;
      }
    },
  );
};

export default route;
