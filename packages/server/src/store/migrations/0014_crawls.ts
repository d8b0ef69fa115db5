import type { Kysely } from 'kysely';

/**
 * The Crawler API (docs/compat.md §9): one row per crawl, and its frontier and results in crawl_urls, one
 * row per normalised URL (the primary key is what makes a page fetched once). A URL is claimed with a
 * lease (locked_by, locked_until) as jobs are, so a node that dies lets its URLs be taken over; the write
 * of the result is fenced by the lease token, so a page is stored once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('crawls')
    .addColumn('uuid', 'text', (col) => col.primaryKey())
    .addColumn('project_id', 'text', (col) => col.notNull())
    .addColumn('env', 'text', (col) => col.notNull())
    .addColumn('seed_url', 'text', (col) => col.notNull())
    // The parsed request (request/crawl-request.ts) as JSON.
    .addColumn('config', 'text', (col) => col.notNull())
    // PENDING | RUNNING | DONE | CANCELLED
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('is_success', 'integer')
    .addColumn('stop_reason', 'text')
    .addColumn('api_credit_used', 'bigint', (col) => col.notNull().defaultTo(0))
    // Politeness across the fleet: no URL of this crawl is claimed before this time (delay).
    .addColumn('next_fetch_at', 'bigint', (col) => col.notNull().defaultTo(0))
    // robots.txt as fetched once for the crawl ('' when there is none), so every node reads the same rules.
    .addColumn('robots_txt', 'text')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('start_time', 'bigint')
    .addColumn('stop_time', 'bigint')
    .execute();
  await db.schema.createIndex('crawls_status').on('crawls').columns(['status', 'created_at']).execute();
  await db.schema
    .createIndex('crawls_project')
    .on('crawls')
    .columns(['project_id', 'env', 'created_at'])
    .execute();
  await db.schema
    .createTable('crawl_urls')
    .addColumn('crawl_uuid', 'text', (col) => col.notNull().references('crawls.uuid').onDelete('cascade'))
    .addColumn('url', 'text', (col) => col.notNull())
    // Order of discovery, for stable pages of /urls and /contents.
    .addColumn('seq', 'bigint', (col) => col.notNull())
    .addColumn('depth', 'integer', (col) => col.notNull())
    // pending | visited | failed | skipped
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('reason', 'text')
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', 'bigint')
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('http_status', 'integer')
    // One blob per page: JSON {format: content} of the crawl's content_formats.
    .addColumn('contents_blob', 'text')
    // The page's WARC request + response records (gzip members), for GET /crawl/{uuid}/artifact?type=warc.
    .addColumn('warc_blob', 'text')
    // The page's HAR 1.2 entry (JSON), for GET /crawl/{uuid}/artifact?type=har.
    .addColumn('har_blob', 'text')
    .addColumn('discovered_at', 'bigint', (col) => col.notNull())
    .addColumn('visited_at', 'bigint')
    .addPrimaryKeyConstraint('crawl_urls_pk', ['crawl_uuid', 'url'])
    .execute();
  await db.schema
    .createIndex('crawl_urls_status')
    .on('crawl_urls')
    .columns(['crawl_uuid', 'status', 'seq'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('crawl_urls').execute();
  await db.schema.dropTable('crawls').execute();
}
