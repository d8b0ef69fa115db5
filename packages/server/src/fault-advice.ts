import fs from 'node:fs';
import os from 'node:os';
import type { Settings } from './config/settings.js';

/**
 * Faults an operator fixes (a data folder the service cannot write, a database it cannot reach, a
 * Chromium that does not start, a small /dev/shm), each said with its fix: the line a container log,
 * the journal and /healthz show. Never includes DATABASE_URL's user or password.
 */

type CodedError = Error & { code?: unknown; path?: unknown; cause?: unknown };

/** The error and its causes, outermost first (bounded: a cycle of causes cannot loop). */
function chain(error: unknown): CodedError[] {
  const found: CodedError[] = [];
  let current: unknown = error;
  while (current instanceof Error && found.length < 8) {
    found.push(current as CodedError);
    current = (current as CodedError).cause;
  }
  return found;
}

const codeOf = (error: unknown): string | undefined =>
  chain(error)
    .map((link) => link.code)
    .find((code): code is string => typeof code === 'string');

/** host:port/database of a postgres:// URL, nothing else of it. */
export function databaseLocation(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname}:${url.port || '5432'}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return 'the DATABASE_URL address';
  }
}

/** Why PostgreSQL could not be used, and what to do. */
export function describeDatabaseFault(error: unknown, databaseUrl: string): string {
  const code = codeOf(error);
  const message = chain(error).at(-1)?.message ?? String(error);
  const where = `PostgreSQL at ${databaseLocation(databaseUrl)} (DATABASE_URL)`;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${where} cannot be reached: its host name does not resolve (${code}). Fix: correct the host in DATABASE_URL (with docker compose, the database service's name) or put this node on the database's network`;
    case 'ECONNREFUSED':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} cannot be reached (${code}). Fix: start the database, or correct the host and port in DATABASE_URL; a node started before its database exits and its restart policy starts it again`;
    case '28P01':
    case '28000':
      return `${where} refused the login (${message}). Fix: correct the user and password in DATABASE_URL`;
    case '3D000':
      return `${where}: ${message}. Fix: create the database (CREATE DATABASE …) or correct its name in DATABASE_URL`;
    default:
      return `${where} does not answer (${message}). Fix: check that the database runs and that DATABASE_URL names it; the node reconnects by itself once it answers`;
  }
}

/** The data folder is not the process's to write. */
function dataFolderFault(error: unknown, settings: Settings): string | undefined {
  const links = chain(error);
  const denied = links.some(
    (link) =>
      (['EACCES', 'EPERM', 'EROFS'].includes(String(link.code)) &&
        typeof link.path === 'string' &&
        link.path.startsWith(settings.dataDir)) ||
      (!settings.databaseUrl && /^SQLITE_(CANTOPEN|READONLY)/.test(String(link.code))),
  );
  if (!denied) return undefined;
  const { uid, gid } = os.userInfo();
  return `the data folder ${settings.dataDir} (SNAPWIRE_DATA_DIR) is not writable by this process (uid ${uid}, gid ${gid}): ${links[0]?.message}. Fix: make that user its owner (chown -R ${uid}:${gid} on the folder, or on the host folder mounted there), or run the service as the folder's owner`;
}

/** Chromium exits or is missing at start (or when a crashed one is replaced). */
export function browserFault(launchFailure: string, settings: Settings): string {
  return `${launchFailure}. Fix: SNAPWIRE_CHROMIUM_PATH (${settings.chromiumPath}) must name a Chromium that runs here (Debian: apt-get install chromium); when it crashes as it starts, its own error output above says why (often too little memory)`;
}

const NETWORK_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** A failure to reach or use PostgreSQL: a network error, a server error (SQLSTATE), a dropped connection. */
function isDatabaseFault(error: unknown): boolean {
  return chain(error).some(
    (link) =>
      NETWORK_CODES.has(String(link.code)) ||
      ('severity' in link && /^[0-9A-Z]{5}$/.test(String(link.code))) ||
      /Connection terminated|timeout expired/i.test(link.message),
  );
}

/** The one line a failed start ends with. */
export function explainStartFailure(error: unknown, settings: Settings): string {
  const data = dataFolderFault(error, settings);
  if (data) return data;
  if (codeOf(error) === 'EADDRINUSE') {
    return `port ${settings.port} on ${settings.host} is in use (EADDRINUSE). Fix: stop what listens there or choose another PORT`;
  }
  if (settings.databaseUrl && isDatabaseFault(error))
    return describeDatabaseFault(error, settings.databaseUrl);
  const message = (error as Error)?.message ?? String(error);
  if (message.startsWith('Chromium could not be started')) return browserFault(message, settings);
  return message;
}

/** Free bytes in /dev/shm, undefined where there is none. */
export function devShmBytes(): number | undefined {
  try {
    const stats = fs.statfsSync('/dev/shm');
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}

/**
 * Chromium keeps its shared memory in /dev/shm; a container's default (64 MB with Docker and podman) is
 * too small for it, so the pool then moves it to /tmp (engine/browser-pool.ts, under the same 1 GB).
 */
export function sharedMemoryAdvice(bytes: number | undefined = devShmBytes()): string | undefined {
  if (bytes === undefined || bytes >= 1024 ** 3) return undefined;
  return `/dev/shm has ${Math.round(bytes / 1024 ** 2)} MB free: Chromium keeps its shared memory in /tmp instead (--disable-dev-shm-usage), slower under load. Fix: give the container 1 GB of it (docker run --shm-size=1g, compose shm_size: 1gb, Kubernetes an emptyDir with medium Memory at /dev/shm)`;
}
