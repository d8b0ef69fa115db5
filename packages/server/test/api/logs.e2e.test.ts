// GET /screenshot/logs and /screenshot/logs/{log_uuid}: a key reads its own project's logs, on SQLite
// and on PostgreSQL, and never another project's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { LIVE_KEY, TEST_KEY, screenshot, startService, type TestService } from '../helpers/service.js';

for (const postgres of [false, true]) {
  describe(`monitoring logs API (${postgres ? 'postgres' : 'sqlite'})`, () => {
    let service: TestService;
    let fixtures: FixtureServer;
    let okUuid: string;
    let failedUuid: string;

    before(async () => {
      fixtures = await startFixtureServer();
      service = await startService({}, {}, { postgres });
      const ok = await screenshot(service.baseUrl, {
        url: `http://fixtures.test:${fixtures.port}/solid`,
        rendering_wait: '0',
        resolution: '640x480',
      });
      assert.equal(ok.status, 200);
      okUuid = ok.headers.get('x-scrapfly-log-uuid')!;
      const failed = await screenshot(service.baseUrl, {
        url: `http://fixtures.test:${fixtures.port}/never-loads`,
        timeout: '2000',
      });
      assert.equal(failed.status, 504);
      failedUuid = failed.headers.get('x-scrapfly-log-uuid')!;
    });
    after(async () => {
      await service?.close();
      await fixtures?.close();
    });

    const get = async (path: string, key = LIVE_KEY) => {
      const response = await fetch(`${service.baseUrl}${path}${path.includes('?') ? '&' : '?'}key=${key}`);
      return { status: response.status, body: await response.json() };
    };

    it('lists the logs newest first, filtered by outcome', async () => {
      const all = await get('/screenshot/logs');
      assert.equal(all.status, 200);
      assert.deepEqual(
        all.body.logs.map((log: { log_uuid: string }) => log.log_uuid),
        [failedUuid, okUuid],
      );
      const failed = await get('/screenshot/logs?status=failed');
      assert.deepEqual(
        failed.body.logs.map((log: { log_uuid: string; error_code: string }) => [
          log.log_uuid,
          log.error_code,
        ]),
        [[failedUuid, 'ERR::SCRAPE::OPERATION_TIMEOUT']],
      );
      const limited = await get('/screenshot/logs?limit=1');
      assert.equal(limited.body.logs.length, 1);
      const bad = await get('/screenshot/logs?status=nope');
      assert.equal(bad.status, 400);
    });

    it('shows one log with its links', async () => {
      const { status, body } = await get(`/screenshot/logs/${okUuid}`);
      assert.equal(status, 200);
      assert.equal(body.status, 'success');
      assert.equal(body.upstream_status, 200);
      assert.equal(body.url, `http://fixtures.test:${fixtures.port}/solid`);
      assert.deepEqual([body.params.width, body.params.height], [640, 480], 'the normalised parameters');
      assert.match(body.screenshot_url, new RegExp(`/screenshot/result/${okUuid}$`));
      assert.match(body.log_url, new RegExp(`/dashboard/monitoring/log/${okUuid}$`));
      const failed = await get(`/screenshot/logs/${failedUuid}`);
      assert.equal(failed.body.status, 'failed');
      assert.equal(failed.body.screenshot_url, null);
    });

    it("never shows another project's logs, nor another environment's (issue 18.2: a TEST key read LIVE logs)", async () => {
      const { keys } = await service.snapwire.services.projects.create('other', 'PRO');
      const other = await get(`/screenshot/logs/${okUuid}`, keys.LIVE);
      assert.equal(other.status, 404);
      assert.equal(other.body.code, 'ERR::API::NOT_FOUND');
      assert.deepEqual((await get('/screenshot/logs', keys.LIVE)).body.logs, []);
      assert.deepEqual((await get('/screenshot/logs', TEST_KEY)).body.logs, [], 'TEST sees no LIVE logs');
      const liveByTest = await get(`/screenshot/logs/${okUuid}`, TEST_KEY);
      assert.equal(liveByTest.status, 404, 'a TEST key cannot read a LIVE log by its uuid');
      assert.equal(liveByTest.body.code, 'ERR::API::NOT_FOUND');
      const anonymous = await fetch(`${service.baseUrl}/screenshot/logs`);
      assert.equal(anonymous.status, 401);
    });
  });
}
