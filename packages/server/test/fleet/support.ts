import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { LIVE_KEY, TEST_KEY } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const SERVER_MAIN = path.join(ROOT, 'packages', 'server', 'dist', 'main.js');
export const CLI_MAIN = path.join(ROOT, 'packages', 'cli', 'dist', 'main.js');

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A database of its own for one fleet test (nodes are real processes: no per-run schema option). */
export async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `snapwire_fleet_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A Snapwire node as its own process (its own process group, so SIGKILL takes its Chromium too). */
export class Node {
  child: ChildProcess | undefined;
  /** What the node logged (warnings and errors, as JSON lines), kept to explain a failing assertion. */
  readonly logLines: string[] = [];
  readonly dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-fleet-node-'));
  readonly base: string;

  constructor(
    readonly id: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {
    this.base = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [SERVER_MAIN], {
      env: {
        ...process.env,
        PORT: String(this.port),
        HOST: '127.0.0.1',
        SNAPWIRE_PUBLIC_URL: this.base,
        SNAPWIRE_NODE_ID: this.id,
        SNAPWIRE_DATA_DIR: this.dataDir,
        SNAPWIRE_BOOTSTRAP_LIVE_KEY: LIVE_KEY,
        SNAPWIRE_BOOTSTRAP_TEST_KEY: TEST_KEY,
        SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.0/8',
        SNAPWIRE_QUEUE_POLL: '500ms',
        // A killed process's jobs run again after one lease: 5s instead of 20 s keeps the run short.
        SNAPWIRE_JOB_LEASE: '5s',
        SNAPWIRE_WEBHOOK_RETRY_SCHEDULE: '200ms,500ms,1s,2s,5s,10s',
        SNAPWIRE_LOG_LEVEL: 'warn',
        NODE_NO_WARNINGS: '1',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    this.child = child;
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      this.logLines.push(...lines.filter(Boolean));
      if (this.logLines.length > 2000) this.logLines.splice(0, this.logLines.length - 2000);
    });
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`node ${this.id} exited with ${child.exitCode}`);
        return (await this.health())?.status === 'ok';
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `node ${this.id} to be healthy` },
    );
  }

  async health(): Promise<Record<string, string> | undefined> {
    return fetch(`${this.base}/healthz`)
      .then((response) => response.json() as Promise<Record<string, string>>)
      .catch(() => undefined);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid, 'SIGKILL');
    await exited;
    this.child = undefined;
  }

  dispose(): void {
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * A TCP relay between one node and PostgreSQL: `cut()` drops every connection and refuses new ones (what
 * a node sees while PostgreSQL restarts), `restore()` lets them through again. With `holdServerCloses`,
 * a connection PostgreSQL closes stays open towards the node (everything PostgreSQL sent still arrives)
 * until `releaseServerCloses()`: the widest form of the gap between a backend's last answer and its
 * socket closing.
 */
export async function startDatabaseRelay(
  target: { host: string; port: number },
  options: { holdServerCloses?: boolean } = {},
) {
  const sockets = new Set<net.Socket>();
  const heldCloses = new Set<net.Socket>();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.pipe(upstream);
    upstream.pipe(client, { end: !options.holdServerCloses });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => (options.holdServerCloses ? heldCloses.add(client) : client.destroy()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      open = true;
    },
    releaseServerCloses() {
      for (const socket of heldCloses) socket.destroy();
      heldCloses.clear();
    },
    async close() {
      open = false;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
