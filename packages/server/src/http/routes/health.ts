import { jsonResponse } from '../openapi.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Services } from '../../services.js';

const route: (services: Services) => FastifyPluginAsyncZod = (services) => async (app) => {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Readiness: 200 only when the store is migrated and a browser is ready',
        tags: ['operations'],
        openapi: {
          responses: {
            200: jsonResponse('Ready'),
            503: jsonResponse('Not ready: the store is not migrated or no browser is ready'),
          },
        },
      },
    },
    async (_request, reply) => {
      const migrated = await services.storeMigrated().catch(() => false);
      const browser = services.pool.isReady();
      const ok = migrated && browser;
      return reply.code(ok ? 200 : 503).send({
        status: ok ? 'ok' : 'unavailable',
        store: migrated ? 'migrated' : 'not migrated',
        browser: browser ? 'ready' : 'not ready',
      });
    },
  );
};

export default route;
