import type { Kysely } from 'kysely';

// Audit log, dashboard sessions one can see and end, and TOTP two-factor sign-in (issue 25, part 2):
// - audit_log: who did what, from which address (audit/audit-log.ts); kept SNAPWIRE_AUDIT_RETENTION_DAYS.
// - dashboard_sessions gains when it was last seen, from which address and browser (the sessions page).
// - dashboard_two_factor: a user's TOTP secret (pending until confirmed with a code) and the last time
//   step used, so that one code signs in once; dashboard_recovery_codes: SHA-256 of each one-use code.
// - dashboard_sign_in_challenges: a password that was right, waiting for its second factor (minutes).
// Kept out of dashboard_users on purpose: that table belongs to the accounts work (users and roles).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('actor', 'text', (col) => col.notNull())
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('project_id', 'text')
    .addColumn('target', 'text')
    .addColumn('source_address', 'text', (col) => col.notNull())
    .addColumn('detail', 'text')
    .execute();
  await db.schema.createIndex('audit_log_created').on('audit_log').columns(['created_at', 'id']).execute();
  await db.schema
    .createIndex('audit_log_actor_created')
    .on('audit_log')
    .columns(['actor', 'created_at'])
    .execute();
  await db.schema
    .createIndex('audit_log_project_created')
    .on('audit_log')
    .columns(['project_id', 'created_at'])
    .execute();

  await db.schema.alterTable('dashboard_sessions').addColumn('last_seen_at', 'bigint').execute();
  await db.schema.alterTable('dashboard_sessions').addColumn('source_address', 'text').execute();
  await db.schema.alterTable('dashboard_sessions').addColumn('user_agent', 'text').execute();

  await db.schema
    .createTable('dashboard_two_factor')
    .addColumn('username', 'text', (col) =>
      col.primaryKey().references('dashboard_users.username').onDelete('cascade'),
    )
    .addColumn('secret', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('enabled_at', 'bigint')
    .addColumn('last_step', 'bigint')
    .execute();
  await db.schema
    .createTable('dashboard_recovery_codes')
    .addColumn('username', 'text', (col) =>
      col.notNull().references('dashboard_users.username').onDelete('cascade'),
    )
    .addColumn('code_hash', 'text', (col) => col.notNull())
    .addColumn('used_at', 'bigint')
    .addPrimaryKeyConstraint('dashboard_recovery_codes_pk', ['username', 'code_hash'])
    .execute();
  await db.schema
    .createTable('dashboard_sign_in_challenges')
    .addColumn('id_hash', 'text', (col) => col.primaryKey())
    .addColumn('username', 'text', (col) =>
      col.notNull().references('dashboard_users.username').onDelete('cascade'),
    )
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('dashboard_sign_in_challenges').ifExists().execute();
  await db.schema.dropTable('dashboard_recovery_codes').ifExists().execute();
  await db.schema.dropTable('dashboard_two_factor').ifExists().execute();
  for (const column of ['user_agent', 'source_address', 'last_seen_at']) {
    await db.schema.alterTable('dashboard_sessions').dropColumn(column).execute();
  }
  await db.schema.dropTable('audit_log').ifExists().execute();
}
