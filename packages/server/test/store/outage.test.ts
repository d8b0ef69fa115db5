import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { storeOutageToApiError } from '../../src/errors.js';
import { openStore, type Store } from '../../src/store/database.js';
import { freePort } from '../fleet/support.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';

/** Real failures of a real PostgreSQL: which ones mean "the database went away" (retry) and which do not. */
describe('a database outage is a retryable 503, a bad query is not', () => {
  let store: Store;
  const schema = `outage_${process.pid}`;

  before(async () => {
    store = await openStore({ databaseUrl: TEST_DATABASE_URL, dataDir: '', postgresSchema: schema });
  });

  after(async () => {
    await store?.close();
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it('a connection terminated by the server (pg_terminate_backend) is SERVICE_UNAVAILABLE', async () => {
    const failure = await store.db.connection().execute(async (db) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
      const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await admin.connect();
      await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
      await admin.end();
      return sql`select 1`.execute(db).then(
        () => undefined,
        (error: unknown) => error,
      );
    });
    assert.ok(failure instanceof Error, 'the query on the terminated connection fails');
    const error = storeOutageToApiError(failure);
    assert.equal(error?.code, 'ERR::API::SERVICE_UNAVAILABLE', String(failure));
    assert.equal(error?.definition.httpStatus, 503);
    assert.equal(error?.definition.retryable, true);
    assert.equal(error?.retryAfterSeconds, 5);
    // The pool replaces the dead connection: the next query goes through.
    assert.equal((await sql<{ one: number }>`select 1 as one`.execute(store.db)).rows[0]?.one, 1);
  });

  it('a database nobody listens for (connection refused) is SERVICE_UNAVAILABLE', async () => {
    const url = new URL(TEST_DATABASE_URL);
    url.port = String(await freePort());
    const client = new pg.Client({ connectionString: url.toString() });
    const failure = await client.connect().then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.equal(storeOutageToApiError(failure)?.code, 'ERR::API::SERVICE_UNAVAILABLE', String(failure));
  });

  it('a wrong query, a constraint violation and a plain bug stay internal errors', async () => {
    const syntax = await sql`select from where`.execute(store.db).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(syntax instanceof Error);
    assert.equal(storeOutageToApiError(syntax), undefined);
    await sql`create table ${sql.id(schema, 'once')} (id int primary key)`.execute(store.db);
    await sql`insert into ${sql.id(schema, 'once')} values (1)`.execute(store.db);
    const duplicate = await sql`insert into ${sql.id(schema, 'once')} values (1)`.execute(store.db).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.equal((duplicate as { code?: string }).code, '23505');
    assert.equal(storeOutageToApiError(duplicate), undefined);
    assert.equal(storeOutageToApiError(new TypeError('x is undefined')), undefined);
    assert.equal(storeOutageToApiError('not an error'), undefined);
  });
});
