import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { StoredCookie } from './cookie-jar.js';

/** A session not used for this long is gone: the next scrape with its name starts an empty one. */
export const SESSION_IDLE_MS = 7 * 86_400_000;

/** localStorage kept by a session, per origin (`https://shop.example`): key -> value. */
export type OriginStorage = Record<string, Record<string, string>>;

/** What a session keeps between scrapes. */
export interface SavedSession {
  cookies: StoredCookie[];
  /** Set by render_js scrapes (migration 0021); `{}` for a session that never ran a browser. */
  localStorage: OriginStorage;
}

/**
 * session=NAME's cookie jars (migration 0015) and localStorage (0021), per project, environment and name. A jar idle for
 * SESSION_IDLE_MS reads as empty and is deleted by sweep(). The same code on SQLite and PostgreSQL.
 */
export class ScrapeSessionStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** The session's cookies and storage, or undefined for a new (or idle-expired) session. */
  async load(projectId: string, env: string, name: string, now: number): Promise<SavedSession | undefined> {
    const row = await this.db
      .selectFrom('scrape_sessions')
      .select(['cookies', 'local_storage', 'used_at'])
      .where('project_id', '=', projectId)
      .where('env', '=', env)
      .where('name', '=', name)
      .executeTakeFirst();
    if (!row || Number(row.used_at) < now - SESSION_IDLE_MS) return undefined;
    return {
      cookies: JSON.parse(row.cookies) as StoredCookie[],
      localStorage: row.local_storage ? (JSON.parse(row.local_storage) as OriginStorage) : {},
    };
  }

  /** Keeps the session as it is now and marks it used (its idle time starts over). */
  async save(
    projectId: string,
    env: string,
    name: string,
    session: SavedSession,
    now: number,
  ): Promise<void> {
    const cookies = JSON.stringify(session.cookies);
    const storage =
      Object.keys(session.localStorage).length > 0 ? JSON.stringify(session.localStorage) : null;
    await this.db
      .insertInto('scrape_sessions')
      .values({
        project_id: projectId,
        env,
        name,
        cookies,
        local_storage: storage,
        created_at: now,
        used_at: now,
      })
      .onConflict((conflict) =>
        conflict
          .columns(['project_id', 'env', 'name'])
          .doUpdateSet({ cookies, local_storage: storage, used_at: now }),
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
