import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { isMigrated, migrateToLatest, openStore } from '../../src/store/database.js';
import { dropSchema, TEST_DATABASE_URL } from '../helpers/stores.js';

/**
 * Kysely's migrator finds its tables in any schema it can read unless told which: another schema of the same
 * database holding them (a test or benchmark running at the same time) made a fresh schema's migration fail
 * with `relation "kysely_migration_lock" does not exist`.
 */
describe('PostgreSQL: migrating a schema while another schema holds kysely tables', () => {
  const suffix = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const decoy = `snapwire_decoy_${suffix}`;
  const schema = `snapwire_test_${suffix}`;

  before(async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    await client.query(`CREATE SCHEMA ${decoy}`);
    await client.query(
      `CREATE TABLE ${decoy}.kysely_migration (name varchar(255) primary key, timestamp varchar(255))`,
    );
    await client.query(
      `CREATE TABLE ${decoy}.kysely_migration_lock (id varchar(255) primary key, is_locked integer)`,
    );
    await client.end();
  });
  after(async () => {
    await dropSchema(decoy);
    await dropSchema(schema);
  });

  it('creates and uses its own migration tables', async () => {
    const store = await openStore({
      databaseUrl: TEST_DATABASE_URL,
      dataDir: os.tmpdir(),
      postgresSchema: schema,
    });
    try {
      await migrateToLatest(store);
      assert.equal(await isMigrated(store), true);
      await migrateToLatest(store); // again: nothing to do
    } finally {
      await store.close();
    }
  });
});
