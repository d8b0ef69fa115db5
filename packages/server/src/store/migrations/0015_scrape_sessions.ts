import type { Kysely } from 'kysely';

// session=NAME of the Web Scraping API (scrape/session-store.ts): one cookie jar per project, environment
// and name, kept across scrapes and dropped after an idle time. Written for both dialects.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('scrape_sessions')
    .addColumn('project_id', 'text', (col) => col.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('env', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    // JSON list of the jar's cookies (scrape/cookie-jar.ts StoredCookie).
    .addColumn('cookies', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('used_at', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('scrape_sessions_pk', ['project_id', 'env', 'name'])
    .execute();
  await db.schema.createIndex('scrape_sessions_used').on('scrape_sessions').column('used_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('scrape_sessions').ifExists().execute();
}
