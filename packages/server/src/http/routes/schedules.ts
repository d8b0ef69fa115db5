// Over 400 lines as one coherent thing: the schedules routes of the three APIs with their documented
// schemas; they share the schedule lookup per caller and the SDK's ScheduleAPIError body.
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../errors.js';
import { describeRun, describeSchedule } from '../../schedules/describe.js';
import { UNITS } from '../../schedules/recurrence.js';
import type { Services } from '../../services.js';
import { auditByKey } from '../key-audit.js';
import { callerOf } from '../auth.js';
import { apiErrorOf, sendApiError } from '../errors.js';
import { answerObject, jsonResponse, scheduleErrorResponses } from '../openapi.js';

// The answers for the document (describeSchedule and describeRun's shapes).
const dateTime = { type: ['string', 'null'], format: 'date-time' };
const SCHEDULE_SCHEMA = {
  type: 'object',
  // Every field describeSchedule always sends (recurrence and the one *_config of the kind may be absent).
  required: [
    'id',
    'kind',
    'status',
    'next_scheduled_date',
    'scheduled_date',
    'metadata',
    'webhook_name',
    'notes',
    'created_at',
    'updated_at',
    'cancelled_at',
    'allow_concurrency',
    'retry_on_failure',
    'max_retries',
    'webhook_uuid',
    'consecutive_failures',
  ],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['screenshot', 'scrape', 'crawler'] },
    status: { type: 'string', enum: ['ACTIVE', 'PAUSED', 'CANCELLED', 'COMPLETED'] },
    next_scheduled_date: dateTime,
    scheduled_date: dateTime,
    recurrence: { type: 'object', description: 'As given (cron or interval + unit)' },
    metadata: answerObject(
      {
        screenshot_config: { type: 'object' },
        scrape_config: { type: 'object' },
        crawler_config: { type: 'object' },
        webhook_name: { type: 'string' },
        env: { type: 'string', enum: ['LIVE', 'TEST'] },
        fired_count: { type: 'integer' },
        last_run_at: dateTime,
      },
      ['screenshot_config', 'scrape_config', 'crawler_config'],
    ),
    screenshot_config: {
      type: 'object',
      description: 'A screenshot schedule: the /screenshot parameters of each run',
    },
    scrape_config: {
      type: 'object',
      description: 'A scrape schedule: the /scrape parameters of each run (method and body included)',
    },
    crawler_config: {
      type: 'object',
      description: 'A crawler schedule: the POST /crawl body of each run',
    },
    webhook_name: { type: 'string' },
    notes: { type: ['string', 'null'] },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    cancelled_at: dateTime,
    allow_concurrency: { type: 'boolean' },
    retry_on_failure: { type: 'boolean' },
    max_retries: { type: 'integer' },
    webhook_uuid: { type: 'string' },
    consecutive_failures: { type: 'integer' },
  },
};
const RUN_SCHEMA = answerObject({
  id: { type: 'string' },
  schedule_id: { type: 'string' },
  trigger: { type: 'string', enum: ['schedule', 'manual', 'retry'] },
  attempt: { type: 'integer' },
  retry_of: { type: ['string', 'null'] },
  status: { type: 'string', enum: ['due', 'running', 'succeeded', 'failed', 'skipped'] },
  due_at: dateTime,
  started_at: dateTime,
  finished_at: dateTime,
  job_uuid: { type: ['string', 'null'] },
  log_uuid: { type: ['string', 'null'] },
  log_url: { type: ['string', 'null'] },
  error: {
    type: ['object', 'null'],
    required: ['code', 'reason'],
    properties: { code: { type: 'string' }, reason: { type: ['string', 'null'] } },
  },
});
const scheduleAnswer = (description: string) => jsonResponse(description, SCHEDULE_SCHEMA);
const scheduleList = jsonResponse('The schedules', { type: 'array', items: SCHEDULE_SCHEMA });

const keyQuery = z.object({
  key: z.string().optional().describe('Project API key (LIVE or TEST: schedules belong to one environment)'),
});
const idParams = z.object({ id: z.string().describe('Schedule id') });
const listQuery = keyQuery.extend({
  status: z.string().optional().describe('ACTIVE, PAUSED, CANCELLED or COMPLETED (any case); others: 400'),
  kind: z
    .string()
    .optional()
    .describe(
      'api.screenshot (or screenshot), api.scrape (or scrape), api.crawler (or crawler); others: 400',
    ),
});

const recurrence = z
  .object({
    cron: z.string().optional().describe('Cron expression (5 or 6 fields); wins over interval'),
    timezone: z
      .string()
      .optional()
      .describe('IANA time zone of the cron expression (default UTC; CRON_TZ=… prefix also accepted)'),
    interval: z.number().int().optional().describe('Every this many units'),
    unit: z.enum(UNITS).optional(),
    days: z.array(z.string()).optional().describe('Weekdays it may fire on (monday … sunday)'),
    ends: z
      .object({
        type: z.enum(['date', 'count']),
        date: z.string().optional().describe('ISO 8601; no run after it'),
        count: z.number().int().optional().describe('Number of runs, then COMPLETED'),
      })
      .optional(),
  })
  .describe('When it fires: cron, or interval + unit');

const settingsFields = {
  recurrence: recurrence.optional(),
  scheduled_date: z
    .string()
    .optional()
    .describe('ISO 8601: the first run (or the only one, without recurrence)'),
  allow_concurrency: z.boolean().optional().describe('Fire even while the previous run is capturing'),
  retry_on_failure: z.boolean().optional().describe('Retry a failed capture up to max_retries times'),
  max_retries: z.number().int().optional().describe('0 to 10 (default 0)'),
  notes: z.string().max(2_000).optional(),
};
const screenshotConfig = z
  .record(z.string(), z.unknown())
  .describe(
    'The /screenshot parameters of each run (url required), as strings or SDK ScreenshotConfig values',
  );
const scrapeConfig = z
  .record(z.string(), z.unknown())
  .describe(
    'The /scrape parameters of each run (url required), as strings or JSON values: headers as an object, format_options as a list, method and body of the call',
  );
const crawlerConfig = z
  .record(z.string(), z.unknown())
  .describe('The POST /crawl body of each run (url or url_list required), as the SDK CrawlerConfig sends it');
const webhookName = z.string().describe('Webhook of this project and environment that receives each run');
const createBody = z.object({
  screenshot_config: screenshotConfig,
  webhook_name: webhookName,
  ...settingsFields,
});
const createScrapeBody = z.object({
  scrape_config: scrapeConfig,
  webhook_name: webhookName,
  ...settingsFields,
});
const createCrawlerBody = z.object({
  crawler_config: crawlerConfig,
  webhook_name: webhookName,
  ...settingsFields,
});
const changeBody = z.object({
  screenshot_config: screenshotConfig.optional(),
  scrape_config: scrapeConfig.optional(),
  crawler_config: crawlerConfig.optional(),
  webhook_name: z.string().optional(),
  ...settingsFields,
});

/** Errors of these routes carry `error` too: the SDK's ScheduleAPIError reads its code from there. */
const asScheduleError = (error: ApiError) =>
  error.code === 'ERR::SCRAPE::CONFIG_ERROR'
    ? new ApiError('ERR::SCHEDULER::INVALID_REQUEST', error.reason)
    : error;

/** Schedules (docs/compat.md §6), called exactly as Scrapfly's official TypeScript SDK calls them. */
const route: (services: Services) => FastifyPluginAsyncZod = (services) => async (app) => {
  const { schedules, scheduler, settings } = services;
  const audited = auditByKey.bind(undefined, services.audit);
  const tags = ['schedules'];

  app.setErrorHandler((error, request, reply) => {
    const apiError = asScheduleError(apiErrorOf(error, request));
    return sendApiError(reply, apiError, {}, { error: apiError.code });
  });

  const list =
    (kindOfRoute: 'screenshot' | 'scrape' | 'crawler' | undefined) =>
    async (request: FastifyRequest<{ Querystring: z.infer<typeof listQuery> }>) => {
      const caller = callerOf(request);
      const kind = kindOfRoute ?? request.query.kind;
      const rows = await schedules.list(caller, { status: request.query.status, kind });
      return rows.map(describeSchedule);
    };

  // One create route and one list route per kind, alike but for the body's config field.
  const kinds = [
    {
      kind: 'screenshot',
      path: '/screenshot/schedules',
      body: createBody,
      runs: 'an asynchronous screenshot to the webhook',
    },
    {
      kind: 'scrape',
      path: '/scrape/schedules',
      body: createScrapeBody,
      runs: 'an asynchronous scrape to the webhook',
    },
    {
      kind: 'crawler',
      path: '/crawl/schedules',
      body: createCrawlerBody,
      runs: 'a crawl, its crawler_uuid in the run as job_uuid',
    },
  ] as const;
  for (const { kind, path, body, runs } of kinds) {
    app.post(
      path,
      {
        config: { auth: 'key' },
        schema: {
          summary: `Create a ${kind} schedule (each run: ${runs})`,
          tags,
          querystring: keyQuery,
          body,
          openapi: {
            responses: {
              201: scheduleAnswer('The schedule, ACTIVE'),
              ...scheduleErrorResponses(400, 429),
            },
          },
        },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const row = await schedules.create(caller, request.body, kind);
        await audited(request, caller, 'schedule_created', row.id, { kind });
        scheduler.wake();
        return reply.code(201).send(describeSchedule(row));
      },
    );
    app.get(
      path,
      {
        config: { auth: 'key' },
        schema: {
          summary: `List ${kind} schedules`,
          tags,
          querystring: listQuery,
          openapi: { responses: { 200: scheduleList, ...scheduleErrorResponses(400) } },
        },
      },
      list(kind),
    );
  }

  app.get(
    '/schedules',
    {
      config: { auth: 'key' },
      schema: {
        summary: "List schedules of the key's project and environment",
        tags,
        querystring: listQuery,
        openapi: { responses: { 200: scheduleList, ...scheduleErrorResponses(400) } },
      },
    },
    list(undefined),
  );

  app.get(
    '/schedules/:id',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Show a schedule',
        tags,
        params: idParams,
        querystring: keyQuery,
        openapi: { responses: { 200: scheduleAnswer('The schedule'), ...scheduleErrorResponses(404) } },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return describeSchedule(await schedules.require(caller, request.params.id));
    },
  );

  app.patch(
    '/schedules/:id',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Change an active or paused schedule (only the fields given)',
        tags,
        params: idParams,
        querystring: keyQuery,
        body: changeBody,
        openapi: {
          responses: {
            200: scheduleAnswer('The changed schedule'),
            ...scheduleErrorResponses(400, 404, 409),
          },
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const row = await schedules.update(caller, request.params.id, request.body);
      await audited(request, caller, 'schedule_updated', row.id, { fields: Object.keys(request.body) });
      scheduler.wake();
      return describeSchedule(row);
    },
  );

  app.delete(
    '/schedules/:id',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Cancel a schedule (terminal; runs not started are skipped)',
        tags,
        params: idParams,
        querystring: keyQuery,
        openapi: {
          responses: {
            204: { description: 'Cancelled (also when it already was)' },
            ...scheduleErrorResponses(404),
          },
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      await schedules.cancel(caller, request.params.id);
      await audited(request, caller, 'schedule_deleted', request.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/schedules/:id/pause',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Pause a schedule (instants while paused are skipped)',
        tags,
        params: idParams,
        querystring: keyQuery,
        openapi: {
          responses: { 200: scheduleAnswer('The schedule, PAUSED'), ...scheduleErrorResponses(404, 409) },
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const paused = await schedules.pause(caller, request.params.id);
      await audited(request, caller, 'schedule_paused', paused.id);
      return describeSchedule(paused);
    },
  );

  app.post(
    '/schedules/:id/resume',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Resume a paused schedule from its next instant',
        tags,
        params: idParams,
        querystring: keyQuery,
        openapi: {
          responses: {
            200: scheduleAnswer('The schedule, ACTIVE (COMPLETED when no instant is left)'),
            ...scheduleErrorResponses(404, 409),
          },
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const row = await schedules.resume(caller, request.params.id);
      await audited(request, caller, 'schedule_resumed', row.id);
      scheduler.wake();
      return describeSchedule(row);
    },
  );

  app.post(
    '/schedules/:id/execute',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Run a schedule now, whatever its next instant',
        tags,
        params: idParams,
        querystring: keyQuery,
        openapi: {
          responses: {
            200: jsonResponse('The schedule and the run added (fired by the scheduler at once)', {
              ...SCHEDULE_SCHEMA,
              required: [...SCHEDULE_SCHEMA.required, 'run'],
              properties: { ...SCHEDULE_SCHEMA.properties, run: RUN_SCHEMA },
            }),
            ...scheduleErrorResponses(404, 409),
          },
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { schedule, run } = await schedules.execute(caller, request.params.id);
      await audited(request, caller, 'schedule_run', schedule.id);
      scheduler.wake();
      return { ...describeSchedule(schedule), run: describeRun(run, settings.publicUrl) };
    },
  );

  app.get(
    '/schedules/:id/runs',
    {
      config: { auth: 'key' },
      schema: {
        summary: "A schedule's run history, newest first (each run's job and log)",
        tags,
        params: idParams,
        querystring: keyQuery.extend({ limit: z.coerce.number().int().min(1).max(1000).optional() }),
        openapi: {
          responses: {
            200: jsonResponse(
              'The runs, newest first',
              answerObject({ runs: { type: 'array', items: RUN_SCHEMA } }),
            ),
            ...scheduleErrorResponses(400, 404),
          },
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return {
        runs: (await schedules.runs(caller, request.params.id, request.query.limit ?? 100)).map((run) =>
          describeRun(run, settings.publicUrl),
        ),
      };
    },
  );
};

export default route;
