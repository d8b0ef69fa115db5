import type { Kysely } from 'kysely';

// Isolation (issue 12): the dashboard's sign-in throttle lives in the database, so that it is atomic and
// holds across every process sharing one PostgreSQL; indexes the retention room sweeps by.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('dashboard_login_attempts')
    .addColumn('client', 'text', (col) => col.primaryKey())
    .addColumn('window_started_at', 'bigint', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull())
    .execute();
  // A replay's own delivery id (X-Scrapfly-Webhook-Delivery-Id); null: the job id is the delivery id.
  await db.schema.alterTable('jobs').addColumn('delivery_id', 'text').execute();
  // The worker walks the projects with deliveries waiting (one index probe per project).
  await db.schema
    .createIndex('jobs_state_project')
    .on('jobs')
    .columns(['state', 'project_id', 'run_at'])
    .execute();
  await db.schema.createIndex('jobs_state_updated').on('jobs').columns(['state', 'updated_at']).execute();
  await db.schema
    .createIndex('webhook_attempts_started')
    .on('webhook_attempts')
    .column('started_at')
    .execute();
  await db.schema
    .createIndex('project_events_project_created')
    .on('project_events')
    .columns(['project_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('project_events_project_created').ifExists().execute();
  await db.schema.dropIndex('webhook_attempts_started').ifExists().execute();
  await db.schema.dropIndex('jobs_state_updated').ifExists().execute();
  await db.schema.dropIndex('jobs_state_project').ifExists().execute();
  await db.schema.alterTable('jobs').dropColumn('delivery_id').execute();
  await db.schema.dropTable('dashboard_login_attempts').ifExists().execute();
}
