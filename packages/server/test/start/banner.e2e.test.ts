import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chooseLogFormat } from '../../src/logger.js';
import { loadSettings } from '../../src/config/settings.js';
import { waitUntil } from '../helpers/wait-until.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'main.js');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The built service, as `npm start` runs it, with its output collected. */
function startProcess(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

const profileFolders = (pid: number) =>
  fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith(`snapwire-chromium-${pid}-`));

describe('npm start: the banner, the log format, the temporary folders', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-banner-'));
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('chooses pretty logs at a terminal and JSON otherwise, unless told', () => {
    assert.equal(chooseLogFormat(undefined, true), 'pretty');
    assert.equal(chooseLogFormat(undefined, false), 'json');
    assert.equal(chooseLogFormat('json', true), 'json');
    assert.equal(loadSettings({ SNAPWIRE_LOG_FORMAT: 'pretty' }).logFormat, 'pretty');
    assert.throws(() => loadSettings({ SNAPWIRE_LOG_FORMAT: 'yaml' }), /SNAPWIRE_LOG_FORMAT/);
  });

  it('tells the truth at the first start and on a restart, and leaves no browser folder behind', async () => {
    // A leftover of a crashed run: the folder of a process that is gone.
    const gone = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    const leftover = fs.mkdtempSync(path.join(os.tmpdir(), `snapwire-chromium-${gone}-`));
    fs.writeFileSync(path.join(leftover, 'Local State'), '{}');

    const port = await freePort();
    const env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      SNAPWIRE_DATA_DIR: dataDir,
      SNAPWIRE_LOG_FORMAT: 'pretty',
      SNAPWIRE_BROWSER_PREWARM: '0',
    };
    const first = startProcess(env);
    try {
      await waitUntil(() => first.output().includes('Take a screenshot:'), {
        timeoutMs: 60_000,
        what: 'the banner',
      });
      const banner = first.output();
      assert.match(banner, new RegExp(`Listening on: +http://127\\.0\\.0\\.1:${port}\\n`), banner);
      assert.match(banner, /user admin, password [\w-]{20,} \(generated now and shown this once/);
      assert.match(banner, /LIVE key: scp-live-[0-9a-f]{32}/);
      assert.doesNotMatch(banner, /^\{"level"/m, 'pretty logs, no JSON lines at SNAPWIRE_LOG_FORMAT=pretty');
      assert.doesNotMatch(banner, /printed above/);
      assert.ok(!fs.existsSync(leftover), 'the crashed run’s folder was removed at start');
      assert.equal(profileFolders(first.child.pid!).length, 1, 'one browser, one profile folder');
    } finally {
      assert.equal(await stop(first.child), 0);
    }
    assert.deepEqual(profileFolders(first.child.pid!), [], 'the profile folder is removed at shutdown');

    const second = startProcess({ ...env, SNAPWIRE_LOG_FORMAT: 'json' });
    try {
      await waitUntil(() => second.output().includes('Take a screenshot:'), {
        timeoutMs: 60_000,
        what: 'the banner',
      });
      const banner = second.output();
      assert.match(banner, /lost the password\? npx snapwire admin reset-password/);
      assert.doesNotMatch(banner, /LIVE key:/, 'keys are shown once');
      assert.match(
        banner,
        /^\{"level":30,.*"msg":"browser ready"/m,
        'JSON lines at SNAPWIRE_LOG_FORMAT=json',
      );
    } finally {
      assert.equal(await stop(second.child), 0);
    }
    assert.deepEqual(profileFolders(second.child.pid!), []);
  });
});
