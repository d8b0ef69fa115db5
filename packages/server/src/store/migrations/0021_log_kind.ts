import type { Kysely } from 'kysely';

// The monitoring log holds more than screenshots: each row says which API wrote it ('screenshot' for every
// row before this migration, 'extraction' for POST /extraction).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('screenshot_logs')
    .addColumn('kind', 'text', (column) => column.notNull().defaultTo('screenshot'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('screenshot_logs').dropColumn('kind').execute();
}
