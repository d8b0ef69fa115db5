import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { ProjectEvents } from '../webhooks/events.js';

export type AttemptFilter = 'all' | 'failed' | 'succeeded';

/**
 * Webhook reads behind the dashboard (jobs, attempts, events), across projects: the admin sees every
 * project. Monitoring-log reads live in logs/.
 */
export class DashboardQueries {
  private readonly projectEvents: ProjectEvents;

  constructor(private readonly db: Kysely<Database>) {
    this.projectEvents = new ProjectEvents(db);
  }

  /** A project's latest events (webhooks/events.ts owns them). */
  async events(projectId: string, limit = 20) {
    return this.projectEvents.recent(projectId, limit);
  }

  async jobsOfWebhook(webhookUuid: string, limit = 50) {
    return this.db
      .selectFrom('jobs')
      .select([
        'id',
        'resource_type',
        'state',
        'log_uuid',
        'delivery_attempts',
        'payload_content_type',
        'created_at',
        'updated_at',
        'run_at',
        'last_error',
        'payload_blob',
      ])
      .where('webhook_uuid', '=', webhookUuid)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
  }

  /** One page of a webhook's delivery attempts, newest first; `offset` counts rows already shown. */
  async attempts(webhookUuid: string, filter: AttemptFilter, limit: number, offset: number) {
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

  /** Jobs of a webhook that ended failed since `since`: what "replay every failed delivery" re-sends. */
  async failedJobsSince(webhookUuid: string, since: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .select('id')
      .where('webhook_uuid', '=', webhookUuid)
      .where('state', '=', 'failed')
      .where('payload_blob', 'is not', null)
      .where('updated_at', '>=', since)
      .orderBy('created_at')
      .limit(10_000)
      .execute();
    return rows.map((row) => row.id);
  }

  async webhookStats(webhookUuid: string) {
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
