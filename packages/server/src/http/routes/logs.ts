import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../errors.js';
import type { Services } from '../../services.js';
import type { ScreenshotLog } from '../../logs/log-store.js';
import { LOG_KINDS } from '../../logs/log-queries.js';
import { logUrlOf } from '../../logs/log-url.js';
import { callerOf } from '../auth.js';
import { answerObject, errorResponses, jsonResponse, nullable } from '../openapi.js';

/** describeLog's shape, for the document. */
const LOG_SCHEMA = {
  type: 'object',
  // describeLog always sends every field.
  required: [
    'log_uuid',
    'kind',
    'status',
    'env',
    'url',
    'params',
    'http_status',
    'error_code',
    'error_reason',
    'upstream_status',
    'final_url',
    'cost',
    'duration_ms',
    'content_type',
    'screenshot_url',
    'log_url',
    'job_uuid',
    'refused_requests',
    'created_at',
  ],
  properties: {
    log_uuid: { type: 'string' },
    kind: {
      type: 'string',
      enum: [...LOG_KINDS],
      description:
        'Which API wrote the log: GET /screenshot, /scrape, POST /extraction, or a page of a crawl (POST /crawl)',
    },
    status: { type: 'string', enum: ['success', 'failed', 'pending'] },
    env: { type: 'string', enum: ['LIVE', 'TEST'] },
    url: { type: 'string' },
    params: { type: 'object', additionalProperties: true, description: 'The request parameters as recorded' },
    http_status: { type: 'integer', description: 'Status answered to the caller (0 while pending)' },
    error_code: nullable('string', { description: 'Catalogue code of a failure' }),
    error_reason: nullable('string'),
    upstream_status: nullable('integer', { description: 'HTTP status of the captured page' }),
    final_url: nullable('string'),
    cost: { type: 'integer' },
    duration_ms: { type: 'integer' },
    content_type: nullable('string'),
    screenshot_url: nullable('string', { description: 'The stored capture (GET it with ?key=)' }),
    log_url: { type: 'string' },
    job_uuid: nullable('string', { description: 'Asynchronous calls: the webhook job' }),
    refused_requests: { type: 'integer', description: 'Requests of the page the egress guard refused' },
    created_at: { type: 'string', format: 'date-time' },
  },
};

/** The public shape of a monitoring log (what the SDK, the CLI and the MCP server read). */
export function describeLog(log: ScreenshotLog, publicUrl: string) {
  const status = log.http_status === 0 ? 'pending' : log.http_status < 300 ? 'success' : 'failed';
  let params: unknown = {};
  try {
    params = JSON.parse(log.params) as unknown;
  } catch {
    // an unreadable params column never hides the rest of the log
  }
  return {
    log_uuid: log.log_uuid,
    kind: log.kind ?? 'screenshot',
    status,
    env: log.env,
    url: log.url,
    params,
    http_status: log.http_status,
    error_code: log.error_code,
    error_reason: log.error_reason,
    upstream_status: log.upstream_status,
    final_url: log.final_url,
    cost: log.cost,
    duration_ms: log.duration_ms,
    content_type: log.content_type,
    screenshot_url: log.blob_key ? `${publicUrl}/screenshot/result/${log.log_uuid}` : null,
    log_url: logUrlOf(publicUrl, log.log_uuid),
    job_uuid: log.job_uuid ?? null,
    refused_requests: log.refused_requests ?? 0,
    created_at: new Date(log.created_at).toISOString(),
  };
}

/**
 * GET /screenshot/logs and /screenshot/logs/:logUuid: the monitoring logs of the key's project and
 * environment (screenshots, scrapes and extractions, told apart by `kind`), newest first. Another project's or environment's log is simply not found.
 */
const route: (services: Services) => FastifyPluginAsyncZod = (services) => async (app) => {
  const tags = ['monitoring'];
  const { publicUrl } = services.settings;

  app.get(
    '/screenshot/logs',
    {
      config: { auth: 'key' },
      schema: {
        summary: "Monitoring logs of the key's project and environment, newest first",
        tags,
        querystring: z.object({
          key: z.string().optional().describe('Project API key'),
          limit: z.coerce
            .number()
            .int()
            .min(1)
            .max(1000)
            .optional()
            .describe('At most this many (default 50)'),
          status: z.enum(['success', 'failed', 'pending']).optional().describe('Only logs with this outcome'),
          kind: z
            .enum(LOG_KINDS)
            .optional()
            .describe('Only logs of this API: screenshot, scrape or extraction (default: all)'),
          url: z.string().max(2000).optional().describe('Substring of the URL; * is a wildcard'),
          domain: z.string().max(253).optional().describe('Host name (subdomains included)'),
        }),
        openapi: {
          responses: {
            200: jsonResponse(
              'The logs, newest first',
              answerObject({ logs: { type: 'array', items: LOG_SCHEMA } }),
            ),
            ...errorResponses(400),
          },
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { limit, status, kind, url, domain } = request.query;
      const { rows } = await services.logQueries.page(
        {
          projectId: caller.project.id,
          env: caller.env,
          kind,
          outcome: status === 'failed' ? 'failure' : status,
          urlPattern: url,
          domain,
        },
        limit ?? 50,
      );
      return { logs: rows.map((row) => describeLog(row, publicUrl)) };
    },
  );

  app.get(
    '/screenshot/logs/:logUuid',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'One monitoring log',
        tags,
        params: z.object({ logUuid: z.string().describe('log_uuid of the request') }),
        querystring: z.object({ key: z.string().optional().describe('Project API key') }),
        openapi: { responses: { 200: jsonResponse('The log', LOG_SCHEMA), ...errorResponses(404) } },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      // The key's project AND environment: a TEST key never reads a LIVE log (issue 18 item 2).
      const log = await services.logs.find(caller.project.id, request.params.logUuid, caller.env);
      if (!log) {
        throw new ApiError(
          'ERR::API::NOT_FOUND',
          `No log ${request.params.logUuid} in this project and environment (${caller.env}; it may have expired)`,
        );
      }
      return describeLog(log, publicUrl);
    },
  );
};

export default route;
