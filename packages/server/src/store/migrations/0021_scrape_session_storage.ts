import type { Kysely } from 'kysely';

// session=NAME with render_js keeps the pages' localStorage too (scrape/session-store.ts): a JSON object
// of origin -> {key: value}, null for a session that never ran a browser. Written for both dialects.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('scrape_sessions').addColumn('local_storage', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('scrape_sessions').dropColumn('local_storage').execute();
}
