import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { failedJobIdsOfWebhookSince, jobsOfWebhook } from '../queue/job-queue.js';
import { AttemptHistory, type AttemptFilter } from '../webhooks/attempt-history.js';
import { ProjectEvents } from '../webhooks/events.js';

export type { AttemptFilter };

/**
 * Webhook reads behind the dashboard (jobs, attempts, events), across projects: the admin sees every
 * project. Each is asked of the room that owns its table (queue/, webhooks/); monitoring-log reads live in
 * logs/.
 */
export class DashboardQueries {
  private readonly projectEvents: ProjectEvents;
  private readonly attemptHistory: AttemptHistory;

  constructor(private readonly db: Kysely<Database>) {
    this.projectEvents = new ProjectEvents(db);
    this.attemptHistory = new AttemptHistory(db);
  }

  /** A project's latest events (webhooks/events.ts owns them). */
  async events(projectId: string, limit = 20) {
    return this.projectEvents.recent(projectId, limit);
  }

  async jobsOfWebhook(webhookUuid: string, limit = 50) {
    return jobsOfWebhook(this.db, webhookUuid, limit);
  }

  /** One page of a webhook's delivery attempts, newest first; `offset` counts rows already shown. */
  async attempts(webhookUuid: string, filter: AttemptFilter, limit: number, offset: number) {
    return this.attemptHistory.page(webhookUuid, filter, limit, offset);
  }

  /** Jobs of a webhook that ended failed since `since`: what "replay every failed delivery" re-sends. */
  async failedJobsSince(webhookUuid: string, since: number): Promise<string[]> {
    return failedJobIdsOfWebhookSince(this.db, webhookUuid, since);
  }

  async webhookStats(webhookUuid: string) {
    return this.attemptHistory.stats(webhookUuid);
  }
}
