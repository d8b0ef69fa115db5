import { errorResponses, jsonResponse } from '../openapi.js';
import {
  DELIVERY_ATTEMPTS_SCHEMA,
  JOB_SCHEMA,
  WEBHOOK_LIST_SCHEMA,
  WEBHOOK_SCHEMA,
} from '../webhook-openapi.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseQueryBoolean, queryBoolean } from '../../request/boolean.js';
import type { Caller } from '../../accounts/projects.js';
import { ApiError } from '../../errors.js';
import type { Services } from '../../services.js';
import { describeWebhook, type Webhook, type WebhookChanges } from '../../webhooks/registry.js';
import { callerOf } from '../auth.js';
import { auditByKey } from '../key-audit.js';

const keyQuery = z.object({
  key: z.string().optional().describe('Project API key (LIVE or TEST: webhooks belong to one environment)'),
});
const nameParams = z.object({ name: z.string().describe('Webhook name or uuid') });
const limits = {
  queue_limit: z
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .nullable()
    .optional()
    .describe('Jobs that may wait at once (default: the plan)'),
  max_concurrency: z
    .number()
    .int()
    .min(1)
    .max(1_000)
    .nullable()
    .optional()
    .describe('Deliveries in flight at once'),
  timeout_ms: z
    .number()
    .int()
    .min(100)
    .max(120_000)
    .nullable()
    .optional()
    .describe('Per-attempt timeout in ms'),
};
const createBody = z.object({
  name: z.string().describe('Unique within the project and environment'),
  url: z.string().describe('http(s) URL that receives deliveries; checked by the egress guard'),
  secret: z.string().optional().describe('Signing secret (16+ characters); generated when left out'),
  ...limits,
});
const changeBody = z.object({
  name: z.string().optional(),
  url: z.string().optional(),
  enabled: z.boolean().optional(),
  ...limits,
});

const route: (services: Services) => FastifyPluginAsyncZod = (services) => async (app) => {
  const { webhooks, webhookService, asyncScreenshots, queue, attempts } = services;
  const audited = auditByKey.bind(undefined, services.audit);

  const show = async (caller: Caller, webhook: Webhook, revealSecret = false) =>
    describeWebhook(webhook, {
      revealSecret,
      queueLimit: asyncScreenshots.queueLimitOf(caller, webhook),
      queued: await queue.pendingCount(webhook.uuid),
    });

  const tags = ['webhooks'];

  /** Changes a webhook and wakes the worker: an enabled webhook's waiting jobs go at once. */
  const change = (caller: Caller, name: string, changes: WebhookChanges) =>
    webhookService.update(caller, name, changes);

  /** A job of the caller's project and environment; any other is simply not found. */
  const requireJob = async (caller: Caller, jobUuid: string) => {
    const job = await queue.get(jobUuid);
    if (!job || job.project_id !== caller.project.id || job.env !== caller.env) {
      throw new ApiError('ERR::API::NOT_FOUND', `No job ${jobUuid} in this project (${caller.env})`);
    }
    return job;
  };

  app.post(
    '/webhooks',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Create a webhook (a ping delivery follows)',
        openapi: {
          responses: {
            201: jsonResponse('The webhook, with its signing secret (shown once)', WEBHOOK_SCHEMA),
            ...errorResponses(409, 422),
          },
        },
        tags,
        querystring: keyQuery,
        body: createBody,
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { webhook } = await webhookService.create(caller, request.body);
      await audited(request, caller, 'webhook_created', webhook.uuid, { name: webhook.name });
      return reply.code(201).send(await show(caller, webhook, true));
    },
  );

  app.get(
    '/webhooks',
    {
      config: { auth: 'key' },
      schema: {
        summary: "List webhooks of the key's project and environment",
        openapi: {
          responses: {
            200: jsonResponse('The webhooks of this project and environment', WEBHOOK_LIST_SCHEMA),
          },
        },
        tags,
        querystring: keyQuery,
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return {
        webhooks: await Promise.all((await webhooks.list(caller)).map((w) => show(caller, w))),
      };
    },
  );

  app.get(
    '/webhooks/:name',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Show a webhook',
        openapi: { responses: { 200: jsonResponse('The webhook', WEBHOOK_SCHEMA), ...errorResponses(404) } },
        tags,
        params: nameParams,
        querystring: keyQuery.extend({ reveal_secret: queryBoolean('Include the signing secret') }),
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return show(
        caller,
        await webhooks.require(caller, request.params.name),
        parseQueryBoolean(request.query.reveal_secret) === true,
      );
    },
  );

  app.patch(
    '/webhooks/:name',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Change a webhook (name, url, enabled, limits)',
        openapi: {
          responses: {
            200: jsonResponse('The changed webhook', WEBHOOK_SCHEMA),
            ...errorResponses(404, 409, 422),
          },
        },
        tags,
        params: nameParams,
        querystring: keyQuery,
        body: changeBody,
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const changed = await change(caller, request.params.name, request.body);
      await audited(request, caller, 'webhook_updated', changed.uuid, { fields: Object.keys(request.body) });
      return show(caller, changed);
    },
  );

  app.delete(
    '/webhooks/:name',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Delete a webhook and its queued jobs',
        openapi: { responses: { 204: { description: 'Deleted' }, ...errorResponses(404) } },
        tags,
        params: nameParams,
        querystring: keyQuery,
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const webhook = await webhooks.require(caller, request.params.name);
      await webhookService.remove(caller, request.params.name);
      await audited(request, caller, 'webhook_deleted', webhook.uuid, { name: webhook.name });
      return reply.code(204).send();
    },
  );

  app.post(
    '/webhooks/:name/enable',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Enable or re-enable a webhook; its waiting jobs resume',
        openapi: { responses: { 200: jsonResponse('The webhook', WEBHOOK_SCHEMA), ...errorResponses(404) } },
        tags,
        params: nameParams,
        querystring: keyQuery,
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const enabled = await change(caller, request.params.name, { enabled: true });
      await audited(request, caller, 'webhook_enabled', enabled.uuid);
      return show(caller, enabled);
    },
  );

  app.post(
    '/webhooks/:name/rotate-secret',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Rotate the signing secret; the previous one signs an extra header during the grace period',
        openapi: {
          responses: {
            200: jsonResponse('The webhook with its new secret (shown once)', WEBHOOK_SCHEMA),
            ...errorResponses(404),
          },
        },
        tags,
        params: nameParams,
        querystring: keyQuery,
        body: z.object({ secret: z.string().optional() }).nullish(),
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const rotated = await webhookService.rotateSecret(caller, request.params.name, request.body?.secret);
      await audited(request, caller, 'webhook_secret_rotated', rotated.uuid);
      return show(caller, rotated, true);
    },
  );

  app.post(
    '/webhooks/:name/ping',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Send a test ping delivery',
        openapi: { responses: { 202: jsonResponse('The ping job was queued'), ...errorResponses(404) } },
        tags,
        params: nameParams,
        querystring: keyQuery,
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      return reply.code(202).send({ job_uuid: await webhookService.ping(caller, request.params.name) });
    },
  );

  app.get(
    '/webhooks/:name/deliveries',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Delivery attempts of a webhook, newest first',
        openapi: {
          responses: {
            200: jsonResponse('Delivery attempts, newest first', DELIVERY_ATTEMPTS_SCHEMA),
            ...errorResponses(404),
          },
        },
        tags,
        params: nameParams,
        querystring: keyQuery.extend({ limit: z.coerce.number().int().min(1).max(1000).optional() }),
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const webhook = await webhooks.require(caller, request.params.name);
      return { attempts: await attempts.forWebhook(webhook.uuid, request.query.limit ?? 100) };
    },
  );

  app.get(
    '/webhooks/jobs/:job',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'An asynchronous job: its state and every delivery attempt',
        openapi: {
          responses: { 200: jsonResponse('The job and its attempts', JOB_SCHEMA), ...errorResponses(404) },
        },
        tags,
        params: z.object({ job: z.string() }),
        querystring: keyQuery,
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const job = await requireJob(caller, request.params.job);
      return {
        job_uuid: job.id,
        state: job.state,
        resource_type: job.resource_type,
        log_uuid: job.log_uuid,
        webhook_uuid: job.webhook_uuid,
        delivery_attempts: job.delivery_attempts,
        next_attempt_at: job.state === 'delivering' ? new Date(job.run_at).toISOString() : null,
        last_error: job.last_error,
        attempts: await attempts.forJob(job.id),
      };
    },
  );

  app.post(
    '/webhooks/jobs/:job/replay',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Send a finished delivery again (same job id and payload)',
        openapi: {
          responses: { 202: jsonResponse('The delivery was queued again'), ...errorResponses(404, 409) },
        },
        tags,
        params: z.object({ job: z.string() }),
        querystring: keyQuery,
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const job = await requireJob(caller, request.params.job);
      if (!(await webhookService.replay(job))) {
        throw new ApiError(
          'ERR::API::CONFLICT',
          `Job ${job.id} is ${job.state}; only delivered or failed jobs with a stored result can be replayed`,
        );
      }
      await audited(request, caller, 'replay', job.id);
      return reply.code(202).send({ job_uuid: job.id, state: 'delivering' });
    },
  );
};

export default route;
