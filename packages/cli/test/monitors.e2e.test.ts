import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startFixtureServer, type FixtureServer } from '../../server/test/helpers/fixture-server.js';
import { LIVE_KEY, startService, type TestService } from '../../server/test/helpers/service.js';

const run = promisify(execFile);
const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');

describe('snapwire monitors against a running service (through @snapwire/sdk)', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let price = '10';
  const cli = async (...args: string[]) =>
    run(process.execPath, [CLI, 'monitors', ...args], {
      env: { ...process.env, SNAPWIRE_HOST: service.baseUrl, SNAPWIRE_KEY: LIVE_KEY },
    });

  before(async () => {
    fixtures = await startFixtureServer({
      host: '127.0.0.2',
      routes: {
        '/price': (_req: http.IncomingMessage, res: http.ServerResponse) => {
          res
            .writeHead(200, { 'content-type': 'text/html' })
            .end(
              `<!doctype html><body style="margin:0;font:40px sans-serif"><p>Price ${price} EUR</p></body>`,
            );
        },
      },
    });
    service = await startService({ SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.2/32' });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  it('create, run, runs, approve, pause, resume, delete', async () => {
    const created = JSON.parse(
      (
        await cli(
          '--json',
          'create',
          `${fixtures.origin}/price`,
          '--every',
          '1h',
          '--text',
          '--require-approval',
          '--resolution',
          '640x480',
          '--hide',
          '.clock',
        )
      ).stdout,
    ) as { id: string; recurrence: unknown; hide_selectors: string[]; compare_text: boolean };
    assert.deepEqual(created.recurrence, { interval: 1, unit: 'hour' });
    assert.deepEqual(created.hide_selectors, ['.clock']);
    assert.equal(created.compare_text, true);

    assert.match((await cli('list')).stdout, new RegExp(`${created.id}\\s+ACTIVE`));
    assert.match((await cli('run', created.id)).stdout, /baseline/);
    price = '12';
    const changed = (await cli('run', created.id)).stdout;
    assert.match(changed, /CHANGED score .* words \+1 -1\s+approval pending/);
    const runId = changed.split(/\s+/)[0]!;
    assert.match((await cli('runs', created.id)).stdout, new RegExp(`^${runId}.*CHANGED`, 'm'));
    assert.match((await cli('approve', created.id, runId)).stdout, /^approved .*approval approved/);
    const refused = await cli('reject', created.id, runId).then(
      () => assert.fail('a decided run cannot be rejected'),
      (error: { stderr: string; code: number }) => error,
    );
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not waiting for approval/);
    assert.match((await cli('pause', created.id)).stdout, /PAUSED/);
    assert.match((await cli('resume', created.id)).stdout, /ACTIVE/);
    assert.match((await cli('delete', created.id)).stdout, /deleted/);
    assert.match((await cli('list')).stdout, /no monitors/);
  });
});
