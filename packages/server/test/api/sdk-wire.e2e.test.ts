import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScrapflyClient, ScreenshotConfig } from 'scrapfly-sdk';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, screenshot, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';

/** What scrapfly-sdk 0.10.5 (Python) raises from an answer to `client.screenshot`, as far as a user sees it. */
interface PythonScreenshotError {
  className: 'ScreenshotAPIError' | 'ApiHttpServerError';
  /** `str(e)`, what a traceback or `print(e)` shows. */
  str: string;
  message: string;
  code: string;
  isRetryable: boolean;
  httpStatusCode: number;
  /** `e.api_response.error`: the body as a dict. */
  error: Record<string, unknown>;
}

/**
 * Reproduces what scrapfly-sdk 0.10.5 (Python) does with an answer to `client.screenshot`, from its source:
 * - client.py lines 1324-1345 (`_handle_screenshot_api_response`): the body is parsed as JSON when
 *   `ResponseBodyHandler.support` (api_response.py lines 116-123) finds `application/json` anywhere in the
 *   Content-Type; otherwise it is taken as the image and nothing is raised;
 * - api_response.py lines 671-689 (`ScreenshotApiResponse.error`, `_is_api_error`, `handle_api_result`): a
 *   body holding `error_id` is the error;
 * - api_response.py lines 272-313 (`ApiResponse.raise_for_result`): for a status of 400 to 599 (requests'
 *   `raise_for_status`) with `error_id` in the body it raises `ApiHttpServerError` (500 and up) or
 *   `ScreenshotAPIError`, with `message=body['message']`, `code=''` and `http_status_code` the status (500
 *   and up) or `body['http_code']`; `is_retryable` is left at its default, False (errors.py lines 28-50);
 * - errors.py lines 85-98 (`HttpError.__str__`) returns `api_response.error_message`, api_response.py lines
 *   238-261: `"<-- {status} | {error['code']} - {error['message']}."` plus `" Checkout the related doc:
 *   {first value of error['links']}"` when `links` is not empty. `error['code']`, `error['message']` and
 *   `error['links']` are read with `[]`: a body without them raises `KeyError` instead.
 */
async function pythonScreenshotError(response: Response): Promise<PythonScreenshotError | undefined> {
  if (!(response.headers.get('content-type') ?? '').includes('application/json')) return undefined;
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status < 400 || response.status >= 600 || !('error_id' in body)) return undefined;
  for (const key of ['code', 'message', 'links']) {
    if (!(key in body)) throw new Error(`the Python SDK raises KeyError: '${key}'`);
  }
  let text = `<-- ${response.status} | ${String(body.code)} - ${String(body.message)}.`;
  const links = body.links as Record<string, string> | string[] | null;
  const firstLinks = Array.isArray(links) ? links.join(', ') : Object.values(links ?? {})[0];
  if (firstLinks) text += ` Checkout the related doc: ${firstLinks}`;
  const server = response.status >= 500;
  return {
    className: server ? 'ApiHttpServerError' : 'ScreenshotAPIError',
    str: text,
    message: String(body.message),
    code: '',
    isRetryable: false,
    httpStatusCode: server ? response.status : Number(body.http_code),
    error: body,
  };
}

/**
 * The calls of the official SDKs that used to break (docs/compat.md): the TypeScript SDK is driven as is;
 * where only the Python SDK showed the problem, the test sends exactly what it sends.
 */
describe('official SDK calls on the wire', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let receiver: Receiver;

  before(async () => {
    fixtures = await startFixtureServer({ host: '127.0.0.2' });
    receiver = await startReceiver('127.0.0.2');
    service = await startService({ SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.2/32', SNAPWIRE_QUEUE_POLL: '50ms' });
    const created = await fetch(`${service.baseUrl}/webhooks?key=${LIVE_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'async', url: receiver.url }),
    });
    assert.equal(created.status, 201);
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
    await fixtures?.close();
  });

  it('TypeScript SDK: an asynchronous screenshot returns the 201 promise as a result', async () => {
    const client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    const result = await client.screenshot(
      new ScreenshotConfig({ url: `${fixtures.origin}/solid`, rendering_wait: 0, webhook: 'async' }),
    );
    assert.equal(result.metadata.extension_name, 'json');
    const promise = JSON.parse(Buffer.from(result.image).toString('utf8'));
    assert.equal(promise.webhook_enqueued, true);
    assert.equal(promise.webhook_name, 'async');
    const delivered = await waitUntil(
      () => receiver.received.find((r) => r.headers['x-scrapfly-webhook-job-id'] === promise.job_uuid),
      { timeoutMs: 30_000, what: 'the delivery of the promised job' },
    );
    assert.equal(delivered.headers['content-type'], 'image/jpeg');
  });

  it('the 201 promise is application/json with a charset; errors stay exactly application/json', async () => {
    const accepted = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      webhook_name: 'async',
    });
    assert.equal(accepted.status, 201);
    assert.equal(accepted.headers.get('content-type'), 'application/json; charset=utf-8');
    const refused = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      webhook_name: 'nope',
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get('content-type'), 'application/json');
  });

  it('Python SDK: a bad key answers 401 with code and links besides the documented fields', async () => {
    const response = await fetch(
      `${service.baseUrl}/screenshot?key=scp-live-wrong&url=${encodeURIComponent('https://example.com')}`,
    );
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('content-type'), 'application/json');
    const body = await response.json();
    assert.equal(body.status, 'error');
    assert.equal(body.http_code, 401);
    assert.equal(body.reason, 'Unauthorized');
    assert.equal(body.message, 'Invalid API key');
    assert.ok(body.error_id);
    assert.equal(body.code, 'ERR::API::UNAUTHORIZED');
    assert.equal(typeof body.links['Related Error Doc'], 'string');
  });

  it('every error body has code and links (unknown route, bad parameter, missing key, bad body)', async () => {
    const responses = [
      await fetch(`${service.baseUrl}/no/such/route?key=${LIVE_KEY}`),
      await screenshot(service.baseUrl, { url: `${fixtures.origin}/solid`, format: 'tiff' }),
      await fetch(`${service.baseUrl}/account`),
      await fetch(`${service.baseUrl}/webhooks?key=${LIVE_KEY}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"name": 1}',
      }),
    ];
    for (const response of responses) {
      const body = await response.json();
      assert.ok(response.status >= 400, `${response.url} failed`);
      assert.match(body.code, /^ERR::/, `${response.url} has code`);
      assert.equal(typeof body.links, 'object', `${response.url} has links`);
    }
  });

  it("Python SDK: the exception's message and str() carry the reason; code and retryability are in e.api_response.error", async () => {
    const doc = (code: string) => `${service.snapwire.services.settings.publicUrl}/docs/errors#${code}`;
    const cases = [
      {
        answer: await screenshot(service.baseUrl, {
          url: `${fixtures.origin}/solid`,
          capture: '#missing',
          rendering_wait: '0',
        }),
        status: 422,
        code: 'ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND',
        reason: 'No element matched the selector #missing (capture)',
        retryable: false,
      },
      {
        answer: await screenshot(service.baseUrl, { url: `${fixtures.origin}/solid`, format: 'tiff' }),
        status: 400,
        code: 'ERR::SCRAPE::CONFIG_ERROR',
        reason: /^The format parameter "tiff" is not supported/,
        retryable: false,
      },
      {
        answer: await screenshot(service.baseUrl, { url: `${fixtures.origin}/solid`, webhook_name: 'nope' }),
        status: 400,
        code: 'ERR::WEBHOOK::NOT_FOUND',
        reason: /nope/,
        retryable: false,
      },
      {
        answer: await screenshot(service.baseUrl, {
          url: `${fixtures.origin}/never-loads`,
          timeout: '1000',
          rendering_wait: '0',
        }),
        status: 504,
        code: 'ERR::SCRAPE::OPERATION_TIMEOUT',
        reason: /^The page did not finish loading within timeout=1000 ms/,
        retryable: true,
      },
      {
        answer: await screenshot(service.baseUrl, { url: `${fixtures.origin}/solid`, key: 'scp-live-wrong' }),
        status: 401,
        code: 'ERR::API::UNAUTHORIZED',
        reason: 'Invalid API key',
        retryable: false,
      },
    ];
    for (const { answer, status, code, reason, retryable } of cases) {
      assert.equal(answer.status, status, code);
      const rejectRetryable = answer.headers.get('x-scrapfly-reject-retryable');
      const raised = await pythonScreenshotError(answer);
      assert.ok(raised, `${code} raises`);
      assert.equal(raised.className, status >= 500 ? 'ApiHttpServerError' : 'ScreenshotAPIError');
      if (typeof reason === 'string') assert.equal(raised.message, reason, code);
      else assert.match(raised.message, reason, code);
      assert.equal(
        raised.str,
        `<-- ${status} | ${code} - ${raised.message}. Checkout the related doc: ${doc(code)}`,
      );
      // What the SDK leaves out, and where a user finds it.
      assert.deepEqual([raised.code, raised.isRetryable, raised.httpStatusCode], ['', false, status]);
      assert.equal(raised.error.code, code);
      assert.equal(raised.error.retryable, retryable, code);
      if (status !== 401) assert.equal(rejectRetryable, String(retryable), code);
    }
  });

  it('Python SDK: booleans written True/False are accepted on every route', async () => {
    // Exactly what the Python SDK's get_monitoring_target_metrics sends.
    const target = await fetch(
      `${service.baseUrl}/screenshot/monitoring/metrics/target?key=${LIVE_KEY}&domain=example.com&group_subdomain=False&period=last24h`,
    );
    assert.equal(target.status, 200, await target.clone().text());
    const metrics = await fetch(
      `${service.baseUrl}/screenshot/monitoring/metrics?key=${LIVE_KEY}&include_webhook=TRUE`,
    );
    assert.equal(metrics.status, 200);
    const reveal = await fetch(`${service.baseUrl}/webhooks/async?key=${LIVE_KEY}&reveal_secret=True`);
    assert.equal(reveal.status, 200);
    assert.ok((await reveal.json()).secret, 'reveal_secret=True reveals');
    const shot = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      auto_scroll: 'False',
      cache: 'True',
      cache_clear: 'FALSE',
      rendering_wait: '0',
      resolution: '320x240',
    });
    assert.equal(shot.status, 200, await shot.clone().text());
    const wrong = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      auto_scroll: 'yes please',
    });
    assert.equal(wrong.status, 400);
    assert.match((await wrong.json()).reason, /auto_scroll.*true or false/);
  });

  it('account: billing objects, the period end, and concurrency headers that agree with max_concurrency', async () => {
    const client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    const account = await client.account();
    const { billing, period } = account.subscription;
    for (const price of [
      billing.current_extra_scrape_request_price,
      billing.extra_scrape_request_price_per_10k,
      billing.ongoing_payment,
      billing.plan_price,
    ]) {
      assert.deepEqual(price, { amount: 0, currency: 'USD' });
    }
    assert.ok(Date.parse(period.start) < Date.now() && Date.now() < Date.parse(period.end));
    assert.equal(new Date(Date.parse(period.end) + 1).getUTCDate(), 1, 'the period ends with the month');
    const shot = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      rendering_wait: '0',
      resolution: '320x240',
    });
    assert.equal(shot.status, 200);
    const usage = Number(shot.headers.get('x-scrapfly-account-concurrent-usage'));
    const remaining = Number(shot.headers.get('x-scrapfly-account-remaining-concurrent-usage'));
    assert.equal(usage + remaining, account.subscription.max_concurrency);
    assert.equal(account.subscription.usage.scrape.concurrent_limit, account.subscription.max_concurrency);
  });
  it('the account and project concurrency headers of one answer agree: both count the capture answering', async () => {
    const shot = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      rendering_wait: '0',
      resolution: '320x240',
    });
    assert.equal(shot.status, 200);
    const header = (name: string) => shot.headers.get(`x-scrapfly-${name}`);
    // Nothing else runs: the capture that answers holds the project's one slot in use.
    assert.equal(header('project-concurrent-usage'), '1');
    assert.equal(header('account-concurrent-usage'), header('project-concurrent-usage'));
    assert.equal(header('account-remaining-concurrent-usage'), header('project-remaining-concurrent-usage'));
  });

  it('a Scrapfly route Snapwire does not serve answers 404 NOT_SERVED naming the product and what Snapwire serves', async () => {
    for (const [method, path, product] of [
      ['POST', '/scrape/batch', 'Web Scraping API'],
      ['GET', '/extraction/monitoring/metrics', 'Extraction API'],
      ['GET', '/crawl/monitoring/metrics', 'Crawler API'],
      ['GET', '/scrape/monitoring/metrics', 'Web Scraping API'],
      ['POST', '/classify', 'Classify API'],
      ['GET', '/unblock', 'Cloud Browser API'],
      ['GET', '/browser/monitoring/metrics', 'Cloud Browser API'],
    ] as const) {
      const response = await fetch(`${service.baseUrl}${path}?key=${LIVE_KEY}`, { method });
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.equal(response.headers.get('content-type'), 'application/json');
      assert.equal(response.headers.get('x-scrapfly-reject-code'), 'ERR::API::NOT_SERVED');
      const body = await response.json();
      assert.equal(body.code, 'ERR::API::NOT_SERVED');
      assert.equal(body.retryable, false);
      assert.match(body.links['Related Error Doc'], /\/docs\/errors#ERR::API::NOT_SERVED$/);
      assert.match(body.reason, new RegExp(`Scrapfly's ${product}, which Snapwire does not serve`));
      assert.match(body.reason, /Snapwire serves Scrapfly's Screenshot API \(\/screenshot/);
      assert.match(
        body.reason,
        /the Web Scraping API's \/scrape and \/scrape\/schedules, the Crawler API's \/crawl and the Extraction API's POST \/extraction/,
      );
      assert.match(body.reason, /README\.md#what-snapwire-does-not-do/);
    }
    // Any other unknown path says what Snapwire serves too.
    const unknown = await fetch(`${service.baseUrl}/screenshots?key=${LIVE_KEY}`);
    assert.equal(unknown.status, 404);
    const body = await unknown.json();
    assert.equal(body.code, 'ERR::API::NOT_FOUND');
    assert.match(body.reason, /No route GET \/screenshots\. Snapwire serves Scrapfly's Screenshot API/);
    // /scrape itself is served now: a key is asked for, not a 404.
    assert.equal((await fetch(`${service.baseUrl}/scrape?url=x`)).status, 401);
    // So is /crawl.
    assert.equal((await fetch(`${service.baseUrl}/crawl/some-uuid/status`)).status, 401);
    assert.equal(body.error, undefined, 'error is added on the schedule routes only');
  });
});
