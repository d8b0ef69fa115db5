import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startFixtureServer, type FixtureServer } from '../../server/test/helpers/fixture-server.js';
import { startReceiver, type Receiver } from '../../server/test/helpers/receiver.js';
import { LIVE_KEY, startService, type TestService } from '../../server/test/helpers/service.js';
import { waitUntil } from '../../server/test/helpers/wait-until.js';

const run = promisify(execFile);
const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');

describe('snapwire schedules against a running service', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let receiver: Receiver;
  const cli = async (...args: string[]) =>
    run(process.execPath, [CLI, 'schedules', ...args], {
      env: { ...process.env, SNAPWIRE_HOST: service.baseUrl, SNAPWIRE_KEY: LIVE_KEY },
    });

  before(async () => {
    fixtures = await startFixtureServer({ host: '127.0.0.2' });
    receiver = await startReceiver('127.0.0.2');
    service = await startService({
      SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.2/32',
      SNAPWIRE_QUEUE_POLL: '50ms',
      SNAPWIRE_SCHEDULER_POLL: '50ms',
    });
    const created = await fetch(`${service.baseUrl}/webhooks?key=${LIVE_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'shots', url: receiver.url }),
    });
    assert.equal(created.status, 201);
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
    await fixtures?.close();
  });

  it('create, list, run, runs, pause, resume, cancel', async () => {
    const created = await cli(
      '--json',
      'create',
      `${fixtures.origin}/solid`,
      '--webhook',
      'shots',
      '--every',
      '1h',
      '--format',
      'png',
      '--resolution',
      '320x240',
    );
    const schedule = JSON.parse(created.stdout);
    assert.equal(schedule.status, 'ACTIVE');
    assert.deepEqual(schedule.recurrence, { interval: 1, unit: 'hour' });

    const listed = await cli('list');
    assert.match(listed.stdout, new RegExp(`${schedule.id}\\s+ACTIVE.*every 1 hour.*-> shots`));

    const ran = await cli('run', schedule.id);
    assert.match(ran.stdout, /run queued/);
    await waitUntil(
      () => receiver.received.some((r) => r.headers['x-scrapfly-webhook-resource-type'] === 'screenshot'),
      { timeoutMs: 30_000, what: 'the screenshot delivery' },
    );
    const runs = await waitUntil(
      async () => {
        const { stdout } = await cli('runs', schedule.id);
        return /succeeded\s+manual #1/.test(stdout) ? stdout : undefined;
      },
      { timeoutMs: 10_000, what: 'the run succeeded' },
    );
    assert.match(runs, /dashboard\/monitoring\/log\//);

    assert.match((await cli('pause', schedule.id)).stdout, /paused .*PAUSED/);
    assert.match((await cli('resume', schedule.id)).stdout, /resumed .*ACTIVE/);
    assert.match((await cli('cancel', schedule.id)).stdout, /cancelled/);
    assert.match((await cli('list', '--status', 'cancelled')).stdout, /CANCELLED/);
  });

  it('explains refusals', async () => {
    await assert.rejects(
      cli('create', `${fixtures.origin}/solid`, '--webhook', 'nope', '--every', '1h'),
      (error: { stderr: string }) => {
        assert.match(error.stderr, /ERR::WEBHOOK::NOT_FOUND: No webhook named "nope"/);
        return true;
      },
    );
    await assert.rejects(
      cli('create', 'https://example.com', '--webhook', 'shots', '--every', 'often'),
      (error: { stderr: string }) => {
        assert.match(error.stderr, /--every takes a number and a unit/);
        return true;
      },
    );
    await assert.rejects(cli('pause', 'no-such-id'), (error: { stderr: string }) => {
      assert.match(error.stderr, /ERR::SCHEDULER::NOT_FOUND/);
      return true;
    });
  });
});
