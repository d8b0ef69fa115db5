import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../errors.js';
import { parseScrapeRequest, SCRAPE_METHODS } from '../../request/scrape-request.js';
import { proxifiedAnswerOf } from '../../scrape/proxified.js';
import { ScrapeRefused } from '../../scrape/scrape-service.js';
import { rejectHeaders, scrapeAnswerHeaders } from '../../scrapfly-headers.js';
import type { Services } from '../../services.js';
import { callerOf } from '../auth.js';
import { apiErrorOf, JSON_RESULT_CONTENT_TYPE, jsonBytes, sendApiError } from '../errors.js';
import { errorResponses, jsonResponse } from '../openapi.js';
import { SCRAPE_OK_RESPONSE, scrapeFailureResponses, scrapeQueryDoc } from '../scrape-openapi.js';
import { parseQueryString } from '../query-string.js';
import { startStopwatch } from '../../clock.js';

const route: (services: Services) => FastifyPluginAsyncZod = (services) => async (app) => {
  const maxBodyBytes = services.settings.scrapeMaxBodyBytes;
  // The request body is the target's body: raw bytes of any type, never parsed (only inside this plugin).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_request, body, done) =>
    done(null, body),
  );
  app.setErrorHandler((error, request, reply) => {
    if ((error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendApiError(
        reply,
        new ApiError(
          'ERR::SCRAPE::CONFIG_ERROR',
          `The request body is over ${maxBodyBytes} bytes, the largest body this host sends to a target (SNAPWIRE_SCRAPE_MAX_BODY_BYTES)`,
        ),
      );
    }
    return sendApiError(reply, apiErrorOf(error, request));
  });

  app.route({
    method: [...SCRAPE_METHODS],
    url: '/scrape',
    exposeHeadRoute: false,
    config: { auth: 'key' },
    schema: {
      summary: 'Scrape a page',
      description:
        "Fetches the page (without a browser by default; with render_js=true in Chromium) and answers Scrapfly's scrape envelope: `{uuid, config, context, result}` with the content in `result.content` in the asked format. The method (GET, POST, PUT, PATCH, HEAD) and the body are sent to the target as they are, with the body's Content-Type (headers[content-type] first). A target's 4xx/5xx answers 200 with `result.success=false` and `result.error.code` ERR::SCRAPE::BAD_UPSTREAM_RESPONSE; other failures of the scrape answer the envelope with the error's status. Refusals before the scrape (parameters, key, quota, concurrency) answer Scrapfly's error body.",
      tags: ['scrape'],
      // loose: unknown names reach parseScrapeRequest, which refuses them by name.
      querystring: z.object({ key: z.string().optional() }).loose(),
      openapi: {
        querystring: scrapeQueryDoc,
        rawBody: {
          contentTypes: ['application/json', 'application/x-www-form-urlencoded', 'text/plain', '*/*'],
          description:
            "POST, PUT and PATCH: the body sent to the target as it is, with this request's Content-Type (headers[content-type] first)",
        },
        responses: {
          200: SCRAPE_OK_RESPONSE,
          201: jsonResponse(
            'With webhook_name: the job is queued; an envelope without content whose context.webhook and context.job say where the scrape is delivered',
          ),
          ...errorResponses(400, 401),
          ...scrapeFailureResponses(422, 429, 504),
        },
      },
    },
    handler: async (request, reply) => {
      const caller = callerOf(request);
      const elapsed = startStopwatch();
      // Every name the client sent, read from the raw query string (an object without a prototype).
      const sent = parseQueryString(
        request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '',
      );
      const parsed = parseScrapeRequest(
        sent as Record<string, string>,
        {
          method: request.method,
          contentType: request.headers['content-type'],
          body: Buffer.isBuffer(request.body) ? request.body : undefined,
        },
        services.settings,
      );
      if (parsed.webhookName !== undefined) {
        // Asynchronous: the job is committed (with its log row) before this 201 goes out.
        const accepted = await services.asyncScrapes.accept(caller, parsed);
        return reply
          .code(201)
          .headers({
            'content-type': JSON_RESULT_CONTENT_TYPE,
            'x-scrapfly-api-cost': '0',
            'x-scrapfly-remaining-api-credit': String(await services.scrapes.remainingCredits(caller)),
            'x-scrapfly-response-time': (elapsed() / 1000).toFixed(3),
            'x-scrapfly-log-uuid': accepted.uuid,
            'x-scrapfly-log-url': accepted.result.log_url,
            'x-request-id': request.id,
          })
          .send(jsonBytes(accepted));
      }
      try {
        const outcome = await services.scrapes.scrape(caller, parsed);
        const upstream =
          outcome.envelope.result.status_code > 0
            ? { status: outcome.envelope.result.status_code, url: outcome.envelope.result.url }
            : undefined;
        const publicUrl = services.settings.publicUrl;
        const answerHeaders = scrapeAnswerHeaders({ ...outcome, upstream }, { elapsedMs: elapsed() });
        if (parsed.proxifiedResponse) {
          const proxified = proxifiedAnswerOf(outcome);
          return reply
            .code(proxified.status)
            .headers({
              ...proxified.headers,
              ...answerHeaders,
              ...(proxified.rejected && outcome.error
                ? rejectHeaders(outcome.error, outcome.logUuid, publicUrl)
                : {}),
              'x-request-id': request.id,
            })
            .send(proxified.body);
        }
        return reply
          .code(outcome.httpStatus)
          .headers({
            // With the charset: the TypeScript SDK reads it as a result, not an error (docs/compat.md §2).
            'content-type': JSON_RESULT_CONTENT_TYPE,
            ...answerHeaders,
            ...(outcome.error ? rejectHeaders(outcome.error, outcome.logUuid, publicUrl) : {}),
            'x-request-id': request.id,
          })
          .send(jsonBytes(outcome.envelope));
      } catch (error) {
        if (!(error instanceof ScrapeRefused)) throw error;
        return sendApiError(reply, error.error, {
          'x-scrapfly-log-uuid': error.logUuid,
          'x-scrapfly-api-cost': '0',
          'x-scrapfly-remaining-api-credit': String(await services.scrapes.remainingCredits(caller)),
          'x-request-id': request.id,
        });
      }
    },
  });
};

export default route;
