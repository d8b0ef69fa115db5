import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errors, ScheduleAPIError, ScrapflyClient, ScreenshotConfig } from 'scrapfly-sdk';

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

  // The SDK's message for an error answer is the body serialised as it arrived (client.ts
  // handleScreenshotResponse: `new ScreenshotApiError(JSON.stringify(jsonData))`), and it attaches nothing
  // else: the body's key order is what a user reads first (docs/compat.md §2, "What an SDK user sees").
  it('raises BadApiKeyError for a wrong key, its message opening with the code and the reason', async () => {
    const client = new ScrapflyClient({ key: 'scp-live-wrong', host: service.baseUrl });
    await assert.rejects(
      client.screenshot(new ScreenshotConfig({ url: `${fixtures.origin}/solid` })),
      (error: unknown) => {
        assert.ok(error instanceof BadApiKeyError, `got ${(error as Error).constructor.name}`);
        assert.match(
          (error as Error).message,
          /^\{"code":"ERR::API::UNAUTHORIZED","message":"Invalid API key","retryable":false,/,
        );
        return true;
      },
    );
  });

  it('raises ScreenshotApiError whose message opens with the code, then the reason; JSON.parse reads retryable', async () => {
    const client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    await assert.rejects(
      client.screenshot(
        new ScreenshotConfig({ url: `${fixtures.origin}/solid`, capture: '#missing', rendering_wait: 0 }),
      ),
      (error: unknown) => {
        assert.ok(error instanceof ScreenshotApiError, `got ${(error as Error).constructor.name}`);
        const { message } = error as Error;
        assert.match(
          message,
          /^\{"code":"ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND","message":"No element matched the selector #missing \(capture\)","retryable":false,"http_code":422,/,
        );
        const body = JSON.parse(message);
        assert.equal(body.reason, body.message);
        assert.match(body.links['Related Error Doc'], /\/docs\/errors#ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND$/);
        return true;
      },
    );
  });

  it('a timeout (504) is rendered three times and says only its status; with a one-attempt fetch, once, with the reason', async () => {
    const renders = () => fixtures.hits.get('/never-loads') ?? 0;
    const config = () => new ScreenshotConfig({ url: `${fixtures.origin}/never-loads`, timeout: 2000 });
    // The SDK's fetchRetry (utils.ts) sends a request again on every 5xx, three attempts in all, then
    // throws a plain Error: the answer's body, code and reason included, is read and dropped.
    const client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    const before = renders();
    await assert.rejects(client.screenshot(config()), (error: unknown) => {
      assert.ok(
        !(error instanceof errors.ScrapflyError),
        `not an SDK error class: ${(error as Error).message}`,
      );
      assert.equal((error as Error).message, 'Fetch failed with status: 504');
      return true;
    });
    assert.equal(renders() - before, 3, 'three renders of the page');

    // `client.fetch` is the SDK's documented hook: a plain fetch makes one attempt and lets the SDK read
    // the error body.
    const once = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    once.fetch = ({ url, ...init }) => fetch(url, init);
    const beforeOnce = renders();
    await assert.rejects(once.screenshot(config()), (error: unknown) => {
      assert.ok(error instanceof ScreenshotApiError, `got ${(error as Error).constructor.name}`);
      const body = JSON.parse((error as Error).message);
      assert.equal(body.code, 'ERR::SCRAPE::OPERATION_TIMEOUT');
      assert.match(body.message, /^The page did not finish loading within timeout=2000 ms/);
      assert.equal(body.retryable, true);
      return true;
    });
    assert.equal(renders() - beforeOnce, 1, 'one render');
  });

  it('schedule errors: ScheduleAPIError has the code, its message the code and the reason once', async () => {
    const client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    await assert.rejects(client.getSchedule('no-such-schedule'), (error: unknown) => {
      assert.ok(error instanceof ScheduleAPIError, `got ${(error as Error).constructor.name}`);
      assert.equal(error.code, 'ERR::SCHEDULER::NOT_FOUND');
      assert.equal(error.httpStatusCode, 404);
      assert.match(error.message, /^ERR::SCHEDULER::NOT_FOUND \(No schedule no-such-schedule .*\)$/);
      assert.equal(error.message.split('No schedule').length, 2, 'the reason once');
      return true;
    });
  });

  it('reads account data', async () => {
    const client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    const account = await client.account();
    assert.equal(account.project.name, 'default');
    assert.equal(account.subscription.plan_name, 'UNLIMITED');
  });
});
