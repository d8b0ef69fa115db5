import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  sql,
  SqliteDialect,
  type Migration,
  type MigrationProvider,
} from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { discardingDeadConnections } from './postgres-pool.js';
import * as initial from './migrations/0001_initial.js';
import * as webhooks from './migrations/0002_webhooks.js';
import * as screenshotCache from './migrations/0003_screenshot_cache.js';
import * as monitoring from './migrations/0004_monitoring.js';
import * as refusedRequests from './migrations/0005_refused_requests.js';
import * as isolation from './migrations/0006_isolation.js';
import * as schedules from './migrations/0007_schedules.js';
import * as fleet from './migrations/0008_fleet.js';
import * as logPaging from './migrations/0012_log_paging.js';
import * as scrapeLogs from './migrations/0013_scrape_logs.js';
import * as crawls from './migrations/0014_crawls.js';
import * as scrapeSessions from './migrations/0015_scrape_sessions.js';
import * as extractionTemplates from './migrations/0016_extraction_templates.js';
import * as scrapeSessionStorage from './migrations/0021_scrape_session_storage.js';
import * as monitors from './migrations/0022_monitors.js';
import * as team from './migrations/0023_team.js';
import * as auditSecurity from './migrations/0024_audit_security.js';
import * as crawlUrlLogs from './migrations/0026_crawl_url_logs.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The PostgreSQL schema it was opened on, when one was given. */
  schema?: string;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** A postgres:// URL selects PostgreSQL; otherwise SQLite in `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir: string;
  /** PostgreSQL schema to use (tests give each run its own). Created if missing. */
  postgresSchema?: string;
}

// Migrations are bundled in code (not read from a folder) so that the compiled and the tsx-run service
// carry exactly the same list.
const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_webhooks': webhooks,
  '0003_screenshot_cache': screenshotCache,
  '0004_monitoring': monitoring,
  '0005_refused_requests': refusedRequests,
  '0006_isolation': isolation,
  '0007_schedules': schedules,
  '0008_fleet': fleet,
  '0012_log_paging': logPaging,
  '0013_scrape_logs': scrapeLogs,
  '0014_crawls': crawls,
  '0015_scrape_sessions': scrapeSessions,
  '0016_extraction_templates': extractionTemplates,
  '0021_scrape_session_storage': scrapeSessionStorage,
  '0022_monitors': monitors,
  '0023_team': team,
  '0024_audit_security': auditSecurity,
  '0026_crawl_url_logs': crawlUrlLogs,
};

class BundledMigrations implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

// BIGINT (oid 20) comes back from pg as a string to protect precision; our bigints are epoch ms and
// credit counters, far below 2^53, so numbers are safe and keep both dialects returning the same types.
const pgTypes = {
  getTypeParser(oid: number, format?: string) {
    if (oid === 20) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.postgresSchema);
  // The data folder holds webhook secrets and every capture: only the service's own user may read it.
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  restrictMode(options.dataDir, 0o700);
  const databaseFile = path.join(options.dataDir, 'snapwire.db');
  const file = new SqliteDatabase(databaseFile);
  // SQLite creates its -wal and -shm files with the database file's mode.
  restrictMode(databaseFile, 0o600);
  // WAL lets readers run while one writer commits; busy_timeout makes a second process wait, not fail.
  file.pragma('journal_mode = WAL');
  file.pragma('busy_timeout = 5000');
  file.pragma('foreign_keys = ON');
  file.pragma('synchronous = NORMAL');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(file) }) });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

/**
 * Only the owner may chmod. A folder this process can write without owning it (a Kubernetes volume given
 * to the pod's fsGroup, a host folder opened to everyone) keeps the mode its owner chose instead of
 * stopping the start.
 */
function restrictMode(file: string, mode: number): void {
  try {
    fs.chmodSync(file, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK);
  }
}

/**
 * Kysely prepares every query anew; compiling the SQL is a large share of a short query's cost (measured:
 * prepare was 7.6 % of the delivery benchmark's CPU). Queries of one shape compile to the same text, so
 * prepared statements are kept and reused, a bounded number of them.
 */
function withStatementCache(database: SqliteDatabase.Database): SqliteDatabase.Database {
  const cache = new Map<string, SqliteDatabase.Statement>();
  const prepare = database.prepare.bind(database);
  return new Proxy(database, {
    get(target, property, receiver) {
      if (property !== 'prepare') {
        const value = Reflect.get(target, property, receiver) as unknown;
        // Native methods must be called on the real database object, not on the proxy.
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      }
      return (sql: string) => {
        let statement = cache.get(sql);
        if (!statement) {
          statement = prepare(sql);
          if (cache.size >= 500) cache.delete(cache.keys().next().value as string);
          cache.set(sql, statement);
        }
        return statement;
      };
    },
  });
}

async function openPostgres(url: string, schema: string | undefined): Promise<Store> {
  if (schema) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid PostgreSQL schema name "${schema}"`);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await admin.end();
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    types: pgTypes,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle connection cut by the server (restart, pg_terminate_backend) makes the pool emit 'error';
  // unheard, that event would end the process. The pool drops the dead connection and opens a new one
  // for the next query, so noting it is all there is to do.
  pool.on('error', (error) => {
    process.emitWarning(`PostgreSQL connection lost (${error.message}); reconnecting on next use`);
  });
  // The same for a connection lost while checked out (a query running): pg-pool listens only to idle
  // ones. The running query fails with the error itself, and the pool discards the dead connection when
  // it is given back, so this listener only keeps the event from ending the process.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: discardingDeadConnections(pool) }),
  });
  return { db, dialect: 'postgres', ...(schema ? { schema } : {}), close: () => db.destroy() };
}

// Migration numbers are handed out to parallel pieces of work, so a database may have seen a later number
// before an earlier one lands; each migration touches its own tables, so their order does not matter.
// On PostgreSQL the migrator is told the schema in use: without it, kysely takes its bookkeeping tables
// for present when ANY schema of the database has them (another fleet's, or a parallel test run's), and
// then fails with 'relation "kysely_migration_lock" does not exist'.
async function newMigrator(store: Store): Promise<Migrator> {
  let migrationTableSchema: string | undefined = store.schema;
  if (store.dialect === 'postgres' && !migrationTableSchema) {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db);
    migrationTableSchema = rows[0]?.schema;
  }
  return new Migrator({
    db: store.db,
    provider: new BundledMigrations(),
    allowUnorderedMigrations: true,
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
}

/** Brings the schema to the newest migration; throws with the failing migration's name. */
export async function migrateToLatest(store: Store): Promise<void> {
  const migrator = await newMigrator(store);
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** True when every bundled migration has been applied (used by /healthz). */
export async function isMigrated(store: Store): Promise<boolean> {
  const migrator = await newMigrator(store);
  const migrations = await migrator.getMigrations();
  return migrations.length > 0 && migrations.every((migration) => migration.executedAt !== undefined);
}

/**
 * Kysely looks for its migration tables in every schema it may read unless told which one: with another
 * schema of the same database holding them (a test, a benchmark, another tenant), it would skip creating
 * its own and then fail to find them. A store opened on a schema names it.
 */
