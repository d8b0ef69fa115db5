import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadSettings, migrateToLatest, openStore, ProjectService, systemClock } from '@snapwire/server';
import { DashboardAuth } from '../../server/src/dashboard/auth.js';

const run = promisify(execFile);
// The committed launcher, as `npx snapwire` runs it.
const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'snapwire.js');

describe('snapwire projects (CLI on the embedded store)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-cli-'));
  const env = { ...process.env, SNAPWIRE_DATA_DIR: dataDir, SNAPWIRE_LOG_LEVEL: 'silent' };
  const cli = async (...args: string[]) => run(process.execPath, [CLI, ...args], { env, timeout: 30_000 });
  const cliFails = async (...args: string[]) => {
    try {
      await cli(...args);
    } catch (error) {
      return error as { code: number; stderr: string };
    }
    assert.fail(`snapwire ${args.join(' ')} should have failed`);
  };
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  /** What the service would see: authenticate a key against the same store. */
  async function whoIs(key: string) {
    const store = await openStore({ dataDir });
    try {
      await migrateToLatest(store);
      const caller = await new ProjectService(store.db, systemClock).authenticate(key);
      return caller ? `${caller.project.name}/${caller.env}` : undefined;
    } finally {
      await store.close();
    }
  }

  it('refuses a data folder without a store, creating nothing, unless --create-store', async () => {
    const failure = await cliFails('projects', 'list');
    assert.equal(failure.code, 1);
    assert.match(failure.stderr, new RegExp(`no Snapwire store at ${dataDir}/snapwire\\.db.*--create-store`));
    assert.doesNotMatch(failure.stderr, /at .*\.js:\d+/, 'no stack trace');
    assert.deepEqual(fs.readdirSync(dataDir), [], 'nothing was created');
  });

  it('creates a project and prints its keys once, as JSON with --json', async () => {
    const { stdout, stderr } = await cli(
      'projects',
      'create',
      'acme',
      '--plan',
      'discovery',
      '--json',
      '--create-store',
    );
    assert.match(stderr, /Created the "default" project/, 'the first command also makes the default project');
    assert.match(stderr, new RegExp(`^store: SQLite ${dataDir}/snapwire\\.db$`, 'm'), 'it says which store');
    const created = JSON.parse(stdout);
    assert.equal(created.name, 'acme');
    assert.equal(created.plan, 'DISCOVERY');
    assert.match(created.keys.LIVE, /^scp-live-[0-9a-f]{32}$/);
    assert.equal(await whoIs(created.keys.LIVE), 'acme/LIVE');
    assert.equal(await whoIs(created.keys.TEST), 'acme/TEST');

    const list = JSON.parse((await cli('projects', 'list', '--json')).stdout);
    assert.deepEqual(list.map((p: { name: string }) => p.name).sort(), ['acme', 'default']);
    assert.ok(!JSON.stringify(list).includes(created.keys.LIVE), 'list never shows a key');
    assert.equal(
      list.find((p: { name: string }) => p.name === 'acme').key_hints.LIVE,
      `…${created.keys.LIVE.slice(-4)}`,
    );
  });

  it('creates a project without --plan on the service default plan, the one the dashboard form offers', async () => {
    const created = JSON.parse((await cli('projects', 'create', 'newcomer', '--json')).stdout);
    assert.equal(created.plan, 'UNLIMITED');
    assert.equal(created.plan, loadSettings({ SNAPWIRE_DATA_DIR: dataDir }).defaultPlan);
    assert.ok(created.limits.webhookQueueLimit > 0, 'asynchronous screenshots are queued at once');
    assert.ok(created.limits.monthlyCredits >= 1_000_000_000, 'no quota to run out of');
    // The operator changes the one default, for this command and the dashboard alike.
    const chosen = await run(process.execPath, [CLI, 'projects', 'create', 'reseller', '--json'], {
      env: { ...env, SNAPWIRE_DEFAULT_PLAN: 'pro' },
      timeout: 30_000,
    });
    assert.equal(JSON.parse(chosen.stdout).plan, 'PRO');
    assert.match(
      (await cli('projects', 'create', '--help')).stdout,
      /default: the service's SNAPWIRE_DEFAULT_PLAN/,
    );
  });

  it('changes plan and limits, and returns a limit to the plan value', async () => {
    const changed = JSON.parse(
      (await cli('projects', 'set', 'acme', '--plan', 'PRO', '--limit', 'concurrency=3', '--json')).stdout,
    );
    assert.equal(changed.plan, 'PRO');
    assert.equal(changed.limits.concurrency, 3);
    const reset = JSON.parse(
      (await cli('projects', 'set', 'acme', '--limit', 'concurrency=default', '--json')).stdout,
    );
    assert.equal(reset.limits.concurrency, 20);
  });

  it('rotates a key: the new one works, the old one stops at once', async () => {
    const before = JSON.parse((await cli('projects', 'list', '--json')).stdout);
    assert.ok(before);
    const { stdout } = await cli('projects', 'rotate-key', 'acme', '--env', 'test', '--json');
    const rotated = JSON.parse(stdout);
    assert.equal(rotated.env, 'TEST');
    assert.equal(await whoIs(rotated.key), 'acme/TEST');
  });

  it('admin reset-password sets a new dashboard password, says it once, and signs out sessions', async () => {
    const { stdout, stderr } = await cli('admin', 'reset-password', '--json');
    assert.match(stderr, /^store: SQLite /m);
    const { password } = JSON.parse(stdout);
    assert.match(password, /^[\w-]{20,}$/);
    const chosen = await cli('admin', 'reset-password', '--password', 'a-chosen-password-123');
    assert.equal(
      chosen.stdout,
      'New dashboard password for user admin (shown this once): a-chosen-password-123\n',
    );
    const store = await openStore({ dataDir });
    try {
      const auth = new DashboardAuth(store.db, systemClock, 60_000);
      assert.equal(
        await auth.signIn('admin', password),
        undefined,
        'the first reset password no longer works',
      );
      assert.ok(await auth.signIn('admin', 'a-chosen-password-123'), 'the new password signs in');
    } finally {
      await store.close();
    }
    const short = await cliFails('admin', 'reset-password', '--password', 'short');
    assert.match(short.stderr, /at least 12 characters/);
  });

  it('explains mistakes with exit code 1 and no stack trace', async () => {
    for (const [args, message] of [
      [['projects', 'set', 'nope', '--plan', 'PRO'], /no project named "nope"/],
      [['projects', 'set', 'acme', '--limit', 'bogus=1'], /--limit takes NAME=NUMBER/],
      [['projects', 'create', 'acme'], /already exists/],
      [['projects', 'create', 'x', '--plan', 'GOLD'], /unknown plan "GOLD"/],
      [['projects', 'rotate-key', 'acme', '--env', 'staging'], /unknown environment/],
    ] as const) {
      const failure = await cliFails(...args);
      assert.equal(failure.code, 1);
      assert.match(failure.stderr, message);
      assert.doesNotMatch(failure.stderr, /at .*\.js:\d+/, 'no stack trace');
    }
  });
});
