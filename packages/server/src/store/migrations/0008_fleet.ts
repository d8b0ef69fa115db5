import type { Kysely } from 'kysely';

/**
 * A fleet on one database: concurrency slots leased per scope (a project's captures, a webhook's
 * deliveries), lease rows for work that runs once per fleet (maintenance), and the node that took each
 * capture in its monitoring log.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('concurrency_leases')
    // `project:<id>` or `webhook:<uuid>`; slot is 0..limit-1, so the primary key caps the holders.
    .addColumn('scope', 'text', (col) => col.notNull())
    .addColumn('slot', 'integer', (col) => col.notNull())
    .addColumn('holder', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('concurrency_leases_pk', ['scope', 'slot'])
    .execute();
  await db.schema
    .createIndex('concurrency_leases_holder')
    .on('concurrency_leases')
    .column('holder')
    .execute();
  await db.schema
    .createTable('fleet_locks')
    .addColumn('name', 'text', (col) => col.primaryKey())
    .addColumn('holder', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema.alterTable('screenshot_logs').addColumn('node_id', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('screenshot_logs').dropColumn('node_id').execute();
  await db.schema.dropTable('fleet_locks').execute();
  await db.schema.dropTable('concurrency_leases').execute();
}
