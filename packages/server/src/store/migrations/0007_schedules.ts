import type { Kysely } from 'kysely';

/** Schedules (recurring asynchronous screenshots) and their runs. Same DDL on both dialects. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('schedules')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('project_id', 'text', (col) => col.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('env', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    // ACTIVE -> PAUSED <-> ACTIVE; ACTIVE -> COMPLETED (ends reached); any -> CANCELLED (terminal)
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('webhook_name', 'text', (col) => col.notNull())
    .addColumn('webhook_uuid', 'text')
    // The screenshot parameters as the query string would carry them (a JSON object of strings).
    .addColumn('config', 'text', (col) => col.notNull())
    // The recurrence as given (JSON), or null for a one-off run at scheduled_date.
    .addColumn('recurrence', 'text')
    .addColumn('scheduled_date', 'bigint')
    .addColumn('next_run_at', 'bigint')
    .addColumn('allow_concurrency', 'integer', (col) => col.notNull())
    .addColumn('retry_on_failure', 'integer', (col) => col.notNull())
    .addColumn('max_retries', 'integer', (col) => col.notNull())
    .addColumn('notes', 'text')
    .addColumn('fired_count', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('consecutive_failures', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('last_run_at', 'bigint')
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', 'bigint')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .addColumn('cancelled_at', 'bigint')
    .execute();
  await db.schema.createIndex('schedules_due').on('schedules').columns(['status', 'next_run_at']).execute();
  await db.schema
    .createIndex('schedules_project_env')
    .on('schedules')
    .columns(['project_id', 'env', 'created_at'])
    .execute();

  await db.schema
    .createTable('schedule_runs')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('schedule_id', 'text', (col) => col.notNull().references('schedules.id').onDelete('cascade'))
    .addColumn('project_id', 'text', (col) => col.notNull())
    // schedule (a recurrence instant), manual (execute), retry (a failed run's next try)
    .addColumn('trigger', 'text', (col) => col.notNull())
    .addColumn('attempt', 'integer', (col) => col.notNull())
    .addColumn('retry_of', 'text')
    // due -> running -> succeeded | failed; skipped (allow_concurrency=false while one runs)
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('due_at', 'bigint', (col) => col.notNull())
    .addColumn('job_uuid', 'text')
    .addColumn('log_uuid', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_reason', 'text')
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', 'bigint')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('schedule_runs_state')
    .on('schedule_runs')
    .columns(['status', 'due_at'])
    .execute();
  await db.schema
    .createIndex('schedule_runs_schedule')
    .on('schedule_runs')
    .columns(['schedule_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('schedule_runs').execute();
  await db.schema.dropTable('schedules').execute();
}
