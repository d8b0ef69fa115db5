// The documented answers of the webhook routes (what describeWebhook, describeAttempt and the job route
// send). The SDK's wire types are generated from these (scripts/sdk-wire-types.ts).
import { answerObject, nullable } from './openapi.js';

const dateTime = { type: 'string', format: 'date-time' };

export const WEBHOOK_SCHEMA = answerObject(
  {
    webhook_uuid: { type: 'string' },
    name: { type: 'string' },
    url: { type: 'string' },
    env: { type: 'string', enum: ['LIVE', 'TEST'] },
    enabled: { type: 'boolean' },
    disable_reason: nullable('string', {
      description: 'Why the service turned it off (failures in a row)',
    }),
    consecutive_failed_count: { type: 'integer' },
    queue_limit: { type: 'integer', description: 'Jobs that may wait at once' },
    queued_element: { type: 'integer', description: 'Jobs waiting now (GET of one webhook)' },
    max_concurrency: nullable('integer'),
    timeout_ms: nullable('integer'),
    secret: { type: 'string', description: 'Only on create, rotate and reveal_secret=true' },
    previous_secret_expires_at: nullable('string', {
      format: 'date-time',
      description: 'After a rotation: until when the old secret also signs',
    }),
    created_at: dateTime,
    updated_at: dateTime,
  },
  ['queued_element', 'secret'],
);

export const DELIVERY_ATTEMPT_SCHEMA = answerObject({
  job_uuid: { type: 'string' },
  attempt: { type: 'integer' },
  started_at: dateTime,
  duration_ms: { type: 'integer' },
  status_code: nullable('integer', { description: 'The receiver status (null when none came)' }),
  success: { type: 'boolean' },
  error: nullable('string', { description: 'Error class of a failed attempt' }),
  response_excerpt: nullable('string'),
});

export const JOB_SCHEMA = answerObject({
  job_uuid: { type: 'string' },
  state: { type: 'string', enum: ['queued', 'delivering', 'done', 'failed'] },
  resource_type: { type: 'string' },
  log_uuid: nullable('string'),
  webhook_uuid: { type: 'string' },
  delivery_attempts: { type: 'integer' },
  next_attempt_at: nullable('string', { format: 'date-time' }),
  last_error: nullable('string'),
  attempts: { type: 'array', items: DELIVERY_ATTEMPT_SCHEMA },
});

export const WEBHOOK_LIST_SCHEMA = answerObject({ webhooks: { type: 'array', items: WEBHOOK_SCHEMA } });

export const DELIVERY_ATTEMPTS_SCHEMA = answerObject({
  attempts: { type: 'array', items: DELIVERY_ATTEMPT_SCHEMA },
});
