import { jsonResponse } from '../openapi.js';
import { METRICS_SCHEMA, TARGET_METRICS_SCHEMA } from '../monitoring-openapi.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseQueryBoolean, queryBoolean } from '../../request/boolean.js';
import { aggregate, hostOf, parentDomain, PERIODS, type PeriodName } from '../../logs/log-metrics.js';
import { ApiError } from '../../errors.js';
import { LOG_KINDS } from '../../logs/log-queries.js';
import type { Services } from '../../services.js';
import { callerOf } from '../auth.js';

const period = z
  .enum(['subscription', 'last7d', 'last24h', 'last1h', 'last5m'])
  .optional()
  .describe('Rolling window (default last24h); subscription = since the start of the UTC month');
const kind = z
  .enum(LOG_KINDS)
  .optional()
  .describe('Only the calls of this API: screenshot, scrape or extraction (default: all)');
const monitoringDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}Z?$/, 'a UTC time as YYYY-MM-DD HH:MM:SS')
  .optional();

function windowOf(name: PeriodName | undefined, now: number): { name: string; from: number; to: number } {
  if (name === 'subscription') {
    const date = new Date(now);
    return { name, from: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1), to: now + 1 };
  }
  const chosen = name ?? 'last24h';
  return { name: chosen, from: now - PERIODS[chosen], to: now + 1 };
}

function prometheus(project: string, env: string, stats: ReturnType<typeof aggregate>): string {
  const labels = `project="${project}",env="${env}"`;
  return [
    `# TYPE snapwire_monitoring_requests gauge`,
    `snapwire_monitoring_requests{${labels},outcome="success"} ${stats.requests.success}`,
    `snapwire_monitoring_requests{${labels},outcome="failed"} ${stats.requests.failed}`,
    `snapwire_monitoring_requests{${labels},outcome="pending"} ${stats.requests.pending}`,
    `# TYPE snapwire_monitoring_credits gauge`,
    `snapwire_monitoring_credits{${labels}} ${stats.credits.used}`,
    `# TYPE snapwire_monitoring_duration_ms gauge`,
    ...(['p50', 'p95', 'p99'] as const).map(
      (q) => `snapwire_monitoring_duration_ms{${labels},quantile="${q}"} ${stats.duration_ms[q]}`,
    ),
    '',
  ].join('\n');
}

/**
 * GET /screenshot/monitoring/metrics and /screenshot/monitoring/metrics/target: aggregates of the key's
 * project and environment, as the official SDK's getScreenshotMonitoringMetrics / ...TargetMetrics ask.
 */
const route: (services: Services) => FastifyPluginAsyncZod = (services) => async (app) => {
  const metrics = services.logMetrics;
  const tags = ['monitoring'];

  app.get(
    '/screenshot/monitoring/metrics',
    {
      config: { auth: 'key' },
      schema: {
        summary: "Aggregated monitoring metrics of the key's project and environment",
        tags,
        openapi: {
          responses: {
            200: {
              description: 'Structured JSON, or the Prometheus text format with format=prometheus',
              content: {
                'application/json': { schema: METRICS_SCHEMA },
                'text/plain': { schema: { type: 'string' } },
              },
            },
          },
        },
        querystring: z.object({
          key: z.string().optional().describe('Project API key'),
          format: z.enum(['structured', 'prometheus']).optional(),
          period,
          kind,
          aggregation: z.string().optional().describe('Comma list of account, project, target'),
          include_webhook: queryBoolean('Add webhook delivery totals'),
        }),
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const window = windowOf(request.query.period, services.clock.now());
      const aggregation = (request.query.aggregation ?? 'account')
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean);
      const unknown = aggregation.filter((part) => !['account', 'project', 'target'].includes(part));
      if (unknown.length > 0) {
        throw new ApiError(
          'ERR::SCRAPE::CONFIG_ERROR',
          `Unknown aggregation ${unknown.join(', ')}; use account, project, target`,
        );
      }
      const rows = await metrics.rows(
        caller.project.id,
        caller.env,
        window.from,
        window.to,
        request.query.kind,
      );
      const stats = aggregate(rows);
      if (request.query.format === 'prometheus') {
        return reply
          .type('text/plain; version=0.0.4')
          .send(prometheus(caller.project.name, caller.env, stats));
      }
      const byTarget = new Map<string, typeof rows>();
      if (aggregation.includes('target')) {
        for (const row of rows) {
          const host = hostOf(row.url);
          byTarget.set(host, [...(byTarget.get(host) ?? []), row]);
        }
      }
      return {
        period: {
          name: window.name,
          start: new Date(window.from).toISOString(),
          end: new Date(window.to).toISOString(),
        },
        project: caller.project.name,
        env: caller.env,
        aggregation,
        // Self-hosted: the account is the operator's, but a key only ever sees its own project.
        account: stats,
        ...(aggregation.includes('project') ? { projects: { [caller.project.name]: stats } } : {}),
        ...(aggregation.includes('target')
          ? {
              targets: Object.fromEntries(
                [...byTarget.entries()].map(([host, list]) => [host, aggregate(list)]),
              ),
            }
          : {}),
        ...(parseQueryBoolean(request.query.include_webhook) === true
          ? {
              webhook: await metrics.webhookDeliveries(caller.project.id, caller.env, window.from, window.to),
            }
          : {}),
      };
    },
  );

  app.get(
    '/screenshot/monitoring/metrics/target',
    {
      config: { auth: 'key' },
      schema: {
        summary: 'Monitoring metrics of one target domain, with a time series',
        tags,
        openapi: {
          responses: { 200: jsonResponse('Totals and a time series for the domain', TARGET_METRICS_SCHEMA) },
        },
        querystring: z.object({
          key: z.string().optional().describe('Project API key'),
          domain: z.string().min(1).describe('Host name of the captured URLs'),
          group_subdomain: queryBoolean('Count subdomains as the domain'),
          period,
          kind,
          start: monitoringDate.describe('Window start, UTC (with end; wins over period)'),
          end: monitoringDate.describe('Window end, UTC'),
          include_webhook: queryBoolean('Add webhook delivery totals'),
        }),
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { start, end, domain } = request.query;
      if ((start && !end) || (!start && end)) {
        throw new ApiError('ERR::SCRAPE::CONFIG_ERROR', 'Give both start and end, or neither');
      }
      const parse = (value: string) => Date.parse(`${value.replace(' ', 'T').replace(/Z?$/, 'Z')}`);
      const window =
        start && end
          ? { name: 'custom', from: parse(start), to: parse(end) }
          : windowOf(request.query.period, services.clock.now());
      if (!(window.to > window.from))
        throw new ApiError('ERR::SCRAPE::CONFIG_ERROR', 'end must be after start');
      if (window.to - window.from > 92 * 86_400_000) {
        throw new ApiError('ERR::SCRAPE::CONFIG_ERROR', 'A window is at most 92 days');
      }
      const target = domain.toLowerCase();
      const group = parseQueryBoolean(request.query.group_subdomain) === true;
      const rows = (
        await metrics.rows(caller.project.id, caller.env, window.from, window.to, request.query.kind)
      ).filter((row) => {
        const host = hostOf(row.url);
        return host === target || (group && (host.endsWith(`.${target}`) || parentDomain(host) === target));
      });
      return {
        domain: target,
        group_subdomain: group,
        period: {
          name: window.name,
          start: new Date(window.from).toISOString(),
          end: new Date(window.to).toISOString(),
        },
        project: caller.project.name,
        env: caller.env,
        metrics: aggregate(rows),
        timeseries: metrics.timeseries(rows, window.from, window.to),
        ...(parseQueryBoolean(request.query.include_webhook) === true
          ? {
              webhook: await metrics.webhookDeliveries(caller.project.id, caller.env, window.from, window.to),
            }
          : {}),
      };
    },
  );
};

export default route;
