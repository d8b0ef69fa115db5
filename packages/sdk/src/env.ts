// `fromEnv()`: the client from SNAPWIRE_HOST and SNAPWIRE_KEY, the two variables the CLI and the MCP
// server read too, so one environment configures all three.

import { SnapwireClient, type SnapwireClientOptions } from './client.js';

/** Used when SNAPWIRE_HOST is not set: the address `npm start` listens on. */
export const DEFAULT_HOST = 'http://localhost:8080';

/**
 * A client for `SNAPWIRE_HOST` (default http://localhost:8080) with `SNAPWIRE_KEY`. Throws a TypeError
 * naming the variable when the key is missing. Other options (retry, timeoutMs, …) may be added.
 */
export function fromEnv(
  options: Partial<SnapwireClientOptions> = {},
  env: Record<string, string | undefined> = process.env,
): SnapwireClient {
  const host = options.host ?? (env.SNAPWIRE_HOST?.trim() || DEFAULT_HOST);
  const key = options.key ?? env.SNAPWIRE_KEY?.trim();
  if (!key) {
    throw new TypeError('SNAPWIRE_KEY is not set: export your project API key (and SNAPWIRE_HOST)');
  }
  return new SnapwireClient({ ...options, host, key });
}
