import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, ProjectEventsTable } from '../store/schema.js';

/** What a project's owner is told about (today: a webhook that keeps failing, then its auto-disable). */
export type ProjectEventKind = 'webhook.failing' | 'webhook.disabled';

export type ProjectEvent = ProjectEventsTable;

/**
 * The project events (table `project_events`): the one place that writes and reads them. The delivery
 * service records them, the dashboard shows them; retention/retention-sweeper.ts sweeps old ones with every other table.
 */
export class ProjectEvents {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records one event at `createdAt` (epoch ms, from the caller's injected clock). */
  async record(projectId: string, kind: ProjectEventKind, message: string, createdAt: number): Promise<void> {
    await this.db
      .insertInto('project_events')
      .values({ id: randomUUID(), project_id: projectId, kind, message, created_at: createdAt })
      .execute();
  }

  /** A project's latest events, newest first. */
  async recent(projectId: string, limit = 20): Promise<ProjectEvent[]> {
    return this.db
      .selectFrom('project_events')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
  }
}

/** Retention: removes a project's events created before `cutoff`. */
export async function sweepProjectEvents(
  db: Kysely<Database>,
  projectId: string,
  cutoff: number,
): Promise<number> {
  const result = await db
    .deleteFrom('project_events')
    .where('project_id', '=', projectId)
    .where('created_at', '<', cutoff)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
