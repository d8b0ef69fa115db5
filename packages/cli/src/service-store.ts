// The admin commands work on the running service's store, chosen by the same environment as the service
// (DATABASE_URL, else SQLite in SNAPWIRE_DATA_DIR). Each command says which store it used (on stderr, so
// --json output stays clean), and a place without a Snapwire store is refused unless --create-store says
// to make one: a typo in SNAPWIRE_DATA_DIR must not silently start a second, empty service.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { AuditEntry, Settings, Store } from '@snapwire/server';
import { fail } from './output.js';
import { loadServer } from './server-package.js';

export interface StoreFlags {
  createStore?: boolean;
}

export function addStoreOptions(command: Command): Command {
  return command.option(
    '--create-store',
    'make a new, empty store when none exists at SNAPWIRE_DATA_DIR / DATABASE_URL (otherwise refused)',
  );
}

/** "PostgreSQL postgres://user@host:5432/db" (password left out) or "SQLite /abs/data/snapwire.db". */
export function describeStore(settings: Pick<Settings, 'databaseUrl' | 'dataDir'>): string {
  if (settings.databaseUrl) {
    const url = new URL(settings.databaseUrl);
    url.password = '';
    return `PostgreSQL ${url.toString()}`;
  }
  return `SQLite ${path.join(settings.dataDir, 'snapwire.db')}`;
}

/** Opens (and migrates) the service's store, runs `work`, closes it. */
export async function withServiceStore<T>(
  flags: StoreFlags,
  work: (store: Store, settings: Settings) => Promise<T>,
): Promise<T> {
  const server = await loadServer();
  const settings = server.loadSettings();
  const where = describeStore(settings);
  const sqliteFile = path.join(settings.dataDir, 'snapwire.db');
  if (!settings.databaseUrl && !fs.existsSync(sqliteFile) && !flags.createStore) {
    fail(
      `no Snapwire store at ${sqliteFile}. Run the command where the service runs, with the same SNAPWIRE_DATA_DIR or DATABASE_URL as the service, or pass --create-store to make a new one`,
    );
  }
  const store = await server.openStore({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir });
  try {
    if (settings.databaseUrl && !flags.createStore) {
      const tables = await store.db.introspection.getTables();
      if (!tables.some((table) => table.name === 'projects')) {
        fail(
          `no Snapwire store in ${where} (no projects table). Use the service's DATABASE_URL, or pass --create-store to make a new one`,
        );
      }
    }
    // Migrating runs under the same lock as starting nodes, so a fleet starting meanwhile does not race it.
    await server.withStartupLock(store, () => server.migrateToLatest(store));
    process.stderr.write(`store: ${where}\n`);
    return await work(store, settings);
  } finally {
    await store.close();
  }
}

/** Who acts from the command line, in the audit log: `cli:` and the operating-system user. */
export function cliActor(): string {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return `cli:${user}`;
}

/**
 * Records a change a command made to the store in the service's audit log (docs/dashboard.md "Audit log"),
 * as `cli:USER` from the address `cli`: the dashboard's audit page shows it beside the dashboard's own.
 */
export async function auditFromCli(
  store: Store,
  entry: Omit<AuditEntry, 'actor' | 'sourceAddress'>,
): Promise<void> {
  const server = await loadServer();
  await new server.AuditLog(store.db, server.systemClock).record({
    ...entry,
    actor: cliActor(),
    sourceAddress: 'cli',
  });
}
