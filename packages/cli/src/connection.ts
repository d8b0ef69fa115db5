// What every command that talks to a running Snapwire shares: where the service is and which key to use
// (flags, else SNAPWIRE_HOST / SNAPWIRE_KEY), and one clear line for each way a call can fail.
import type { Command } from 'commander';
import { BadApiKeyError, SnapwireApiError, SnapwireError } from '@snapwire/sdk';
import { fail } from './output.js';

export const HOST_ENV = 'SNAPWIRE_HOST';
export const KEY_ENV = 'SNAPWIRE_KEY';
export const DEFAULT_HOST = 'http://localhost:8080';

export interface ConnectionOptions {
  host?: string;
  key?: string;
}

/** Adds --host and --key; --help names the environment variables and shows the host in use. */
export function addConnectionOptions(command: Command): Command {
  return command
    .option('--host <url>', `Snapwire (or Scrapfly) API address; env ${HOST_ENV} (default ${DEFAULT_HOST})`)
    .option('--key <key>', `project API key (LIVE or TEST); env ${KEY_ENV}`);
}

/** Flags win over the environment; a missing key or a malformed host stops the command with a fix. */
export function resolveConnection(options: ConnectionOptions): { host: string; key: string } {
  const host = (options.host ?? process.env[HOST_ENV] ?? DEFAULT_HOST).trim();
  const key = options.key ?? process.env[KEY_ENV];
  if (!key)
    fail(`no API key: pass --key KEY or set ${KEY_ENV} (the keys are printed at the service's first start)`);
  try {
    const parsed = new URL(host);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
  } catch {
    fail(`the host "${host}" is not an http(s) URL; pass --host http://HOST:PORT or set ${HOST_ENV}`);
  }
  return { host: host.replace(/\/+$/, ''), key };
}

/** Turns a failed API call into the one line the person needs (no stack trace), or rethrows the unknown. */
export function explainCallFailure(error: unknown, host: string): never {
  if (error instanceof BadApiKeyError) {
    fail(
      `${host} refused the key (HTTP 401): check --key / ${KEY_ENV} (snapwire projects list shows key hints)`,
    );
  }
  if (error instanceof SnapwireApiError) {
    const doc = error.docUrl ? ` (see ${error.docUrl})` : '';
    fail(`${error.code} (HTTP ${error.httpStatus}): ${error.reason ?? error.message}${doc}`);
  }
  if (error instanceof SnapwireError) {
    if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ECONNRESET|fetch failed/.test(error.message)) {
      fail(
        `cannot reach Snapwire at ${host} (${error.message.replace(/^GET \S+ failed: /, '')}): is it running (npm start)? Otherwise pass --host or set ${HOST_ENV}`,
      );
    }
    fail(error.message);
  }
  throw error;
}
