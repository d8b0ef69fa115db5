import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errors, ScrapflyClient, ScreenshotConfig } from 'scrapfly-sdk';

const { BadApiKeyError, ScreenshotApiError } = errors;
import { decode, MAGIC } from '../helpers/images.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';

/** A program written for Scrapfly works against Snapwire by changing only the host. */
describe("Scrapfly's official TypeScript SDK against Snapwire", () => {
  let service: TestService;
  let fixtures: FixtureServer;

  before(async () => {
    fixtures = await startFixtureServer();
    service = await startService();
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  for (const format of ['jpg', 'png', 'webp', 'gif'] as const) {
    it(`client.screenshot returns a ${format} of the asked resolution`, async () => {
      const client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
      const result = await client.screenshot(
        new ScreenshotConfig({
          url: `${fixtures.origin}/solid`,
          format: format as never,
          resolution: '640x480',
          rendering_wait: 0,
        }),
      );
      const bytes = Buffer.from(result.image);
      assert.ok(MAGIC[format](bytes), `${format} magic bytes`);
      const image = await decode(bytes);
      assert.deepEqual([image.width, image.height], [640, 480]);
      assert.equal(
        result.metadata.extension_name,
        { jpg: 'jpeg', png: 'png', webp: 'webp', gif: 'gif' }[format],
      );
      assert.equal(result.metadata.upstream_status_code, 200);
      assert.equal(result.metadata.upstream_url, `${fixtures.origin}/solid`);
    });
  }

  it('passes the SDK-encoded js, capture and options through', async () => {
    const client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    const result = await client.screenshot(
      new ScreenshotConfig({
        url: `${fixtures.origin}/solid`,
        format: 'png' as never,
        capture: '#box',
        js: "document.getElementById('box').style.background = 'rgb(255, 0, 0)'",
        options: ['dark_mode' as never],
        rendering_wait: 0,
      }),
    );
    const image = await decode(Buffer.from(result.image));
    assert.deepEqual([image.width, image.height], [300, 150]);
    assert.deepEqual(image.pixel(150, 75), [255, 0, 0]);
  });

  it('raises BadApiKeyError for a wrong key', async () => {
    const client = new ScrapflyClient({ key: 'scp-live-wrong', host: service.baseUrl });
    await assert.rejects(
      client.screenshot(new ScreenshotConfig({ url: `${fixtures.origin}/solid` })),
      BadApiKeyError,
    );
  });

  it('raises ScreenshotApiError carrying our error code when the capture fails', async () => {
    const client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    await assert.rejects(
      client.screenshot(
        new ScreenshotConfig({ url: `${fixtures.origin}/solid`, capture: '#missing', rendering_wait: 0 }),
      ),
      (error: unknown) => {
        assert.ok(error instanceof ScreenshotApiError, `got ${(error as Error).constructor.name}`);
        assert.match((error as Error).message, /ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND/);
        return true;
      },
    );
  });

  it('reads account data', async () => {
    const client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    const account = await client.account();
    assert.equal(account.project.name, 'default');
    assert.equal(account.subscription.plan_name, 'UNLIMITED');
  });
});
