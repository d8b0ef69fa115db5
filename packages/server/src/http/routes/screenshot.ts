import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../errors.js';
import { ACCEPTED_RESPONSE, CAPTURE_CONTENT_TYPES, errorResponses, imageResponse } from '../openapi.js';
import {
  parseScreenshotRequest,
  LIMITS,
  FORMATS,
  OPTIONS,
  VISION_DEFICIENCIES,
} from '../../request/screenshot-request.js';
import { screenshotQuery } from '../../request/screenshot-parameters.js';
import { PDF_PAPER_NAMES } from '../../engine/pdf.js';
import { EXTENSION_LIMITS } from '../../request/capture-extensions.js';
import { ScreenshotFailure } from '../../jobs/screenshot-service.js';
import { answerHeaders } from '../../scrapfly-headers.js';
import type { Services } from '../../services.js';
import { callerOf } from '../auth.js';
import { parseQueryString } from '../query-string.js';
import { JSON_RESULT_CONTENT_TYPE, jsonBytes, sendApiError } from '../errors.js';
import { startStopwatch } from '../../clock.js';

// The document's view of the parameters: required flags, allowed values, ranges, defaults and examples.
// Requests are validated by parseScreenshotRequest (catalogue errors naming the fix), not by this schema.
// Swagger UI fills optional parameters with their examples in "Try it out": only harmless ones carry an
// example (country, wait_for_selector and js would change or fail the call; theirs are in the text).
export const screenshotQueryDoc = z.object({
  url: z
    .string()
    .describe('Page to capture, url-encoded; http or https only; only text/* documents are captured')
    .meta({ examples: ['https://example.com'] }),
  format: z
    .enum(FORMATS)
    .default('jpg')
    .describe('Image format; pdf (a Snapwire extension) prints the whole page as application/pdf'),
  capture: z
    .string()
    .default('viewport')
    .describe(
      'viewport, fullpage (whole page, stitched past 16,384 px), vertical (whole height at the viewport width), a CSS selector, or an XPath (starting with / or xpath=)',
    )
    .meta({ examples: ['fullpage', '#main', '//div[1]'] }),
  resolution: z
    .string()
    .regex(/^\d{3,4}x\d{3,4}$/)
    .default('1920x1080')
    .describe(
      `Viewport WIDTHxHEIGHT, width ${LIMITS.minWidth}-${LIMITS.maxWidth}, height ${LIMITS.minHeight}-${LIMITS.maxHeight}`,
    )
    .meta({ examples: ['1280x800'] }),
  country: z
    .string()
    .describe(
      'Egress country through operator-configured upstream proxies (SNAPWIRE_COUNTRY_PROXIES), e.g. us, us,ca,mx (random pick), -gb (exclude), us:10,gb:5 (weighted)',
    )
    .optional(),
  timeout: z
    .int()
    .min(LIMITS.minTimeoutMs)
    .max(120_000)
    .default(LIMITS.defaultTimeoutMs)
    .describe(
      "Whole-request budget in ms; the maximum is the operator's SNAPWIRE_MAX_TIMEOUT_MS (default 120000)",
    ),
  rendering_wait: z
    .int()
    .min(0)
    .max(LIMITS.maxRenderingWaitMs)
    .default(LIMITS.defaultRenderingWaitMs)
    .describe('Wait after the load event before capturing, in ms; shorter than timeout'),
  wait_for_selector: z
    .string()
    .describe('CSS selector or XPath that must be visible before capturing, e.g. #content or //main')
    .optional(),
  options: z
    .string()
    .describe(`Comma list of: ${OPTIONS.join(', ')}`)
    .meta({ examples: ['dark_mode'] })
    .optional(),
  auto_scroll: z
    .boolean()
    .default(false)
    .describe('Scroll to the bottom (lazy content) and back before capturing'),
  js: z
    .string()
    .max(Math.ceil((LIMITS.maxJsBytes * 4) / 3) + 4)
    .describe(
      "JavaScript run in the page before capturing (body of an async function), base64url, max 16 KB decoded; e.g. ZG9jdW1lbnQuYm9keS5zdHlsZS5iYWNrZ3JvdW5kPSdyZWQn (document.body.style.background='red')",
    )
    .optional(),
  cache: z
    .boolean()
    .default(false)
    .describe('Serve a stored image of the same request within cache_ttl, at no cost'),
  cache_ttl: z
    .int()
    .min(1)
    .max(LIMITS.maxCacheTtlSeconds)
    .default(LIMITS.defaultCacheTtlSeconds)
    .describe('Seconds a cached image may be served (only with cache=true)'),
  cache_clear: z
    .boolean()
    .default(false)
    .describe('Render anew and replace the cached image (only with cache=true)'),
  vision_deficiency: z.enum(VISION_DEFICIENCIES).default('none').describe('Emulated vision deficiency'),
  webhook_name: z
    .string()
    .describe('A webhook of this project and environment: the call answers 201 at once and delivers there')
    .optional(),
  // Snapwire extensions (README "Snapwire extensions"). As above, only harmless examples: the others are
  // in the text.
  headers: z
    .record(z.string(), z.string())
    .describe(
      "Extra request headers as headers[NAME]=VALUE (repeatable, e.g. headers[authorization]=Bearer%20x), sent only to the target URL's own origin; host, cookie, user-agent, content-length, service-worker, proxy-*, hop-by-hop and x-snapwire-* are refused; at most 32",
    )
    .meta({ style: 'deepObject', explode: true })
    .optional(),
  cookies: z
    .array(z.string())
    .max(EXTENSION_LIMITS.maxCookies)
    .describe(
      'Cookie set before navigation, repeatable: name=value; Domain=...; Path=...; Secure; HttpOnly; SameSite=Strict|Lax|None; Max-Age=... (Domain: the target host or a parent domain of it only), e.g. session=abc; Path=/',
    )
    .optional(),
  device_scale_factor: z
    .number()
    .min(EXTENSION_LIMITS.minScaleFactor)
    .max(EXTENSION_LIMITS.maxScaleFactor)
    .default(1)
    .describe(
      'Pixel density, decimals allowed: 1280x720 at 2 gives a 2560x1440 image (sides at most 16,384 px)',
    )
    .meta({ examples: [2] }),
  viewport_device: z
    .string()
    .describe(
      'Device preset (GET /devices lists them, names ignore case), e.g. iPhone 15, Pixel 7: its viewport, scale, touch, mobile flag and user agent; resolution, device_scale_factor and user_agent override its values',
    )
    .optional(),
  user_agent: z
    .string()
    .max(EXTENSION_LIMITS.maxUserAgentLength)
    .describe("Overrides the browser's user agent (one line)")
    .optional(),
  hide_selectors: z
    .string()
    .describe(
      `Comma list of CSS selectors (at most ${EXTENSION_LIMITS.maxSelectors}) hidden with display:none !important before the capture, elements added later included, e.g. #cookie-banner,.ads`,
    )
    .optional(),
  click: z
    .string()
    .max(EXTENSION_LIMITS.maxSelectorLength)
    .describe(
      'CSS selector or XPath (starting with / or xpath=) clicked once after load (after wait_for_selector), before rendering_wait, e.g. button.accept',
    )
    .optional(),
  omit_background: z
    .boolean()
    .default(false)
    .describe('Transparent background where the page paints none (format png or webp only)'),
  // No `default` on the pdf_* parameters: Swagger UI would send it, and they are refused without format=pdf.
  pdf_paper: z
    .enum(PDF_PAPER_NAMES as [string, ...string[]])
    .describe('Paper of format=pdf (only with format=pdf; default a4)')
    .optional(),
  pdf_landscape: z
    .boolean()
    .describe('true prints format=pdf in landscape (only with format=pdf; default false)')
    .optional(),
  pdf_print_background: z
    .boolean()
    .describe(
      'false leaves background colours and images out of format=pdf (only with format=pdf; default true)',
    )
    .optional(),
  timezone: z
    .string()
    .describe('IANA time zone emulated for the page, e.g. Europe/Paris or America/New_York')
    .optional(),
  geolocation: z
    .string()
    .regex(/^\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*(,\s*\d+(\.\d+)?\s*)?$/)
    .describe(
      'Position emulated for the page: latitude,longitude[,accuracy in metres], latitude -90..90, longitude -180..180, e.g. 48.8584,2.2945,10',
    )
    .optional(),
  key: z.string().describe('Project API key (LIVE or TEST)'),
});

const route: (services: Services) => FastifyPluginAsyncZod = (services) => async (app) => {
  app.get(
    '/screenshot',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Take a screenshot',
        description:
          "Captures the page and answers the image bytes (Content-Type image/jpeg, png, webp or gif), or with format=pdf the page printed as a PDF (application/pdf). Errors answer Scrapfly-style JSON with X-Scrapfly-Reject-* headers. HEAD answers the same headers without the body.\n\nExtra request headers: `headers[NAME]=VALUE` (repeatable, e.g. `headers[authorization]=Bearer%20x`) are sent only to the target URL's own origin (never to other origins, redirects included); host, cookie, user-agent, content-length, service-worker, proxy-*, hop-by-hop and x-snapwire-* names are refused. Header and cookie values never appear in logs.",
        tags: ['screenshot'],
        // loose: unknown names reach parseScreenshotRequest, which refuses them by name.
        querystring: screenshotQuery.partial().loose(),
        openapi: {
          querystring: screenshotQueryDoc,
          responses: {
            200: imageResponse('The image (Content-Type by format) and the X-Scrapfly-* headers'),
            201: ACCEPTED_RESPONSE,
            ...errorResponses(400, 422, 429, 504),
          },
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const elapsed = startStopwatch();
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
            // Not an error: with the charset the TypeScript SDK returns it as a result (docs/compat.md §2).
            'content-type': JSON_RESULT_CONTENT_TYPE,
            'x-scrapfly-log-uuid': accepted.log_uuid,
            'x-scrapfly-log-url': accepted.log_url,
            'x-request-id': request.id,
          })
          .send(jsonBytes(accepted));
      }
      try {
        const outcome = await services.screenshots.take(caller, parsed);
        return reply
          .code(200)
          .headers({
            ...answerHeaders(outcome, { elapsedMs: elapsed() }),
            'x-request-id': request.id,
          })
          .send(outcome.result.image);
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
      config: { auth: 'key' },
      schema: {
        summary: 'Fetch a stored screenshot again',
        description: 'The URL handed out in X-Scrapfly-Screenshot-Url; needs a key of the same project.',
        tags: ['screenshot'],
        params: z.object({ logUuid: z.string().describe('log_uuid of the capture') }),
        querystring: z.object({ key: z.string().optional().describe('Project API key') }),
        openapi: {
          querystring: z.object({ key: z.string().describe('Project API key') }),
          responses: {
            200: {
              description: 'The stored image (or PDF)',
              content: Object.fromEntries(
                CAPTURE_CONTENT_TYPES.map((type) => [type, { schema: { type: 'string', format: 'binary' } }]),
              ),
            },
            ...errorResponses(404),
          },
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const log = await services.logs.find(caller.project.id, request.params.logUuid, caller.env);
      const contentType = log?.content_type ?? 'application/octet-stream';
      const { blobs } = services;
      if (log?.blob_key && services.settings.s3Presign && blobs.presignedUrl) {
        // The bytes come straight from the bucket; the key check above already ran.
        if (await blobs.has(log.blob_key).catch(() => true)) {
          return reply
            .code(302)
            .header('location', await blobs.presignedUrl(log.blob_key, contentType))
            .header('cache-control', 'private, no-store')
            .send();
        }
      }
      const image = log?.blob_key ? await blobs.get(log.blob_key).catch(unavailable) : undefined;
      if (!log || !image) {
        throw new ApiError(
          'ERR::API::NOT_FOUND',
          `No stored screenshot ${request.params.logUuid} in this project and environment (${caller.env}; it may have expired)`,
        );
      }
      return reply
        .header('content-type', contentType)
        .header('cache-control', 'private, max-age=3600')
        .send(image);
    },
  );
};

/** The blob store could not be read (S3 down): a retryable 503, not a 404 for an image that exists. */
function unavailable(error: unknown): never {
  throw new ApiError(
    'ERR::API::SERVICE_UNAVAILABLE',
    `The stored screenshot cannot be read right now (${(error as Error).message}); retry in a moment`,
    { retryAfterSeconds: 5, cause: error },
  );
}

export default route;
