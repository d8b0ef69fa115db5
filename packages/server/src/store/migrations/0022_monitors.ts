import type { Kysely } from 'kysely';

/**
 * Visual change monitors (monitors/): a recurring capture compared with its baseline, and each run's
 * outcome. The baseline is the last accepted capture, its blob kept while the monitor lives. Same DDL on
 * both dialects; times are epoch milliseconds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('monitors')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('project_id', 'text', (col) => col.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('env', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('url', 'text', (col) => col.notNull())
    // The /screenshot parameters of each capture (url included), as the query string would carry them.
    .addColumn('config', 'text', (col) => col.notNull())
    .addColumn('recurrence', 'text')
    .addColumn('next_run_at', 'bigint')
    .addColumn('change_threshold', 'real', (col) => col.notNull())
    .addColumn('ignore_regions', 'text', (col) => col.notNull())
    .addColumn('compare_text', 'integer', (col) => col.notNull())
    .addColumn('confirm_runs', 'integer', (col) => col.notNull())
    .addColumn('require_approval', 'integer', (col) => col.notNull())
    .addColumn('notify_unchanged', 'integer', (col) => col.notNull())
    .addColumn('webhook_name', 'text')
    .addColumn('baseline_run_id', 'text')
    .addColumn('baseline_blob', 'text')
    .addColumn('baseline_text_blob', 'text')
    // Consecutive runs that saw a change not yet confirmed (confirm_runs).
    .addColumn('unconfirmed_changes', 'integer', (col) => col.notNull())
    // A confirmed change waiting for approve/reject (require_approval).
    .addColumn('pending_run_id', 'text')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('monitors_project').on('monitors').columns(['project_id', 'env']).execute();
  await db.schema.createIndex('monitors_due').on('monitors').columns(['status', 'next_run_at']).execute();

  await db.schema
    .createTable('monitor_runs')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('monitor_id', 'text', (col) => col.notNull().references('monitors.id').onDelete('cascade'))
    .addColumn('project_id', 'text', (col) => col.notNull())
    .addColumn('trigger', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('due_at', 'bigint', (col) => col.notNull())
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', 'bigint')
    .addColumn('log_uuid', 'text')
    .addColumn('cost', 'integer', (col) => col.notNull())
    .addColumn('changed', 'integer')
    .addColumn('score', 'real')
    .addColumn('changed_pixels', 'integer')
    .addColumn('height_change', 'integer')
    .addColumn('regions', 'text')
    .addColumn('text_diff', 'text')
    .addColumn('before_blob', 'text')
    .addColumn('after_blob', 'text')
    .addColumn('after_text_blob', 'text')
    .addColumn('diff_blob', 'text')
    .addColumn('became_baseline', 'integer', (col) => col.notNull())
    .addColumn('note', 'text')
    .addColumn('approval', 'text')
    .addColumn('event_job_id', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_reason', 'text')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('monitor_runs_monitor')
    .on('monitor_runs')
    .columns(['monitor_id', 'created_at'])
    .execute();
  await db.schema.createIndex('monitor_runs_due').on('monitor_runs').columns(['status', 'due_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('monitor_runs').execute();
  await db.schema.dropTable('monitors').execute();
}
