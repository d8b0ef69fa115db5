import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createDatabase, freePort, SERVER_MAIN, startDatabaseRelay } from '../fleet/support.js';
import { waitUntil } from '../helpers/wait-until.js';

// What a container operator meets (issue 20): a data volume the service's user cannot write, a database
// it cannot reach, a Chromium that crashes and cannot be started again. Each must say its fix: at start
// on stderr (the container log), later in /healthz.

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** The built service, as the image runs it (optionally as another user, as the image's non-root user). */
function start(env: Record<string, string>, options: { uid?: number } = {}): Started {
  let output = '';
  const child = spawn(process.execPath, [SERVER_MAIN], {
    env: { PATH: process.env.PATH ?? '', SNAPWIRE_LOG_FORMAT: 'json', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}),
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function stop(started: Started): Promise<number | null> {
  if (started.child.exitCode === null) started.child.kill('SIGTERM');
  return started.exited;
}

describe('faults an operator fixes: each names its fix', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-faults-'));
  fs.chmodSync(scratch, 0o755);
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it('a data folder the service cannot write stops the start with the folder, the user and the fix', async () => {
    // A folder inside a read-only parent: nobody can create it, not even as its would-be owner.
    const parent = fs.mkdtempSync(path.join(scratch, 'read-only-'));
    fs.chmodSync(parent, 0o555);
    const dataDir = path.join(parent, 'data');
    const uid = asRoot ? NOBODY : process.getuid!();
    const started = start(
      { PORT: String(await freePort()), SNAPWIRE_DATA_DIR: dataDir },
      asRoot ? { uid: NOBODY } : {},
    );
    assert.equal(await started.exited, 1, started.output());
    assert.match(
      started.output(),
      new RegExp(
        `Snapwire failed to start: the data folder ${dataDir} \\(SNAPWIRE_DATA_DIR\\) is not writable by this process \\(uid ${uid}, gid ${uid}\\).*Fix: make that user its owner \\(chown -R ${uid}:${uid}`,
      ),
    );
  });

  it(
    'a volume the service may write but does not own (a Kubernetes fsGroup volume) is used as it is',
    { skip: !asRoot && 'needs root to give the folder to another owner' },
    async () => {
      // Owned by root, group nobody, group-writable with setgid: what a pod's fsGroup makes of a volume.
      const dataDir = fs.mkdtempSync(path.join(scratch, 'fsgroup-'));
      fs.chownSync(dataDir, 0, NOBODY);
      fs.chmodSync(dataDir, 0o2775);
      const home = fs.mkdtempSync(path.join(scratch, 'home-'));
      fs.chownSync(home, NOBODY, NOBODY);
      const started = start(
        {
          PORT: String(await freePort()),
          SNAPWIRE_DATA_DIR: dataDir,
          HOME: home,
          SNAPWIRE_BROWSER_PREWARM: '0',
        },
        { uid: NOBODY },
      );
      try {
        await waitUntil(
          () => started.output().includes('Take a screenshot:') || started.child.exitCode !== null,
          {
            timeoutMs: 60_000,
            what: 'the banner',
          },
        );
        assert.match(started.output(), /LIVE key: scp-live-/, started.output());
        assert.equal(fs.statSync(path.join(dataDir, 'snapwire.db')).uid, NOBODY);
      } finally {
        assert.equal(await stop(started), 0);
      }
    },
  );

  it('an unreachable PostgreSQL stops the start with its address and the fix, never its password', async () => {
    const closedPort = await freePort();
    const started = start({
      PORT: String(await freePort()),
      DATABASE_URL: `postgres://snapwire:not-for-logs@127.0.0.1:${closedPort}/snapwire`,
    });
    assert.equal(await started.exited, 1, started.output());
    assert.match(
      started.output(),
      new RegExp(
        `Snapwire failed to start: PostgreSQL at 127\\.0\\.0\\.1:${closedPort}/snapwire \\(DATABASE_URL\\) cannot be reached \\(ECONNREFUSED\\)\\. Fix: start the database, or correct the host and port in DATABASE_URL`,
      ),
    );
    assert.doesNotMatch(started.output(), /not-for-logs/);
  });

  it('/healthz names the fix while PostgreSQL is cut off, and when a crashed Chromium cannot start again', async () => {
    const database = await createDatabase();
    const target = new URL(database.url);
    const relay = await startDatabaseRelay({ host: target.hostname, port: Number(target.port || 5432) });
    const viaRelay = new URL(database.url);
    viaRelay.port = String(relay.port);
    viaRelay.username = 'postgres';
    viaRelay.password = 'not-for-health';
    // Chromium itself, until the marker exists; then it fails at once, like a binary that lost a library.
    const broken = path.join(scratch, 'chromium-broken');
    const wrapper = path.join(scratch, 'chromium-wrapper.sh');
    fs.writeFileSync(
      wrapper,
      `#!/bin/sh\nif [ -e "${broken}" ]; then echo "chromium: error while loading shared libraries" >&2; exit 127; fi\nexec chromium "$@"\n`,
      { mode: 0o755 },
    );
    const port = await freePort();
    const started = start({
      PORT: String(port),
      DATABASE_URL: viaRelay.toString(),
      SNAPWIRE_CHROMIUM_PATH: wrapper,
      SNAPWIRE_BROWSER_PREWARM: '0',
    });
    const health = async () => {
      const answer = await fetch(`http://127.0.0.1:${port}/healthz`);
      return {
        status: answer.status,
        body: (await answer.json()) as { status: string; problems?: string[] },
      };
    };
    try {
      await waitUntil(async () => (await health()).body.status === 'ok', {
        timeoutMs: 60_000,
        what: 'the service to be healthy',
      });
      assert.equal((await health()).body.problems, undefined, 'nothing to fix on a healthy node');

      relay.cut();
      const degraded = await waitUntil(
        async () => {
          const now = await health();
          return now.body.status === 'degraded' && now;
        },
        { timeoutMs: 15_000, what: 'degraded' },
      );
      assert.equal(degraded.status, 503);
      assert.match(
        degraded.body.problems?.join('\n') ?? '',
        new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${relay.port}/\\w+ \\(DATABASE_URL\\) .*Fix: `),
      );
      assert.doesNotMatch(JSON.stringify(degraded.body), /not-for-health/);
      relay.restore();
      await waitUntil(async () => (await health()).body.status === 'ok', {
        timeoutMs: 20_000,
        what: 'recovery',
      });

      // The browser crashes (killed as the kernel's OOM killer would) and its replacement cannot start.
      fs.writeFileSync(broken, '');
      const browsers = chromiumMainProcesses(started.child.pid!);
      assert.equal(browsers.length, 1, 'one browser');
      process.kill(browsers[0]!, 'SIGKILL');
      const unavailable = await waitUntil(
        async () => {
          const now = await health();
          return (
            (now.body.problems ?? []).some((problem) => problem.includes('Chromium could not be started')) &&
            now
          );
        },
        { timeoutMs: 30_000, what: 'the launch failure in /healthz' },
      );
      assert.equal(unavailable.status, 503);
      assert.match(
        unavailable.body.problems!.join('\n'),
        /Chromium could not be started .*error while loading shared libraries.*Fix: SNAPWIRE_CHROMIUM_PATH/,
      );
      assert.match(started.output(), /browser crashed; starting a replacement/);

      // Fixed: the next launch (the pool retries with back-off) succeeds and the problem is gone.
      fs.rmSync(broken);
      await waitUntil(async () => (await health()).body.status === 'ok', {
        timeoutMs: 60_000,
        what: 'a browser again',
      });
      assert.equal((await health()).body.problems, undefined);
    } finally {
      assert.equal(await stop(started), 0);
      await relay.close();
      await database.drop();
    }
  });
});

/** Chromium browser processes (not its helpers) of the service with this pid, found by their profile folder
 * (in /tmp: the service runs without TMPDIR). */
function chromiumMainProcesses(servicePid: number): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let commandLine: string;
    try {
      commandLine = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const args = commandLine.split('\0');
    if (
      args.some((arg) => arg.startsWith(`--user-data-dir=/tmp/snapwire-chromium-${servicePid}-`)) &&
      !args.some((arg) => arg.startsWith('--type=')) &&
      !args.includes('-e')
    )
      found.push(Number(entry));
  }
  return found;
}
