import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../errors.js';
import { SCREENSHOT_CONTENT_TYPES } from '../../scrape/scrape-screenshots.js';
import type { Services } from '../../services.js';
import { callerOf } from '../auth.js';
import { errorResponses } from '../openapi.js';

/** What a scrape's log row keeps of its screenshots[NAME] images (scrape/scrape-screenshots.ts). */
const loggedScreenshots = z.record(
  z.string(),
  z.object({ blob_key: z.string(), extension: z.enum(['jpg', 'png']) }),
);

/**
 * GET /scrape/screenshot/{log_uuid}/{name}: an image a scrape took (result.screenshots.NAME.url), with a
 * key of the scrape's project and environment. The Python SDK's save_scrape_screenshot adds the key itself.
 */
const route =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/scrape/screenshot/:logUuid/:name',
      {
        config: { auth: 'key' },
        schema: {
          summary: 'Fetch an image taken by a scrape (screenshots[NAME])',
          description:
            'The URL handed out in result.screenshots.NAME.url; needs a key of the same project and environment.',
          tags: ['scrape'],
          params: z.object({
            logUuid: z.string().describe('log_uuid of the scrape'),
            name: z.string().describe('The NAME of screenshots[NAME]'),
          }),
          querystring: z.object({ key: z.string().optional().describe('Project API key') }),
          openapi: {
            querystring: z.object({ key: z.string().describe('Project API key') }),
            responses: {
              200: {
                description: 'The image',
                content: Object.fromEntries(
                  Object.values(SCREENSHOT_CONTENT_TYPES).map((type) => [
                    type,
                    { schema: { type: 'string', format: 'binary' } },
                  ]),
                ),
              },
              ...errorResponses(404),
            },
          },
        },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const { logUuid, name } = request.params;
        const log = await services.logs.find(caller.project.id, logUuid, caller.env);
        const listed =
          log?.kind === 'scrape'
            ? loggedScreenshots.safeParse(
                (JSON.parse(log.params ?? '{}') as { screenshots?: unknown }).screenshots,
              )
            : undefined;
        const shot = listed?.success ? listed.data[name] : undefined;
        const image = shot
          ? await services.blobs.get(shot.blob_key).catch((error: unknown): never => {
              throw new ApiError(
                'ERR::API::SERVICE_UNAVAILABLE',
                `The stored screenshot cannot be read right now (${(error as Error).message}); retry in a moment`,
                { retryAfterSeconds: 5, cause: error },
              );
            })
          : undefined;
        if (!shot || !image) {
          throw new ApiError(
            'ERR::API::NOT_FOUND',
            `No screenshot "${name}" of scrape ${logUuid} in this project and environment (${caller.env}; it may have expired)`,
          );
        }
        return reply
          .header('content-type', SCREENSHOT_CONTENT_TYPES[shot.extension])
          .header('cache-control', 'private, max-age=3600')
          .send(image);
      },
    );
  };

export default route;
