import type { Kysely } from 'kysely';
import type { Database, WebhookAttemptsTable } from '../store/schema.js';

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
}
