import { sql, type Kysely } from 'kysely';

// Issue 25 (team): the dashboard's single `admin` account becomes one user among several. Users keep
// their `username` key (the sessions reference it); an invited user's username is their email in lower
// case, so one email is one user whatever its case. The admin of an existing installation becomes the
// owner. Memberships say which projects a developer or viewer sees; links are the one-time invitation
// and password-reset links (only the SHA-256 of their token is kept). Written for both dialects.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('dashboard_users').addColumn('email', 'text').execute();
  await db.schema.alterTable('dashboard_users').addColumn('name', 'text').execute();
  await db.schema
    .alterTable('dashboard_users')
    .addColumn('role', 'text', (col) => col.notNull().defaultTo('viewer'))
    .execute();
  await sql`update dashboard_users set role = 'owner'`.execute(db);
  await db.schema
    .createTable('dashboard_memberships')
    .addColumn('username', 'text', (col) =>
      col.notNull().references('dashboard_users.username').onDelete('cascade'),
    )
    .addColumn('project_id', 'text', (col) => col.notNull().references('projects.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('dashboard_memberships_pk', ['username', 'project_id'])
    .execute();
  await db.schema
    .createTable('dashboard_links')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('email', 'text', (col) => col.notNull())
    .addColumn('username', 'text')
    .addColumn('role', 'text')
    .addColumn('project_ids', 'text', (col) => col.notNull().defaultTo('[]'))
    .addColumn('created_by', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('dashboard_links').ifExists().execute();
  await db.schema.dropTable('dashboard_memberships').ifExists().execute();
  for (const column of ['role', 'name', 'email']) {
    await db.schema.alterTable('dashboard_users').dropColumn(column).execute();
  }
}
