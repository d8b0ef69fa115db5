import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { StoredCookie } from './cookie-jar.js';

/** A session not used for this long is gone: the next scrape with its name starts an empty one. */
export const SESSION_IDLE_MS = 7 * 86_400_000;

/**
 * session=NAME's cookie jars (migration 0015), per project, environment and name. A jar idle for
 * SESSION_IDLE_MS reads as empty and is deleted by sweep(). The same code on SQLite and PostgreSQL.
 */
export class ScrapeSessionStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** The session's cookies, or undefined for a new (or idle-expired) session. */
  async load(projectId: string, env: string, name: string, now: number): Promise<StoredCookie[] | undefined> {
    const row = await this.db
      .selectFrom('scrape_sessions')
      .select(['cookies', 'used_at'])
      .where('project_id', '=', projectId)
      .where('env', '=', env)
      .where('name', '=', name)
      .executeTakeFirst();
    if (!row || row.used_at < now - SESSION_IDLE_MS) return undefined;
    return JSON.parse(row.cookies) as StoredCookie[];
  }

  /** Keeps the jar as it is now and marks the session used (its idle time starts over). */
  async save(
    projectId: string,
    env: string,
    name: string,
    cookies: StoredCookie[],
    now: number,
  ): Promise<void> {
    const text = JSON.stringify(cookies);
    await this.db
      .insertInto('scrape_sessions')
      .values({ project_id: projectId, env, name, cookies: text, created_at: now, used_at: now })
      .onConflict((conflict) =>
        conflict.columns(['project_id', 'env', 'name']).doUpdateSet({ cookies: text, used_at: now }),
      )
      .execute();
  }

  /** Deletes sessions idle since before `now - SESSION_IDLE_MS`; returns how many. */
  async sweep(now: number): Promise<number> {
    const result = await this.db
      .deleteFrom('scrape_sessions')
      .where('used_at', '<', now - SESSION_IDLE_MS)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
