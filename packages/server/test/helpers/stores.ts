import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrateToLatest, openStore, type Store } from '../../src/store/database.js';

export const TEST_DATABASE_URL =
  process.env.SNAPWIRE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestStore {
  store: Store;
  /** Drops what the test made (the SQLite folder or the PostgreSQL schema). */
  dispose(): Promise<void>;
}

/**
 * The backends every store and queue suite runs against, as in kysely's own tests:
 * `for (const dialect of DIALECTS) describe(dialect.name, ...)`.
 */
export const DIALECTS: Array<{ name: 'sqlite' | 'postgres'; open(): Promise<TestStore> }> = [
  {
    name: 'sqlite',
    async open() {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-store-'));
      const store = await openStore({ dataDir });
      await migrateToLatest(store);
      return {
        store,
        dispose: async () => {
          await store.close();
          fs.rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = `snapwire_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      const store = await openStore({
        databaseUrl: TEST_DATABASE_URL,
        dataDir: os.tmpdir(),
        postgresSchema: schema,
      });
      await migrateToLatest(store);
      return {
        store,
        dispose: async () => {
          await store.close();
          await dropSchema(schema);
        },
      };
    },
  },
];

/** Drops a PostgreSQL schema a test made. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}
