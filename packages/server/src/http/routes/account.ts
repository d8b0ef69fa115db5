import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { projectScope } from '../../accounts/concurrency-leases.js';
import type { Services } from '../../services.js';
import { callerOf } from '../auth.js';
import { JSON_CONTENT_TYPE, jsonBytes } from '../errors.js';
import { jsonResponse } from '../openapi.js';

const route: (services: Services) => FastifyPluginAsyncZod = (services) => async (app) => {
  app.get(
    '/account',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Account, project and subscription of a key',
        description: "The shape of Scrapfly's /account (the TypeScript SDK's AccountData).",
        tags: ['account'],
        querystring: z.object({ key: z.string().optional().describe('Project API key') }),
        openapi: { responses: { 200: jsonResponse('Account, project and subscription (Scrapfly’s shape)') } },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { project } = caller;
      const used = await services.credits.used(project.id);
      const limit = project.limits.monthlyCredits;
      const running = await services.concurrency.usage(projectScope(project.id));
      const usage = {
        concurrent_limit: project.limits.concurrency,
        concurrent_remaining: Math.max(0, project.limits.concurrency - running),
        concurrent_usage: running,
        current: used,
        extra: 0,
        limit,
        remaining: Math.max(0, limit - used),
      };
      // Self-hosted: nothing is billed, but the SDK's AccountData types every price as {amount, currency}.
      const free = { amount: 0, currency: 'USD' };
      // Credits are counted per calendar month, UTC (accounts/credits.ts): the period is that month.
      const today = new Date();
      const periodStart = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1));
      const periodEnd = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + 1, 1) - 1);
      return reply.header('content-type', JSON_CONTENT_TYPE).send(
        jsonBytes({
          account: {
            account_id: project.id,
            currency: 'USD',
            timezone: 'UTC',
            suspended: false,
            suspension_reason: null,
          },
          project: {
            allow_extra_usage: false,
            allowed_networks: services.settings.allowedNetworks.map(([a, p]) => `${a.toString()}/${p}`),
            budget_limit: null,
            budget_spent: null,
            concurrency_limit: project.limits.concurrency,
            name: project.name,
            quota_reached: used + 60 > limit,
            scrape_request_count: 0,
            scrape_request_limit: null,
            tags: [],
            env: caller.env,
          },
          subscription: {
            billing: {
              current_extra_scrape_request_price: free,
              extra_scrape_request_price_per_10k: free,
              ongoing_payment: free,
              plan_price: free,
            },
            extra_scrape_allowed: false,
            max_concurrency: project.limits.concurrency,
            period: { start: periodStart.toISOString(), end: periodEnd.toISOString() },
            plan_name: project.plan,
            usage: {
              schedule: {
                current: await services.schedules.countLive(caller),
                limit: services.settings.maxSchedules,
              },
              spider: { current: 0, limit: 0 },
              scrape: usage,
              screenshot: usage,
            },
          },
        }),
      );
    },
  );
};

export default route;
