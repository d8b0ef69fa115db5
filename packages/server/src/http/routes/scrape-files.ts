import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../errors.js';
import { LARGE_CONTENT_TYPES } from '../../scrape/large-content.js';
import { SCREENSHOT_CONTENT_TYPES } from '../../scrape/scrape-screenshots.js';
import type { Services } from '../../services.js';
import type { Caller } from '../../accounts/projects.js';
import { callerOf } from '../auth.js';
import { errorResponses } from '../openapi.js';

/**
 * What a scrape kept in the blob store, fetched again with a key of the scrape's project and environment:
 * its screenshots[NAME] images (scrape/scrape-screenshots.ts) and a content over the inline limit
 * (scrape/large-content.ts). The scrape's log row says where each one is.
 */

/** What a scrape's log row keeps of its screenshots[NAME] images. */
const loggedScreenshots = z.record(
  z.string(),
  z.object({ blob_key: z.string(), extension: z.enum(['jpg', 'png']) }),
);
const loggedLargeContent = z.object({ blob_key: z.string(), format: z.enum(['clob', 'blob']) });

const keyQuery = {
  querystring: z.object({ key: z.string().optional().describe('Project API key') }),
  openapi: { querystring: z.object({ key: z.string().describe('Project API key') }) },
};

const route =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    /** The `params` of a scrape of the caller's project and environment, or undefined. */
    const scrapeParams = async (
      caller: Caller,
      logUuid: string,
    ): Promise<Record<string, unknown> | undefined> => {
      const log = await services.logs.find(caller.project.id, logUuid, caller.env);
      return log?.kind === 'scrape' ? (JSON.parse(log.params ?? '{}') as Record<string, unknown>) : undefined;
    };
    const readBlob = (blobKey: string, what: string) =>
      services.blobs.get(blobKey).catch((error: unknown): never => {
        throw new ApiError(
          'ERR::API::SERVICE_UNAVAILABLE',
          `The stored ${what} cannot be read right now (${(error as Error).message}); retry in a moment`,
          { retryAfterSeconds: 5, cause: error },
        );
      });

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
          querystring: keyQuery.querystring,
          openapi: {
            querystring: keyQuery.openapi.querystring,
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
        const listed = loggedScreenshots.safeParse((await scrapeParams(caller, logUuid))?.screenshots);
        const shot = listed.success ? listed.data[name] : undefined;
        const image = shot ? await readBlob(shot.blob_key, 'screenshot') : undefined;
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

    app.get(
      '/scrape/content/:logUuid',
      {
        config: { auth: 'key' },
        schema: {
          summary: "Fetch a scrape's large content (result.format clob or blob)",
          description:
            'A content over the inline limit (SNAPWIRE_SCRAPE_INLINE_MAX_BYTES) is answered by this URL in result.content; both SDKs fetch it with the key. Text (clob) as text/plain, bytes (blob) as application/octet-stream.',
          tags: ['scrape'],
          params: z.object({ logUuid: z.string().describe('log_uuid of the scrape') }),
          querystring: keyQuery.querystring,
          openapi: {
            querystring: keyQuery.openapi.querystring,
            responses: {
              200: {
                description: 'The content',
                content: {
                  [LARGE_CONTENT_TYPES.clob]: { schema: { type: 'string' } },
                  [LARGE_CONTENT_TYPES.blob]: { schema: { type: 'string', format: 'binary' } },
                },
              },
              ...errorResponses(404),
            },
          },
        },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const { logUuid } = request.params;
        const kept = loggedLargeContent.safeParse((await scrapeParams(caller, logUuid))?.large_content);
        const bytes = kept.success ? await readBlob(kept.data.blob_key, 'content') : undefined;
        if (!kept.success || !bytes) {
          throw new ApiError(
            'ERR::API::NOT_FOUND',
            `No large content of scrape ${logUuid} in this project and environment (${caller.env}; it may have expired)`,
          );
        }
        return reply
          .header('content-type', LARGE_CONTENT_TYPES[kept.data.format])
          .header('cache-control', 'private, max-age=3600')
          .send(bytes);
      },
    );
  };

export default route;
