import { browserFault, describeDatabaseFault, sharedMemoryAdvice } from '../../fault-advice.js';
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
      const problems: string[] = [];
      const { databaseUrl } = services.settings;
      const store = await services.storeMigrated().then(
        (migrated) => (migrated ? 'migrated' : 'not migrated'),
        (error: unknown) => {
          problems.push(databaseUrl ? describeDatabaseFault(error, databaseUrl) : String(error));
          return 'unreachable';
        },
      );
      const browser = services.pool.isReady();
      const launchFailure = services.pool.launchFailure;
      if (!browser && launchFailure) problems.push(browserFault(launchFailure, services.settings));
      const sharedMemory = sharedMemoryAdvice();
      if (sharedMemory) problems.push(sharedMemory);
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
        // What an operator should fix, each with its fix; present only when there is something.
        ...(problems.length > 0 ? { problems } : {}),
      });
    },
  );
};

export default route;
