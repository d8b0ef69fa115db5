import { jsonResponse } from '../openapi.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Services } from '../../services.js';

const route: (services: Services) => FastifyPluginAsyncZod = (services) => async (app) => {
  app.get(
    '/healthz',
    {
      config: { auth: 'none' },
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
      // A store that cannot be reached (PostgreSQL restarting, connections cut) is `degraded`: the node
      // reconnects on its own and says `ok` again once a query goes through.
      const store = await services.storeMigrated().then(
        (migrated) => (migrated ? 'migrated' : 'not migrated'),
        () => 'unreachable',
      );
      const browser = services.pool.isReady();
      const wakeups = services.fleet?.wakeupsListening();
      const ok = store === 'migrated' && browser;
      const status =
        store === 'unreachable' ? 'degraded' : !ok ? 'unavailable' : wakeups === false ? 'degraded' : 'ok';
      return reply.code(ok ? 200 : 503).send({
        status,
        store,
        browser: browser ? 'ready' : 'not ready',
        node: services.settings.nodeId,
        role: services.settings.role,
        ...(wakeups === undefined ? {} : { wakeups: wakeups ? 'listening' : 'reconnecting' }),
      });
    },
  );
};

export default route;
