import type { Kysely } from 'kysely';

/**
 * Saved extraction templates (extraction_template=persistent:NAME or NAME), per project and environment
 * like webhooks: a name is unique within (project, env). Same DDL on both dialects.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('extraction_templates')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('project_id', 'text', (col) => col.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('env', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    // The template's JSON as saved (checked by the rules engine before it was stored).
    .addColumn('template', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('extraction_templates_name')
    .on('extraction_templates')
    .columns(['project_id', 'env', 'name'])
    .unique()
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('extraction_templates').execute();
}
