// Over 400 lines as one coherent thing: the monitors routes with their documented schemas; they share
// the monitor lookup per caller and the monitor's own error code.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../errors.js';
import { describeMonitor, describeMonitorRun } from '../../monitors/describe.js';
import { UNITS } from '../../schedules/recurrence.js';
import type { Services } from '../../services.js';
import { callerOf } from '../auth.js';
import { apiErrorOf, sendApiError } from '../errors.js';
import { answerObject, errorResponses, imageResponse, jsonResponse, PIXEL_RECT_SCHEMA } from '../openapi.js';

const dateTime = { type: ['string', 'null'], format: 'date-time' };
const MONITOR_SCHEMA = {
  type: 'object',
  // describeMonitor always sends every field.
  required: [
    'id',
    'status',
    'url',
    'env',
    'screenshot_config',
    'hide_selectors',
    'recurrence',
    'next_run_at',
    'change_threshold',
    'ignore',
    'compare_text',
    'confirm_runs',
    'require_approval',
    'notify_unchanged',
    'webhook_name',
    'baseline_run_id',
    'pending_run_id',
    'unconfirmed_changes',
    'created_at',
    'updated_at',
  ],
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: ['ACTIVE', 'PAUSED'] },
    url: { type: 'string' },
    env: { type: 'string', enum: ['LIVE', 'TEST'] },
    screenshot_config: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'The other /screenshot parameters of each capture',
    },
    hide_selectors: { type: 'array', items: { type: 'string' } },
    recurrence: { type: ['object', 'null'] },
    next_run_at: dateTime,
    change_threshold: { type: 'number' },
    ignore: { type: 'array', items: PIXEL_RECT_SCHEMA },
    compare_text: { type: 'boolean' },
    confirm_runs: { type: 'integer' },
    require_approval: { type: 'boolean' },
    notify_unchanged: { type: 'boolean' },
    webhook_name: { type: ['string', 'null'] },
    baseline_run_id: { type: ['string', 'null'] },
    pending_run_id: { type: ['string', 'null'] },
    unconfirmed_changes: { type: 'integer' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
};
const RUN_SCHEMA = {
  type: 'object',
  // describeMonitorRun always sends every field.
  required: [
    'id',
    'monitor_id',
    'trigger',
    'status',
    'changed',
    'score',
    'changed_pixels',
    'height_change',
    'regions',
    'text_diff',
    'became_baseline',
    'approval',
    'note',
    'event_job_id',
    'log_uuid',
    'cost',
    'images',
    'error',
    'due_at',
    'started_at',
    'finished_at',
  ],
  properties: {
    id: { type: 'string' },
    monitor_id: { type: 'string' },
    trigger: { type: 'string', enum: ['schedule', 'manual'] },
    status: { type: 'string', enum: ['due', 'running', 'compared', 'baseline', 'failed'] },
    changed: { type: ['boolean', 'null'] },
    score: { type: ['number', 'null'], description: 'Share of the pixels that changed, 0 to 1' },
    changed_pixels: { type: ['integer', 'null'] },
    height_change: { type: ['integer', 'null'] },
    regions: { type: 'array', items: PIXEL_RECT_SCHEMA },
    text_diff: {
      type: ['object', 'null'],
      required: ['changed', 'added', 'removed', 'changedWords'],
      properties: {
        changed: { type: 'boolean' },
        added: { type: 'array', items: { type: 'string' } },
        removed: { type: 'array', items: { type: 'string' } },
        changedWords: { type: 'integer' },
      },
    },
    became_baseline: { type: 'boolean' },
    approval: { type: ['string', 'null'], enum: ['pending', 'approved', 'rejected', null] },
    note: { type: ['string', 'null'] },
    event_job_id: { type: ['string', 'null'] },
    log_uuid: { type: ['string', 'null'] },
    cost: { type: 'integer' },
    images: answerObject({
      before: { type: ['string', 'null'] },
      after: { type: ['string', 'null'] },
      diff: { type: ['string', 'null'] },
    }),
    error: {
      type: ['object', 'null'],
      required: ['code', 'reason'],
      properties: { code: { type: 'string' }, reason: { type: ['string', 'null'] } },
    },
    due_at: dateTime,
    started_at: dateTime,
    finished_at: dateTime,
  },
};
const monitorAnswer = (description: string) => jsonResponse(description, MONITOR_SCHEMA);
const runAnswer = (description: string) => jsonResponse(description, RUN_SCHEMA);

const keyQuery = z.object({
  key: z.string().optional().describe('Project API key (LIVE or TEST: monitors belong to one environment)'),
});
const idParams = z.object({ id: z.string().describe('Monitor id') });
const runParams = idParams.extend({ run: z.string().describe('Run id') });
const imageParams = runParams.extend({ which: z.enum(['before', 'after', 'diff']) });

const rect = z.object({
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
});
const recurrence = z
  .object({
    cron: z.string().optional().describe('Cron expression (5 or 6 fields); wins over interval'),
    timezone: z.string().optional(),
    interval: z.number().int().optional(),
    unit: z.enum(UNITS).optional(),
    days: z.array(z.string()).optional(),
  })
  .describe('When it runs, as for schedules: cron, or interval + unit. Without it: only when run');
const fields = {
  screenshot_config: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('The other /screenshot parameters of each capture (format png unless given; no cache)'),
  recurrence: recurrence.optional(),
  change_threshold: z
    .number()
    .optional()
    .describe('Share of the pixels that must change, 0 to 1 (default 0.001)'),
  ignore: z.array(rect).optional().describe('Rectangles in image pixels left out of the comparison'),
  hide_selectors: z
    .union([z.array(z.string()), z.string()])
    .optional()
    .describe('CSS selectors hidden before each capture (clocks, carousels, ads)'),
  compare_text: z.boolean().optional().describe("Also compare the page's visible text, word by word"),
  confirm_runs: z
    .number()
    .int()
    .optional()
    .describe('Runs in a row that must see a change (1 to 10, default 1)'),
  require_approval: z
    .boolean()
    .optional()
    .describe('A change waits for approve/reject before it becomes the baseline'),
  notify_unchanged: z
    .boolean()
    .optional()
    .describe('Also send screenshot.unchanged after runs without a change'),
  webhook_name: z.string().nullable().optional().describe('Webhook that receives screenshot.changed'),
};
const createBody = z.object({ url: z.string().describe('The page to watch'), ...fields });
const changeBody = z.object({ url: z.string().optional(), ...fields });

/** Validation errors of these routes are the monitor's own code. */
const asMonitorError = (error: ApiError) =>
  error.code === 'ERR::SCRAPE::CONFIG_ERROR'
    ? new ApiError('ERR::MONITOR::INVALID_REQUEST', error.reason)
    : error;

/** Visual change monitors (docs/monitors.md), per project and environment. */
const route: (services: Services) => FastifyPluginAsyncZod = (services) => async (app) => {
  const { monitors, monitorRunner, settings, blobs } = services;
  const tags = ['monitors'];

  app.setErrorHandler((error, request, reply) =>
    sendApiError(reply, asMonitorError(apiErrorOf(error, request))),
  );

  app.post(
    '/monitors',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Create a monitor (a recurring capture compared with its baseline)',
        tags,
        querystring: keyQuery,
        body: createBody,
        openapi: {
          responses: { 201: monitorAnswer('The monitor, ACTIVE'), ...errorResponses(400, 404, 409) },
        },
      },
    },
    async (request, reply) => {
      const row = await monitors.create(callerOf(request), request.body);
      monitorRunner.wake();
      return reply.code(201).send(describeMonitor(row));
    },
  );

  app.get(
    '/monitors',
    {
      config: { auth: 'key' },
      schema: {
        summary: "List the key's project and environment's monitors",
        tags,
        querystring: keyQuery,
        openapi: {
          responses: { 200: jsonResponse('The monitors', { type: 'array', items: MONITOR_SCHEMA }) },
        },
      },
    },
    async (request) => (await monitors.list(callerOf(request))).map(describeMonitor),
  );

  app.get(
    '/monitors/:id',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Show a monitor',
        tags,
        params: idParams,
        querystring: keyQuery,
        openapi: { responses: { 200: monitorAnswer('The monitor'), ...errorResponses(404) } },
      },
    },
    async (request) => describeMonitor(await monitors.require(callerOf(request), request.params.id)),
  );

  app.patch(
    '/monitors/:id',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Change a monitor (only the fields given; another url or capture starts a new baseline)',
        tags,
        params: idParams,
        querystring: keyQuery,
        body: changeBody,
        openapi: { responses: { 200: monitorAnswer('The changed monitor'), ...errorResponses(400, 404) } },
      },
    },
    async (request) => {
      const row = await monitors.update(callerOf(request), request.params.id, request.body);
      monitorRunner.wake();
      return describeMonitor(row);
    },
  );

  app.delete(
    '/monitors/:id',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Delete a monitor and its runs',
        tags,
        params: idParams,
        querystring: keyQuery,
        openapi: { responses: { 204: { description: 'Deleted' }, ...errorResponses(404) } },
      },
    },
    async (request, reply) => {
      await monitors.delete(callerOf(request), request.params.id);
      return reply.code(204).send();
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/monitors/:id/${action}`,
      {
        config: { auth: 'key' },
        schema: {
          summary: action === 'pause' ? 'Pause a monitor (run-now still works)' : 'Resume a paused monitor',
          tags,
          params: idParams,
          querystring: keyQuery,
          openapi: { responses: { 200: monitorAnswer('The monitor'), ...errorResponses(404) } },
        },
      },
      async (request) => {
        const row = await monitors[action](callerOf(request), request.params.id);
        monitorRunner.wake();
        return describeMonitor(row);
      },
    );
  }

  app.post(
    '/monitors/:id/run',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Run a monitor now and answer the finished run (capture, comparison, event)',
        tags,
        params: idParams,
        querystring: keyQuery,
        openapi: { responses: { 200: runAnswer('The run, finished'), ...errorResponses(404) } },
      },
    },
    async (request) => {
      const monitor = await monitors.require(callerOf(request), request.params.id);
      return describeMonitorRun(await monitorRunner.runNow(monitor), settings.publicUrl);
    },
  );

  app.get(
    '/monitors/:id/runs',
    {
      config: { auth: 'key' },
      schema: {
        summary: "A monitor's runs, newest first",
        tags,
        params: idParams,
        querystring: keyQuery.extend({ limit: z.coerce.number().int().min(1).max(1000).optional() }),
        openapi: {
          responses: {
            200: jsonResponse('The runs', { type: 'array', items: RUN_SCHEMA }),
            ...errorResponses(400, 404),
          },
        },
      },
    },
    async (request) => {
      const runs = await monitors.runs(callerOf(request), request.params.id, request.query.limit);
      return runs.map((run) => describeMonitorRun(run, settings.publicUrl));
    },
  );

  for (const decision of ['approve', 'reject'] as const) {
    app.post(
      `/monitors/:id/runs/:run/${decision}`,
      {
        config: { auth: 'key' },
        schema: {
          summary:
            decision === 'approve'
              ? 'Approve the pending change: its capture becomes the baseline'
              : 'Reject the pending change: the baseline stays',
          tags,
          params: runParams,
          querystring: keyQuery,
          openapi: { responses: { 200: runAnswer('The run, decided'), ...errorResponses(404, 409) } },
        },
      },
      async (request) => {
        const run = await monitors[decision](callerOf(request), request.params.id, request.params.run);
        return describeMonitorRun(run, settings.publicUrl);
      },
    );
  }

  app.get(
    '/monitors/:id/runs/:run/image/:which',
    {
      config: { auth: 'key' },
      schema: {
        summary: "One of a run's images: the baseline it was compared with, its capture, or the diff",
        tags,
        params: imageParams,
        querystring: keyQuery,
        openapi: {
          responses: {
            200: imageResponse('The image (PNG unless the monitor captures another format)'),
            ...errorResponses(404, 410),
          },
        },
      },
    },
    async (request, reply) => {
      const { run } = await monitors.requireRun(callerOf(request), request.params.id, request.params.run);
      const which = request.params.which;
      const blob = which === 'before' ? run.before_blob : which === 'after' ? run.after_blob : run.diff_blob;
      const bytes = blob ? await blobs.get(blob) : undefined;
      if (!blob) {
        throw new ApiError(
          'ERR::MONITOR::NOT_FOUND',
          `Run ${run.id} has no ${which} image (${run.status === 'baseline' ? 'it became the baseline: nothing was compared' : `its status is ${run.status}`})`,
        );
      }
      if (!bytes) {
        throw new ApiError(
          'ERR::COMPARE::IMAGE_GONE',
          `The ${which} image of run ${run.id} is past the project's retention and no longer kept`,
        );
      }
      return reply.type(imageType(bytes)).header('cache-control', 'private, max-age=3600').send(bytes);
    },
  );
};

/** The image's type from its first bytes (the capture's format, or the diff's PNG). */
function imageType(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  if (bytes.subarray(0, 3).toString('latin1') === 'GIF') return 'image/gif';
  return 'image/png';
}

export default route;
