import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../errors.js';
import {
  parseScrapeRequest,
  SCRAPE_FORMAT_OPTIONS,
  SCRAPE_FORMATS,
  SCRAPE_METHODS,
} from '../../request/scrape-request.js';
import { proxifiedAnswerOf } from '../../scrape/proxified.js';
import { ScrapeRefused } from '../../scrape/scrape-service.js';
import { rejectHeaders, scrapeAnswerHeaders } from '../../scrapfly-headers.js';
import type { Services } from '../../services.js';
import { callerOf } from '../auth.js';
import { apiErrorOf, JSON_RESULT_CONTENT_TYPE, jsonBytes, sendApiError } from '../errors.js';
import { errorResponses, jsonResponse } from '../openapi.js';
import { parseQueryString } from '../query-string.js';

const text = (description: string) => z.string().optional().describe(description);

/** The parameters /scrape serves, for the API reference; parseScrapeRequest does the real validation. */
export const scrapeQueryDoc = z.object({
  url: z
    .string()
    .describe('Page to scrape, url-encoded; http or https only')
    .meta({ examples: ['https://example.com'] }),
  format: text(
    `${SCRAPE_FORMATS.join(', ')} (default raw), with options after a colon: ${SCRAPE_FORMAT_OPTIONS.join(', ')} (e.g. markdown:no_links,only_content)`,
  ),
  headers: z
    .record(z.string(), z.string())
    .describe(
      'Request headers for the target as headers[NAME]=VALUE (repeatable); cookies as headers[cookie]=a=1; b=2. host, content-length and hop-by-hop names are refused',
    )
    .meta({ style: 'deepObject', explode: true })
    .optional(),
  timeout: text('Whole-request budget in ms, 1000 to SNAPWIRE_MAX_TIMEOUT_MS (default 60000)'),
  render_js: text('true loads the page in Chromium and answers its rendered DOM (GET only)'),
  wait_for_selector: text('With render_js: CSS selector or XPath that must be visible first'),
  js: text(
    'With render_js: script run in the page (body of an async function), base64url with or without padding; its return value is in result.browser_data.javascript_evaluation_result',
  ),
  js_scenario: text(
    'With render_js: base64url (padding optional) of a JSON list of steps run on the page: click, fill, wait, wait_for_selector, wait_for_navigation, scroll, execute, condition, select; each outcome in result.browser_data.js_scenario.steps; a failing step is ERR::SCRAPE::SCENARIO_EXECUTION naming its index',
  ),
  screenshots: z
    .record(z.string(), z.string())
    .describe(
      'With render_js: screenshots[NAME]=fullpage|viewport|SELECTOR (at most 10), taken after the scenario; answered in result.screenshots.NAME with a url fetched with the key',
    )
    .meta({ style: 'deepObject', explode: true })
    .optional(),
  screenshot_flags: text(
    'With screenshots: comma list of load_images, dark_mode, block_banners, print_media_format, high_quality (PNG instead of JPEG)',
  ),
  session: text(
    "A name (at most 255 characters) of the project's cookie jar: its cookies are sent and the target's kept, with or without a browser; idle sessions expire after 7 days; one scrape at a time per session",
  ),
  session_sticky_proxy: text('Accepted with session; there is no upstream proxy to keep'),
  rendering_wait: text('With render_js: ms to wait after load (default 0)'),
  rendering_stage: text('With render_js: complete or domcontentloaded (both wait for the load event here)'),
  auto_scroll: text('With render_js: true scrolls to the bottom (lazy content) and back'),
  geolocation: text('With render_js: latitude,longitude[,accuracy] emulated for the page'),
  lang: text('Comma list of languages sent as Accept-Language (unless headers[accept-language] is given)'),
  cache: text('true serves the same scrape from the cache within cache_ttl (no cost, target not contacted)'),
  cache_ttl: text('With cache: seconds an entry is served, 1 to 2592000 (default 86400)'),
  cache_clear: text('With cache: true scrapes anew and replaces the entry'),
  proxified_response: text(
    "true answers the target's own status, headers and body (the content in the asked format) instead of the envelope; X-Scrapfly-Reject-* headers when the scrape itself failed",
  ),
  cost_budget: text('Largest cost in credits this scrape may have; over it the scrape is refused'),
  tags: text('Comma list of tags, kept in the answer config'),
  correlation_id: text('Your id for this scrape, kept in the answer config'),
  asp: text('Accepted; Snapwire has no anti-bot bypass: context.asp stays false'),
  proxy_pool: text('public_datacenter_pool (the direct egress) is the only pool'),
  retry: text('Accepted (true or false); Snapwire does not retry a scrape by itself'),
  debug: text('Accepted; no effect'),
  dns: text('Accepted; result.dns is null'),
  ssl: text('Accepted; result.ssl is null'),
  os: text('Accepted; no effect'),
  browser_brand: text('Accepted; no effect'),
  key: z.string().describe('Project API key (LIVE or TEST)'),
});

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
        responses: {
          200: jsonResponse('The scrape envelope, with the X-Scrapfly-* headers'),
          ...errorResponses(400, 401, 422, 429, 504),
        },
      },
    },
    handler: async (request, reply) => {
      const caller = callerOf(request);
      const started = Date.now();
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
      try {
        const outcome = await services.scrapes.scrape(caller, parsed);
        const upstream =
          outcome.envelope.result.status_code > 0
            ? { status: outcome.envelope.result.status_code, url: outcome.envelope.result.url }
            : undefined;
        const publicUrl = services.settings.publicUrl;
        const answerHeaders = scrapeAnswerHeaders(
          { ...outcome, upstream },
          { elapsedMs: Date.now() - started },
        );
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
