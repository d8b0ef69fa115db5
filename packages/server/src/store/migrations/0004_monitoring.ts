import type { Kysely } from 'kysely';

// Monitoring and dashboard (issue 6): timings by phase on each log row (nullable: rows written before this
// migration, and failures before any capture, have none), the dashboard's admin accounts and its sessions.
// Session ids are never stored: only their SHA-256, so a copy of the database does not hand out sessions.
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const column of ['queue_wait_ms', 'navigation_ms', 'wait_ms', 'capture_ms', 'encode_ms']) {
    await db.schema.alterTable('screenshot_logs').addColumn(column, 'integer').execute();
  }
  await db.schema
    .createIndex('screenshot_logs_project_created')
    .ifNotExists()
    .on('screenshot_logs')
    .columns(['project_id', 'created_at'])
    .execute();
  await db.schema
    .createTable('dashboard_users')
    .addColumn('username', 'text', (col) => col.primaryKey())
    .addColumn('password_hash', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema
    .createTable('dashboard_sessions')
    .addColumn('id_hash', 'text', (col) => col.primaryKey())
    .addColumn('username', 'text', (col) =>
      col.notNull().references('dashboard_users.username').onDelete('cascade'),
    )
    .addColumn('csrf_token', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('dashboard_sessions_expires')
    .on('dashboard_sessions')
    .column('expires_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('dashboard_sessions').ifExists().execute();
  await db.schema.dropTable('dashboard_users').ifExists().execute();
  await db.schema.dropIndex('screenshot_logs_project_created').ifExists().execute();
  for (const column of ['queue_wait_ms', 'navigation_ms', 'wait_ms', 'capture_ms', 'encode_ms']) {
    await db.schema.alterTable('screenshot_logs').dropColumn(column).execute();
  }
}
