import type { Kysely } from 'kysely';

// The cache index of cache=true captures (results/screenshot-cache.ts): one row per project, environment
// and normalised request, pointing at the stored image. Written for both dialects (text, integer, bigint).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('screenshot_cache')
    .addColumn('project_id', 'text', (col) => col.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('env', 'text', (col) => col.notNull())
    .addColumn('cache_key', 'text', (col) => col.notNull())
    .addColumn('blob_key', 'text', (col) => col.notNull())
    .addColumn('content_type', 'text', (col) => col.notNull())
    .addColumn('upstream_status', 'integer', (col) => col.notNull())
    .addColumn('final_url', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('screenshot_cache_pk', ['project_id', 'env', 'cache_key'])
    .execute();
  await db.schema
    .createIndex('screenshot_cache_created')
    .on('screenshot_cache')
    .column('created_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('screenshot_cache').ifExists().execute();
}
