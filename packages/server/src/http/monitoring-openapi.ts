// The documented answers of the monitoring metrics routes (log-metrics.ts's aggregate() and the routes'
// envelopes). The SDK's wire types are generated from these (scripts/sdk-wire-types.ts).
import { answerObject } from './openapi.js';
const count = { type: 'integer' };
const counts = { type: 'object', additionalProperties: count };

const STATS_SCHEMA = answerObject({
  requests: {
    type: 'object',
    required: ['total', 'success', 'failed', 'pending'],
    properties: { total: count, success: count, failed: count, pending: count },
  },
  success_rate: { type: ['number', 'null'], description: 'Share of finished calls that succeeded' },
  credits: { type: 'object', required: ['used'], properties: { used: count } },
  duration_ms: {
    type: 'object',
    required: ['avg', 'p50', 'p95', 'p99'],
    properties: { avg: count, p50: count, p95: count, p99: count },
  },
  errors: { ...counts, description: 'Count per ERR:: code' },
  upstream_status: { ...counts, description: 'Count per upstream HTTP status' },
});

const PERIOD_SCHEMA = answerObject({
  name: { type: 'string' },
  start: { type: 'string', format: 'date-time' },
  end: { type: 'string', format: 'date-time' },
});

const env = { type: 'string', enum: ['LIVE', 'TEST'] };
const webhook = { type: 'object', description: 'Webhook delivery totals (include_webhook=true)' };

export const METRICS_SCHEMA = answerObject(
  {
    period: PERIOD_SCHEMA,
    project: { type: 'string' },
    env,
    aggregation: { type: 'array', items: { type: 'string', enum: ['account', 'project', 'target'] } },
    account: STATS_SCHEMA,
    projects: { type: 'object', additionalProperties: STATS_SCHEMA },
    targets: { type: 'object', additionalProperties: STATS_SCHEMA, description: 'Per host name' },
    webhook,
  },
  ['projects', 'targets', 'webhook'],
);

export const TARGET_METRICS_SCHEMA = answerObject(
  {
    domain: { type: 'string' },
    group_subdomain: { type: 'boolean' },
    period: PERIOD_SCHEMA,
    project: { type: 'string' },
    env,
    metrics: STATS_SCHEMA,
    timeseries: { type: 'array', items: { type: 'object' } },
    webhook,
  },
  ['webhook'],
);
