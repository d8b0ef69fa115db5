import path from 'node:path';
import { z } from 'zod';
import { parseNetworkList } from '../egress/networks.js';

/**
 * Every knob of the service, read once from the environment at start and validated here. Each one is
 * documented in the README's configuration table; a bad value stops the start with a message naming it.
 */
const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const networkList = z.string().transform((value, ctx) => {
  try {
    return parseNetworkList(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const environmentSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  SNAPWIRE_DATA_DIR: z.string().default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL (leave unset for the embedded SQLite store)')
    .optional(),
  SNAPWIRE_PUBLIC_URL: z.url().optional(),
  SNAPWIRE_BOOTSTRAP_LIVE_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  SNAPWIRE_BOOTSTRAP_TEST_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  SNAPWIRE_ALLOWED_NETWORKS: networkList.default([]),
  SNAPWIRE_DENIED_NETWORKS: networkList.default([]),
  SNAPWIRE_DEFAULT_PLAN: z.enum(['FREE', 'DISCOVERY', 'PRO', 'STARTUP', 'ENTERPRISE']).default('PRO'),
  SNAPWIRE_CHROMIUM_PATH: z.string().default('chromium'),
  SNAPWIRE_BROWSER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  SNAPWIRE_BROWSER_QUEUE: z.coerce.number().int().min(0).max(10_000).default(16),
  SNAPWIRE_MAX_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(120_000),
  SNAPWIRE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SNAPWIRE_TRUST_PROXY: booleanString.default(false),
});

export type NetworkList = ReturnType<typeof parseNetworkList>;

export interface Settings {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  publicUrl: string;
  bootstrapLiveKey: string | undefined;
  bootstrapTestKey: string | undefined;
  allowedNetworks: NetworkList;
  deniedNetworks: NetworkList;
  defaultPlan: 'FREE' | 'DISCOVERY' | 'PRO' | 'STARTUP' | 'ENTERPRISE';
  chromiumPath: string;
  browserConcurrency: number;
  browserQueue: number;
  maxTimeoutMs: number;
  logLevel: string;
  trustProxy: boolean;
}

export class SettingsError extends Error {}

/** Reads settings from an environment map (process.env by default). Throws SettingsError listing every bad knob. */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new SettingsError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const value = parsed.data;
  const publicUrl = (value.SNAPWIRE_PUBLIC_URL ?? `http://localhost:${value.PORT}`).replace(/\/+$/, '');
  return {
    port: value.PORT,
    host: value.HOST,
    dataDir: path.resolve(value.SNAPWIRE_DATA_DIR),
    databaseUrl: value.DATABASE_URL,
    publicUrl,
    bootstrapLiveKey: value.SNAPWIRE_BOOTSTRAP_LIVE_KEY,
    bootstrapTestKey: value.SNAPWIRE_BOOTSTRAP_TEST_KEY,
    allowedNetworks: value.SNAPWIRE_ALLOWED_NETWORKS,
    deniedNetworks: value.SNAPWIRE_DENIED_NETWORKS,
    defaultPlan: value.SNAPWIRE_DEFAULT_PLAN,
    chromiumPath: value.SNAPWIRE_CHROMIUM_PATH,
    browserConcurrency: value.SNAPWIRE_BROWSER_CONCURRENCY,
    browserQueue: value.SNAPWIRE_BROWSER_QUEUE,
    maxTimeoutMs: value.SNAPWIRE_MAX_TIMEOUT_MS,
    logLevel: value.SNAPWIRE_LOG_LEVEL,
    trustProxy: value.SNAPWIRE_TRUST_PROXY,
  };
}
