import type { Kysely } from 'kysely';

/** Webhooks, the durable job queue, delivery attempts and project events. Same DDL on both dialects. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('webhooks')
    .addColumn('uuid', 'text', (col) => col.primaryKey())
    .addColumn('project_id', 'text', (col) => col.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('env', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('url', 'text', (col) => col.notNull())
    // The signing secret must be usable to sign, so it is stored as given (unlike API keys).
    .addColumn('secret', 'text', (col) => col.notNull())
    .addColumn('previous_secret', 'text')
    .addColumn('previous_secret_expires_at', 'bigint')
    .addColumn('enabled', 'integer', (col) => col.notNull().defaultTo(1))
    .addColumn('disable_reason', 'text')
    .addColumn('consecutive_failed_count', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('queue_limit', 'integer')
    .addColumn('max_concurrency', 'integer')
    .addColumn('timeout_ms', 'integer')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .addUniqueConstraint('webhooks_project_env_name', ['project_id', 'env', 'name'])
    .execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('project_id', 'text', (col) => col.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('env', 'text', (col) => col.notNull())
    .addColumn('webhook_uuid', 'text', (col) => col.notNull().references('webhooks.uuid').onDelete('cascade'))
    .addColumn('resource_type', 'text', (col) => col.notNull())
    .addColumn('log_uuid', 'text')
    .addColumn('request', 'text', (col) => col.notNull())
    // queued (to capture) -> delivering -> done | failed
    .addColumn('state', 'text', (col) => col.notNull())
    .addColumn('run_at', 'bigint', (col) => col.notNull())
    .addColumn('delivery_attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('capture_attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', 'bigint')
    .addColumn('payload_blob', 'text')
    .addColumn('payload_content_type', 'text')
    // Result headers delivered with the payload (upstream status and URL, cost, screenshot URL), as JSON.
    .addColumn('payload_headers', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('jobs_due').on('jobs').columns(['state', 'run_at']).execute();
  await db.schema.createIndex('jobs_webhook_state').on('jobs').columns(['webhook_uuid', 'state']).execute();

  await db.schema
    .createTable('webhook_attempts')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('job_id', 'text', (col) => col.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('webhook_uuid', 'text', (col) => col.notNull().references('webhooks.uuid').onDelete('cascade'))
    .addColumn('attempt', 'integer', (col) => col.notNull())
    .addColumn('started_at', 'bigint', (col) => col.notNull())
    .addColumn('duration_ms', 'integer', (col) => col.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('success', 'integer', (col) => col.notNull())
    .addColumn('error', 'text')
    .addColumn('response_excerpt', 'text')
    .execute();
  await db.schema
    .createIndex('webhook_attempts_job')
    .on('webhook_attempts')
    .columns(['job_id', 'attempt'])
    .execute();
  await db.schema
    .createIndex('webhook_attempts_webhook')
    .on('webhook_attempts')
    .columns(['webhook_uuid', 'started_at'])
    .execute();

  await db.schema
    .createTable('project_events')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('project_id', 'text', (col) => col.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('message', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();

  // Asynchronous captures leave their log row in a pending state until the job ends.
  await db.schema.alterTable('screenshot_logs').addColumn('job_uuid', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['project_events', 'webhook_attempts', 'jobs', 'webhooks']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
  await db.schema.alterTable('screenshot_logs').dropColumn('job_uuid').execute();
}
