import type { Kysely } from 'kysely';

// A crawled URL keeps the log_uuid of its page's monitoring log row (kind `crawl`), so that the crawl's
// dashboard page links each URL to its log without searching the logs by URL. Null for URLs that wrote no
// log (pending, skipped, failed after too many attempts) and for rows written before this migration.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('crawl_urls').addColumn('log_uuid', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('crawl_urls').dropColumn('log_uuid').execute();
}
