import type { Kysely } from 'kysely';
import type { Database, WebhookAttemptsTable } from '../store/schema.js';

/** Which attempts a page lists. */
export type AttemptFilter = 'all' | 'failed' | 'succeeded';

/** A delivery attempt as the API and the dashboard show it. */
export interface AttemptView {
  job_uuid: string;
  attempt: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  success: boolean;
  error: string | null;
  response_excerpt: string | null;
}

export function describeAttempt(attempt: WebhookAttemptsTable): AttemptView {
  return {
    job_uuid: attempt.job_id,
    attempt: attempt.attempt,
    started_at: new Date(attempt.started_at).toISOString(),
    duration_ms: attempt.duration_ms,
    status_code: attempt.status_code,
    success: attempt.success === 1,
    error: attempt.error,
    response_excerpt: attempt.response_excerpt,
  };
}

/** Every delivery attempt, listable per webhook and per job. */
export class AttemptHistory {
  constructor(private readonly db: Kysely<Database>) {}

  async forWebhook(webhookUuid: string, limit: number) {
    const rows = await this.db
      .selectFrom('webhook_attempts')
      .selectAll()
      .where('webhook_uuid', '=', webhookUuid)
      .orderBy('started_at', 'desc')
      .orderBy('attempt', 'desc')
      .limit(limit)
      .execute();
    return rows.map(describeAttempt);
  }

  async forJob(jobId: string) {
    const rows = await this.db
      .selectFrom('webhook_attempts')
      .selectAll()
      .where('job_id', '=', jobId)
      .orderBy('attempt')
      .orderBy('started_at')
      .execute();
    return rows.map(describeAttempt);
  }

  /** One page of a webhook's delivery attempts, newest first; `offset` counts rows already shown. */
  async page(webhookUuid: string, filter: AttemptFilter, limit: number, offset: number) {
    let query = this.db.selectFrom('webhook_attempts').where('webhook_uuid', '=', webhookUuid);
    if (filter === 'failed') query = query.where('success', '=', 0);
    if (filter === 'succeeded') query = query.where('success', '=', 1);
    const [rows, total] = await Promise.all([
      query
        .selectAll()
        .orderBy('started_at', 'desc')
        .orderBy('attempt', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .offset(offset)
        .execute(),
      query.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirst(),
    ]);
    return { rows, total: Number(total?.n ?? 0) };
  }

  /** The success rate of a webhook's latest 500 attempts. */
  async stats(webhookUuid: string) {
    const rows = await this.db
      .selectFrom('webhook_attempts')
      .select(['success'])
      .where('webhook_uuid', '=', webhookUuid)
      .orderBy('started_at', 'desc')
      .limit(500)
      .execute();
    const ok = rows.filter((row) => row.success === 1).length;
    return { attempts: rows.length, successRate: rows.length ? ok / rows.length : undefined };
  }
}

/** Retention: removes the delivery attempts of a project's webhooks started before `cutoff`. */
export async function sweepAttempts(
  db: Kysely<Database>,
  projectId: string,
  cutoff: number,
): Promise<number> {
  const result = await db
    .deleteFrom('webhook_attempts')
    .where('started_at', '<', cutoff)
    .where('webhook_uuid', 'in', (eb) =>
      eb.selectFrom('webhooks').select('uuid').where('project_id', '=', projectId),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** A project's delivery attempts in [from, to) in one environment, succeeded and failed (logs/log-metrics.ts). */
export async function webhookDeliveryCounts(
  db: Kysely<Database>,
  projectId: string,
  env: string,
  from: number,
  to: number,
  limit: number,
) {
  const rows = await db
    .selectFrom('webhook_attempts')
    .innerJoin('webhooks', 'webhooks.uuid', 'webhook_attempts.webhook_uuid')
    .select(['webhook_attempts.success', 'webhook_attempts.duration_ms'])
    .where('webhooks.project_id', '=', projectId)
    .where('webhooks.env', '=', env as 'LIVE' | 'TEST')
    .where('webhook_attempts.started_at', '>=', from)
    .where('webhook_attempts.started_at', '<', to)
    .limit(limit)
    .execute();
  const ok = rows.filter((row) => row.success === 1).length;
  return { attempts: rows.length, success: ok, failed: rows.length - ok };
}
