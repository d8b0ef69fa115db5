import type { Kysely } from 'kysely';

// The Web Scraping and Extraction APIs record one monitoring log per /scrape and /extraction in the same table
// as screenshots:
// `kind` tells them apart (rows written before this migration are screenshots).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('screenshot_logs')
    .addColumn('kind', 'text', (col) => col.notNull().defaultTo('screenshot'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('screenshot_logs').dropColumn('kind').execute();
}
