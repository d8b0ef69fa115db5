import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ImageComparison } from '../../compare/compare-images.js';
import type { Services } from '../../services.js';
import { callerOf } from '../auth.js';
import { answerObject, errorResponses, jsonResponse, PIXEL_RECT_SCHEMA } from '../openapi.js';

/**
 * GET /screenshot/compare and /screenshot/compare/diff: two stored screenshots of the key's project and
 * environment compared pixel by pixel (compare/screenshot-comparisons.ts), a Snapwire extension for visual
 * change monitoring (docs/compat.md). The diff image is computed again from the two stored images when it
 * is fetched, rather than kept: it is deterministic, and nothing has to expire with the logs.
 */

const COMPARISON_SCHEMA = answerObject({
  changed: {
    type: 'boolean',
    description:
      'score over threshold, or the size changed by more than threshold of the larger image (the part only one image has cannot be compared)',
  },
  score: { type: 'number', description: 'Changed pixels / compared pixels, 0..1' },
  changed_pixels: { type: 'integer' },
  width: { type: 'integer', description: 'Width of the compared area (the one both images share)' },
  height: { type: 'integer', description: 'Height of the compared area' },
  height_change: { type: 'integer', description: "head's height minus base's height, in pixels" },
  regions: {
    type: 'array',
    items: PIXEL_RECT_SCHEMA,
    description: 'Boxes around clusters of changed pixels, top to bottom (at most 50)',
  },
  diff_url: {
    type: 'string',
    description: 'GET it with ?key=: PNG of the compared area, head dimmed to grey, changed pixels in red',
  },
});

const pairQuery = z.object({
  key: z.string().optional().describe('Project API key'),
  base: z.string().min(1).max(100).describe('log_uuid of the earlier screenshot'),
  head: z.string().min(1).max(100).describe('log_uuid of the later screenshot'),
  threshold: z.coerce
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe('Share of changed pixels above which changed is true (default 0.001, 0.1 %)'),
});
const documentedQuery = pairQuery.extend({ key: z.string().describe('Project API key') });
const comparisonErrors = () => errorResponses(400, 404, 410, 413, 422);

function describeComparison(comparison: ImageComparison, diffUrl: string) {
  return {
    changed: comparison.changed,
    score: comparison.score,
    changed_pixels: comparison.changedPixels,
    width: comparison.width,
    height: comparison.height,
    height_change: comparison.heightChange,
    regions: comparison.regions.map(({ x, y, width, height }) => ({ x, y, width, height })),
    diff_url: diffUrl,
  };
}

const route =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const { publicUrl } = services.settings;
    const tags = ['screenshot'];
    const compare = (request: FastifyRequest, query: z.infer<typeof pairQuery>) =>
      services.comparisons.compare(callerOf(request), query.base, query.head, query.threshold);

    app.get(
      '/screenshot/compare',
      {
        config: { auth: 'key' },
        schema: {
          summary: 'Compare two stored screenshots (visual change)',
          description:
            'A Snapwire extension: the images of two screenshot logs of this project and environment compared pixel by pixel (anti-aliasing tolerant), over the area both share.',
          tags,
          querystring: pairQuery,
          openapi: {
            querystring: documentedQuery,
            responses: {
              200: jsonResponse('The comparison', COMPARISON_SCHEMA),
              ...comparisonErrors(),
            },
          },
        },
      },
      async (request) => {
        const comparison = await compare(request, request.query);
        const { base, head, threshold } = request.query;
        const query = new URLSearchParams({ base, head });
        if (threshold !== undefined) query.set('threshold', String(threshold));
        return describeComparison(comparison, `${publicUrl}/screenshot/compare/diff?${query}`);
      },
    );

    app.get(
      '/screenshot/compare/diff',
      {
        config: { auth: 'key' },
        schema: {
          summary: 'The diff image of two stored screenshots',
          description:
            'The diff_url of GET /screenshot/compare: a PNG of the compared area, the head image dimmed to grey with the changed pixels in red. Computed again on each call.',
          tags,
          querystring: pairQuery,
          openapi: {
            querystring: documentedQuery,
            responses: {
              200: {
                description: 'The diff PNG',
                content: { 'image/png': { schema: { type: 'string', format: 'binary' } } },
              },
              ...comparisonErrors(),
            },
          },
        },
      },
      async (request, reply) => {
        const comparison = await compare(request, request.query);
        return reply
          .header('content-type', 'image/png')
          .header('cache-control', 'private, max-age=3600')
          .send(comparison.diffPng);
      },
    );
  };

export default route;
