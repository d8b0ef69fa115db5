import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSettings } from '../../src/config/settings.js';
import { StaticResolver } from '../../src/egress/resolver.js';
import { createSnapwire, type Snapwire } from '../../src/snapwire.js';
import { createLogger } from '../../src/logger.js';
import type { Clock } from '../../src/clock.js';
import { dropSchema, TEST_DATABASE_URL } from './stores.js';

export const LIVE_KEY = 'scp-live-test-0000000000000000000000';
export const TEST_KEY = 'scp-test-test-0000000000000000000000';

export interface TestService {
  baseUrl: string;
  snapwire: Snapwire;
  resolver: StaticResolver;
  dataDir: string;
  /** The PostgreSQL schema, when running on PostgreSQL. */
  schema: string | undefined;
  close(): Promise<void>;
}

/**
 * Starts a whole Snapwire on loopback with its own data folder, fixed default-project keys, loopback
 * allowed (as the README tells tests to), and a resolver that knows only the names the test gives it.
 */
export async function startService(
  env: Record<string, string> = {},
  names: Record<string, string | string[] | string[][]> = {},
  /** postgres: run on PostgreSQL in a new schema; shareSchema: join another instance's schema (a fleet). */
  options: {
    postgres?: boolean;
    shareSchema?: string;
    clock?: Clock;
    dataDir?: string;
    /** false: no Chromium (suites of APIs that need no browser). */
    browsers?: boolean;
  } = {},
): Promise<TestService> {
  const ownSchema = options.postgres && !options.shareSchema;
  const schema =
    options.shareSchema ??
    (ownSchema ? `snapwire_svc_${process.pid}_${Math.random().toString(36).slice(2, 8)}` : undefined);
  // A fleet on a local blob store shares one data folder (docs/deploy.md); `dataDir` joins another's.
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-test-'));
  const settings = loadSettings({
    PORT: '0',
    HOST: '127.0.0.1',
    SNAPWIRE_DATA_DIR: dataDir,
    SNAPWIRE_BOOTSTRAP_LIVE_KEY: LIVE_KEY,
    SNAPWIRE_BOOTSTRAP_TEST_KEY: TEST_KEY,
    SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.0/8,::1/128',
    SNAPWIRE_LOG_LEVEL: process.env.SNAPWIRE_TEST_LOG_LEVEL ?? 'silent',
    PATH: process.env.PATH ?? '',
    ...(schema ? { DATABASE_URL: TEST_DATABASE_URL } : {}),
    ...env,
  });
  const resolver = new StaticResolver({ 'fixtures.test': '127.0.0.1', ...names });
  const snapwire = await createSnapwire(settings, {
    resolver,
    logger: createLogger(settings.logLevel),
    ...(schema ? { postgresSchema: schema } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.browsers === false ? { startBrowsers: false } : {}),
  });
  const address = await snapwire.listen();
  return {
    baseUrl: address.replace('[::1]', '127.0.0.1'),
    snapwire,
    resolver,
    dataDir,
    schema,
    close: async () => {
      await snapwire.close();
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      if (schema && ownSchema) await dropSchema(schema);
    },
  };
}

/** GET /screenshot with the given parameters (key defaults to the LIVE key). */
export async function screenshot(
  baseUrl: string,
  params: Record<string, string>,
  method = 'GET',
): Promise<Response> {
  const query = new URLSearchParams({ key: LIVE_KEY, ...params });
  return fetch(`${baseUrl}/screenshot?${query}`, { method });
}
