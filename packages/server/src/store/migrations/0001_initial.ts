import { sql, type Kysely } from 'kysely';

// Written once for both dialects: only types both SQLite and PostgreSQL understand (text, integer, bigint).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('projects')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull().unique())
    .addColumn('plan', 'text', (col) => col.notNull())
    .addColumn('limit_overrides', 'text', (col) => col.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('project_id', 'text', (col) => col.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('env', 'text', (col) => col.notNull())
    .addColumn('key_hash', 'text', (col) => col.notNull().unique())
    .addColumn('key_hint', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addUniqueConstraint('api_keys_project_env', ['project_id', 'env'])
    .execute();

  await db.schema
    .createTable('credit_usage')
    .addColumn('project_id', 'text', (col) => col.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('period', 'text', (col) => col.notNull())
    .addColumn('credits_used', 'bigint', (col) => col.notNull().defaultTo(sql`0`))
    .addPrimaryKeyConstraint('credit_usage_pk', ['project_id', 'period'])
    .execute();

  await db.schema
    .createTable('screenshot_logs')
    .addColumn('log_uuid', 'text', (col) => col.primaryKey())
    .addColumn('project_id', 'text', (col) => col.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('env', 'text', (col) => col.notNull())
    .addColumn('url', 'text', (col) => col.notNull())
    .addColumn('params', 'text', (col) => col.notNull())
    .addColumn('http_status', 'integer', (col) => col.notNull())
    .addColumn('error_code', 'text')
    .addColumn('error_reason', 'text')
    .addColumn('upstream_status', 'integer')
    .addColumn('final_url', 'text')
    .addColumn('cost', 'integer', (col) => col.notNull())
    .addColumn('duration_ms', 'integer', (col) => col.notNull())
    .addColumn('blob_key', 'text')
    .addColumn('content_type', 'text')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('screenshot_logs_project_created')
    .on('screenshot_logs')
    .columns(['project_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['screenshot_logs', 'credit_usage', 'api_keys', 'projects']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
