import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { storeOutageToApiError } from '../../src/errors.js';
import { openStore, type Store } from '../../src/store/database.js';
import { freePort, startDatabaseRelay } from '../fleet/support.js';
import { waitUntil } from '../helpers/wait-until.js';
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

  it('a connection whose query the server cut is not handed to the next query', async () => {
    // PostgreSQL answers a terminated backend's running query with an error (57P01) and only then closes
    // the socket. The relay holds that close open, as a loaded host can for a moment: the pool must not
    // lend the dead connection again in between, or one cut would fail two requests.
    const url = new URL(TEST_DATABASE_URL);
    const relay = await startDatabaseRelay(
      { host: url.hostname, port: Number(url.port || 5432) },
      { holdServerCloses: true },
    );
    url.host = `127.0.0.1:${relay.port}`;
    const relayed = await openStore({ databaseUrl: url.toString(), dataDir: '', postgresSchema: schema });
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      const marker = `outage_probe_${process.pid}`;
      const running = sql`select pg_sleep(30), ${sql.lit(marker)} as probe`.execute(relayed.db).then(
        () => undefined,
        (error: unknown) => error,
      );
      const pid = await waitUntil(
        async () =>
          (
            await admin.query<{ pid: number }>(
              `select pid from pg_stat_activity where state = 'active' and query like $1 and pid <> pg_backend_pid()`,
              [`%${marker}%`],
            )
          ).rows[0]?.pid,
        { what: 'the sleeping query to be running' },
      );
      await admin.query('select pg_terminate_backend($1)', [pid]);
      const failure = await running;
      assert.equal((failure as { code?: string }).code, '57P01', String(failure));
      assert.equal(storeOutageToApiError(failure)?.code, 'ERR::API::SERVICE_UNAVAILABLE');
      // Without the fix the next query goes to the dead connection and hangs there: bound it.
      const guard = new AbortController();
      const next = await Promise.race([
        sql<{ one: number }>`select 1 as one`.execute(relayed.db).then((result) => result.rows[0]?.one),
        delay(5_000, 'hung on the dead connection', { signal: guard.signal }),
      ]).finally(() => guard.abort());
      assert.equal(next, 1);
    } finally {
      relay.releaseServerCloses();
      await admin.end();
      await relayed.close();
      await relay.close();
    }
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
