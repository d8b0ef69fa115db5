import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../errors.js';
import {
  parseScreenshotRequest,
  FORMATS,
  OPTIONS,
  VISION_DEFICIENCIES,
} from '../../jobs/screenshot-request.js';
import { ScreenshotFailure } from '../../jobs/screenshot-service.js';
import type { Services } from '../../services.js';
import { authenticate } from '../auth.js';
import { parseQueryString } from '../query-string.js';
import { JSON_CONTENT_TYPE, jsonBytes, sendApiError } from '../errors.js';

// Every parameter is a plain optional string here (documented for OpenAPI); parseScreenshotRequest does the
// real validation so that each mistake gets a catalogue error whose reason says what to fix.
const text = (description: string) => z.string().optional().describe(description);

export const screenshotQuery = z.object({
  key: z.string().describe('Project API key (LIVE or TEST)'),
  url: z.string().describe('Page to capture, url-encoded; http or https only'),
  format: text(`Image format: ${FORMATS.join(', ')} (default jpg)`),
  capture: text(
    'viewport (default), fullpage (whole page, stitched past 16,384 px), vertical (whole height at the viewport width), a CSS selector, or an XPath (starting with / or xpath=)',
  ),
  resolution: text('Viewport size WIDTHxHEIGHT (default 1920x1080)'),
  country: text(
    'Egress country through an operator-configured upstream proxy: us, us,ca,mx (random pick), -gb (exclude), us:10,gb:5 (weighted)',
  ),
  timeout: text('Whole-request budget in ms (default 60000)'),
  rendering_wait: text('Wait after load before capturing, in ms (default 1000)'),
  wait_for_selector: text('CSS selector or XPath to wait for (visible) before capturing'),
  options: text(`Comma list of: ${OPTIONS.join(', ')}`),
  auto_scroll: text('true to scroll to the bottom (lazy content) and back before capturing'),
  js: text('JavaScript to run in the page before capturing, base64url (padding optional), max 16 KB'),
  cache: text(
    'true serves a stored image of the same request within cache_ttl, at no cost (X-Scrapfly-Cache-Status)',
  ),
  cache_ttl: text('Seconds a cached image may be served (default 86400; only with cache=true)'),
  cache_clear: text('true renders anew and replaces the cached image (only with cache=true)'),
  vision_deficiency: text(`Emulated vision deficiency: ${VISION_DEFICIENCIES.join(', ')}`),
  webhook_name: text('Name of a webhook of this project and environment: makes the call asynchronous'),
});

const route: (services: Services) => FastifyPluginAsyncZod = (services) => async (app) => {
  app.get(
    '/screenshot',
    {
      schema: {
        summary: 'Take a screenshot',
        description:
          'Captures the page and answers the image bytes (Content-Type image/jpeg, png, webp or gif). Errors answer Scrapfly-style JSON with X-Scrapfly-Reject-* headers. HEAD answers the same headers without the body.',
        tags: ['screenshot'],
        // loose: unknown names reach parseScreenshotRequest, which refuses them by name.
        querystring: screenshotQuery.partial().loose(),
      },
    },
    async (request, reply) => {
      const caller = await authenticate(services.projects, request, reply);
      if (!caller) return reply;
      const started = Date.now();
      // Every name the client sent, read from the raw query string (an object without a prototype), so
      // that `__proto__` is refused by name like any unknown parameter instead of vanishing.
      const sent = parseQueryString(
        request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '',
      );
      const parsed = parseScreenshotRequest(sent as Record<string, string>, services.settings);
      if (parsed.webhookName !== undefined) {
        // Asynchronous: the job is committed (with its log row) before this 201 goes out.
        const accepted = await services.asyncScreenshots.accept(caller, parsed);
        return reply
          .code(201)
          .headers({
            'content-type': JSON_CONTENT_TYPE,
            'x-scrapfly-log-uuid': accepted.log_uuid,
            'x-scrapfly-log-url': accepted.log_url,
            'x-request-id': request.id,
          })
          .send(jsonBytes(accepted));
      }
      try {
        const outcome = await services.screenshots.take(caller, parsed);
        const { result } = outcome;
        const accountUsage = services.concurrency.totalUsage();
        const accountLimit = services.settings.browserConcurrency;
        return reply
          .code(200)
          .headers({
            'content-type': result.contentType,
            'x-scrapfly-upstream-http-code': String(result.upstreamStatus),
            'x-scrapfly-upstream-url': result.finalUrl,
            'x-scrapfly-screenshot-url': outcome.screenshotUrl,
            'x-scrapfly-api-cost': String(outcome.cost),
            'x-scrapfly-remaining-api-credit': String(outcome.remainingCredits),
            'x-scrapfly-account-concurrent-usage': String(accountUsage),
            'x-scrapfly-account-remaining-concurrent-usage': String(Math.max(0, accountLimit - accountUsage)),
            'x-scrapfly-project-concurrent-usage': String(outcome.projectConcurrency.usage),
            'x-scrapfly-project-remaining-concurrent-usage': String(
              Math.max(0, outcome.projectConcurrency.limit - outcome.projectConcurrency.usage),
            ),
            'x-scrapfly-response-time': ((Date.now() - started) / 1000).toFixed(3),
            'x-scrapfly-log-uuid': outcome.logUuid,
            'x-request-id': request.id,
            ...outcome.headers,
          })
          .send(result.image);
      } catch (error) {
        if (!(error instanceof ScreenshotFailure)) throw error;
        return sendApiError(reply, error.error, {
          'x-scrapfly-log-uuid': error.logUuid,
          'x-scrapfly-api-cost': String(error.cost),
          'x-scrapfly-remaining-api-credit': String(await services.screenshots.remainingCredits(caller)),
          'x-request-id': request.id,
        });
      }
    },
  );

  app.get(
    '/screenshot/result/:logUuid',
    {
      schema: {
        summary: 'Fetch a stored screenshot again',
        description: 'The URL handed out in X-Scrapfly-Screenshot-Url; needs a key of the same project.',
        tags: ['screenshot'],
        params: z.object({ logUuid: z.string().describe('log_uuid of the capture') }),
        querystring: z.object({ key: z.string().optional().describe('Project API key') }),
      },
    },
    async (request, reply) => {
      const caller = await authenticate(services.projects, request, reply);
      if (!caller) return reply;
      const log = await services.logs.find(caller.project.id, request.params.logUuid, caller.env);
      const image = log?.blob_key ? await services.blobs.get(log.blob_key) : undefined;
      if (!log || !image) {
        throw new ApiError(
          'ERR::API::NOT_FOUND',
          `No stored screenshot ${request.params.logUuid} in this project and environment (${caller.env}; it may have expired)`,
        );
      }
      return reply
        .header('content-type', log.content_type ?? 'application/octet-stream')
        .header('cache-control', 'private, max-age=3600')
        .send(image);
    },
  );
};

export default route;
