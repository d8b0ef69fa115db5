import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Services } from '../../services.js';

/**
 * Prometheus metrics: jobs by outcome, capture latency, pool size, queue depth, browser restarts, plus the
 * process defaults. Open unless SNAPWIRE_METRICS_TOKEN is set, then `Authorization: Bearer TOKEN` is needed.
 */
const route: (services: Services) => FastifyPluginAsyncZod = (services) => async (app) => {
  app.get(
    '/metrics',
    {
      // SNAPWIRE_METRICS_TOKEN, when set, is checked by the gate (http/auth.ts).
      config: { auth: 'operator-token' },
      schema: {
        summary: 'Prometheus metrics',
        description:
          'Text exposition format. Needs `Authorization: Bearer <SNAPWIRE_METRICS_TOKEN>` when that setting is set.',
        tags: ['operations'],
        openapi: {
          responses: {
            200: {
              description: 'Prometheus text exposition format',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            401: { description: 'SNAPWIRE_METRICS_TOKEN is set and the bearer token is missing or wrong' },
          },
        },
      },
    },
    async (_request, reply) => {
      const registry = services.screenshots.metrics?.registry;
      if (!registry) return reply.code(404).send('metrics are not enabled\n');
      return reply.header('content-type', registry.contentType).send(await registry.metrics());
    },
  );
};

export default route;
