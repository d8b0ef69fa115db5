import type { Kysely } from 'kysely';

/** What the egress guard refused while a page loaded, kept with its monitoring log. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('screenshot_logs').addColumn('refused_requests', 'integer').execute();
  await db.schema.alterTable('screenshot_logs').addColumn('refused_hosts', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('screenshot_logs').dropColumn('refused_hosts').execute();
  await db.schema.alterTable('screenshot_logs').dropColumn('refused_requests').execute();
}
