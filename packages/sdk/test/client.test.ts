// SnapwireClient against a loopback node:http server that answers the way the Snapwire API does.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ScreenshotConfig } from 'scrapfly-sdk';
import {
  BadApiKeyError,
  SnapwireApiError,
  SnapwireClient,
  SnapwireError,
  buildScreenshotQuery,
  type ScreenshotResult,
} from '../src/index.js';
import { PNG_1X1, send, startServer, type Loopback } from './helpers.js';

const KEY = 'scp-live-test-key';
type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

// One server; each test installs the handler it needs and reads the requests it received.
let api: Loopback;
let handler: Handler = (_req, res) => send(res, 500, {}, 'no handler');
let requests: URL[] = [];

before(async () => {
  api = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(url);
    if (url.searchParams.get('key') !== KEY) {
      send(
        res,
        401,
        { 'content-type': 'application/json' },
        JSON.stringify({
          status: 'error',
          http_code: 401,
          reason: 'Unauthorized',
          error_id: '0f2c1d9e-aaaa-bbbb-cccc-000000000401',
          message: 'Invalid API key',
        }),
      );
      return;
    }
    handler(req, res, url);
  });
});
after(() => api.close());

function use(next: Handler): void {
  handler = next;
  requests = [];
}

const client = (options: Partial<ConstructorParameters<typeof SnapwireClient>[0]> = {}) =>
  new SnapwireClient({ host: api.url, key: KEY, ...options });

function scrapflyError(
  res: ServerResponse,
  body: Record<string, unknown>,
  extra: Record<string, string> = {},
) {
  const status = body.http_code as number;
  send(
    res,
    status,
    {
      'content-type': 'application/json',
      'x-scrapfly-reject-code': String(body.code),
      'x-scrapfly-reject-description': String(body.message),
      'x-scrapfly-reject-doc': (body.links as Record<string, string>)['Related Error Doc']!,
      'x-scrapfly-reject-http-code': String(status),
      'x-scrapfly-reject-retryable': String(body.retryable),
      'x-scrapfly-reject-id': String(body.error_id),
      ...extra,
    },
    JSON.stringify(body),
  );
}

const throttled = {
  code: 'ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED',
  error_id: '01J0000000000000000000THRO',
  http_code: 429,
  links: {
    'Related Error Doc': 'https://snapwire.local/docs/errors/ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED',
  },
  message: 'Too many concurrent requests',
  reason: 'Concurrency limit reached',
  retryable: true,
};

describe('SnapwireClient.screenshot', () => {
  it('sends Scrapfly query parameters and returns the image with its metadata', async () => {
    use((_req, res) =>
      send(
        res,
        200,
        {
          'content-type': 'image/png',
          'x-scrapfly-upstream-http-code': '200',
          'x-scrapfly-upstream-url': 'https://example.com/final',
          'x-scrapfly-screenshot-url': 'http://127.0.0.1/screenshot/abc.png',
          'x-scrapfly-api-cost': '60',
          'x-scrapfly-remaining-api-credit': '940',
          'x-scrapfly-log-uuid': '01J00000000000000000000LOG',
        },
        PNG_1X1,
      ),
    );
    const result = (await client().screenshot({
      url: 'https://example.com/?a=1&b=2',
      format: 'png',
      capture: '//div/img[1]',
      resolution: '1280x720',
      country: 'us,ca',
      timeout: 60000,
      rendering_wait: 500,
      wait_for_selector: '#ready',
      options: ['dark_mode', 'block_banners'],
      auto_scroll: true,
      js: 'document.body.style.background = "red"; // ✓',
      cache: true,
      cache_ttl: 3600,
      cache_clear: false,
      vision_deficiency: 'deuteranopia',
    })) satisfies ScreenshotResult;
    assert.deepEqual(result.image, PNG_1X1);
    assert.equal(result.contentType, 'image/png');
    assert.equal(result.extension, 'png');
    assert.equal(result.upstreamStatus, 200);
    assert.equal(result.upstreamUrl, 'https://example.com/final');
    assert.equal(result.cost, 60);
    assert.equal(result.remainingCredit, 940);
    assert.equal(result.logUuid, '01J00000000000000000000LOG');
    assert.equal(result.screenshotUrl, 'http://127.0.0.1/screenshot/abc.png');
    assert.equal(result.headers['x-scrapfly-api-cost'], '60');

    assert.equal(requests.length, 1);
    const q = requests[0]!;
    assert.equal(q.pathname, '/screenshot');
    assert.equal(q.searchParams.get('key'), KEY);
    assert.equal(q.searchParams.get('url'), 'https://example.com/?a=1&b=2');
    assert.equal(q.searchParams.get('format'), 'png');
    assert.equal(q.searchParams.get('capture'), '//div/img[1]');
    assert.equal(q.searchParams.get('options'), 'dark_mode,block_banners');
    assert.equal(q.searchParams.get('auto_scroll'), 'true');
    assert.equal(q.searchParams.get('cache'), 'true');
    assert.equal(q.searchParams.get('cache_ttl'), '3600');
    assert.equal(q.searchParams.get('cache_clear'), 'false');
    assert.equal(q.searchParams.get('timeout'), '60000');
    const js = q.searchParams.get('js')!;
    assert.match(js, /^[A-Za-z0-9_-]+$/, 'base64url without padding');
    assert.equal(
      Buffer.from(js, 'base64url').toString('utf8'),
      'document.body.style.background = "red"; // ✓',
    );
    assert.equal(q.searchParams.get('vision_deficiency'), 'deuteranopia');
    assert.equal(q.searchParams.has('webhook_name'), false);
  });

  it('encodes parameters as the official scrapfly-sdk ScreenshotConfig does', () => {
    const options = {
      url: 'https://example.com/page?x=1',
      format: 'webp',
      capture: 'fullpage',
      resolution: '390x844',
      country: 'gb',
      timeout: 90000,
      rendering_wait: 2000,
      wait_for_selector: '.loaded',
      options: ['load_images', 'print_media_format'],
      auto_scroll: true,
      js: 'return [1,2,3].map(x => x * 2) /* ü */',
      cache: true,
      cache_ttl: 60,
      cache_clear: true,
      vision_deficiency: 'blurredVision',
    } as const;
    const theirs = new ScreenshotConfig({
      ...options,
      options: [...options.options],
      webhook: 'hook-1',
    } as never).toApiParams({ key: KEY }) as Record<string, unknown>;
    delete theirs.key;
    const ours = Object.fromEntries(buildScreenshotQuery({ ...options, webhook_name: 'hook-1' }).entries());
    assert.deepEqual(ours, Object.fromEntries(Object.entries(theirs).map(([k, v]) => [k, String(v)])));
  });

  it("encodes Snapwire's extensions: headers[NAME], repeated cookies, comma lists, geolocation", () => {
    const query = buildScreenshotQuery({
      url: 'https://example.com',
      format: 'pdf',
      headers: { authorization: 'Bearer x', 'x-tenant': 'acme' },
      cookies: ['a=1; Path=/', 'b=2'],
      device_scale_factor: 2,
      viewport_device: 'iPhone 15',
      hide_selectors: ['#chat', '.cookie-wall'],
      pdf_paper: 'letter',
      pdf_landscape: true,
      pdf_print_background: false,
      geolocation: { latitude: 48.85, longitude: 2.29 },
    });
    assert.equal(query.get('headers[authorization]'), 'Bearer x');
    assert.equal(query.get('headers[x-tenant]'), 'acme');
    assert.deepEqual(query.getAll('cookies'), ['a=1; Path=/', 'b=2']);
    assert.equal(query.get('device_scale_factor'), '2');
    assert.equal(query.get('viewport_device'), 'iPhone 15');
    assert.equal(query.get('hide_selectors'), '#chat,.cookie-wall');
    assert.equal(query.get('pdf_landscape'), 'true');
    assert.equal(query.get('pdf_print_background'), 'false');
    assert.equal(query.get('geolocation'), '48.85,2.29');
  });

  it('leaves unset parameters out and sends false booleans as "false"', async () => {
    use((_req, res) => send(res, 200, { 'content-type': 'image/jpeg' }, PNG_1X1));
    const result = await client().screenshot({ url: 'https://example.com', auto_scroll: false });
    assert.equal(result.extension, 'jpeg');
    assert.deepEqual([...requests[0]!.searchParams.keys()].sort(), ['auto_scroll', 'key', 'url']);
    assert.equal(requests[0]!.searchParams.get('auto_scroll'), 'false');
    await assert.rejects(() => client().screenshot({ url: '' }), TypeError);
  });

  it('returns the 201 promise JSON for webhook_name', async () => {
    const promise = {
      job_uuid: 'a0e6f3e8-be35-438a-942a-be77aa545d30',
      log_uuid: 'a0e6f3e8-be35-438a-942a-be77aa545d30',
      log_url: 'http://127.0.0.1/scrape/log/a0e6f3e8',
      success: true,
      webhook_enqueued: true,
      webhook_name: 'my-webhook',
      webhook_queue_limit: 10000,
      webhook_queued_element: 1,
      webhook_uuid: 'cdf37252-fea7-4267-a568-aa0e5964ee21',
    };
    use((_req, res) =>
      send(
        res,
        201,
        { 'content-type': 'application/json', 'x-scrapfly-log-uuid': promise.log_uuid },
        JSON.stringify(promise),
      ),
    );
    const result = await client().screenshot({ url: 'https://example.com', webhook_name: 'my-webhook' });
    assert.deepEqual(result, promise);
    assert.equal(result.job_uuid, promise.job_uuid);
    assert.equal(requests[0]!.searchParams.get('webhook_name'), 'my-webhook');
  });

  it('turns a Scrapfly error envelope into a SnapwireApiError with every field', async () => {
    use((_req, res) =>
      scrapflyError(res, {
        code: 'ERR::SCREENSHOT::INVALID_CONTENT_TYPE',
        error_id: '01J0000000000000000000ERR1',
        http_code: 422,
        links: {
          'Related Error Doc': 'https://snapwire.local/docs/errors/ERR::SCREENSHOT::INVALID_CONTENT_TYPE',
        },
        message: 'Only text/* documents can be captured',
        reason: 'Invalid content type',
        retryable: false,
      }),
    );
    const error = await client()
      .screenshot({ url: 'https://example.com/file.pdf' })
      .then(
        () => assert.fail('expected an error'),
        (e: unknown) => e,
      );
    assert.ok(error instanceof SnapwireApiError);
    assert.ok(!(error instanceof BadApiKeyError));
    assert.ok(error instanceof SnapwireError);
    assert.equal(error.code, 'ERR::SCREENSHOT::INVALID_CONTENT_TYPE');
    assert.equal(error.httpStatus, 422);
    assert.equal(error.retryable, false);
    assert.equal(error.reason, 'Invalid content type');
    assert.equal(error.errorId, '01J0000000000000000000ERR1');
    assert.equal(error.docUrl, 'https://snapwire.local/docs/errors/ERR::SCREENSHOT::INVALID_CONTENT_TYPE');
    assert.equal(error.retryAfterSeconds, undefined);
    assert.match(error.message, /INVALID_CONTENT_TYPE: Only text/);
  });

  it('reads Retry-After and retryable from a throttling error', async () => {
    use((_req, res) => scrapflyError(res, throttled, { 'retry-after': '7' }));
    const error = await client({ retry: false })
      .screenshot({ url: 'https://example.com' })
      .then(
        () => assert.fail('expected an error'),
        (e: unknown) => e,
      );
    assert.ok(error instanceof SnapwireApiError);
    assert.equal(error.retryable, true);
    assert.equal(error.retryAfterSeconds, 7);
    assert.equal(error.httpStatus, 429);
    assert.equal(requests.length, 1, 'retry: false sends once');
  });

  it('raises BadApiKeyError on 401', async () => {
    const bad = new SnapwireClient({ host: api.url, key: 'scp-live-wrong' });
    const error = await bad.screenshot({ url: 'https://example.com' }).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof BadApiKeyError);
    assert.ok(error instanceof SnapwireApiError);
    assert.equal(error.httpStatus, 401);
    assert.equal(error.retryable, false);
    assert.equal(error.reason, 'Unauthorized');
    assert.equal(error.errorId, '0f2c1d9e-aaaa-bbbb-cccc-000000000401');
    await assert.rejects(() => bad.account(), BadApiKeyError);
  });

  it('treats a 200 JSON body holding error_id as an error, with the envelope http_code', async () => {
    use((_req, res) =>
      send(
        res,
        200,
        { 'content-type': 'application/json' },
        JSON.stringify({ ...throttled, http_code: 429 }),
      ),
    );
    const error = await client({ retry: false })
      .screenshot({ url: 'https://example.com' })
      .then(
        () => assert.fail('expected an error'),
        (e: unknown) => e,
      );
    assert.ok(error instanceof SnapwireApiError);
    assert.equal(error.httpStatus, 429);
    assert.equal(error.code, throttled.code);
  });

  it('turns a non-JSON error status into a SnapwireApiError', async () => {
    use((_req, res) => send(res, 503, { 'content-type': 'text/html' }, '<h1>503 Service Unavailable</h1>'));
    const error = await client({ retry: false })
      .screenshot({ url: 'https://example.com' })
      .then(
        () => assert.fail('expected an error'),
        (e: unknown) => e,
      );
    assert.ok(error instanceof SnapwireApiError);
    assert.equal(error.code, 'HTTP_503');
    assert.equal(error.httpStatus, 503);
    assert.equal(error.retryable, true);
  });
});

describe('SnapwireClient retry', () => {
  it('retries a retryable error after Retry-After, then succeeds', async () => {
    let calls = 0;
    use((_req, res) => {
      calls++;
      if (calls === 1) scrapflyError(res, throttled, { 'retry-after': '1' });
      else send(res, 200, { 'content-type': 'image/png' }, PNG_1X1);
    });
    const waits: number[] = [];
    const started = Date.now();
    const result = await client({
      retry: { retries: 2, onRetry: ({ delayMs }) => waits.push(delayMs) },
    }).screenshot({
      url: 'https://example.com',
    });
    assert.deepEqual(result.image, PNG_1X1);
    assert.equal(calls, 2);
    assert.deepEqual(waits, [1000]);
    assert.ok(Date.now() - started >= 950, 'waited for Retry-After');
  });

  it('stops after the bounded number of retries', async () => {
    use((_req, res) => scrapflyError(res, throttled, { 'retry-after': '0' }));
    await assert.rejects(
      () => client({ retry: { retries: 2, baseDelayMs: 5 } }).screenshot({ url: 'https://example.com' }),
      SnapwireApiError,
    );
    assert.equal(requests.length, 3);
  });

  it('backs off exponentially without Retry-After', async () => {
    use((_req, res) => scrapflyError(res, throttled));
    const waits: number[] = [];
    await assert.rejects(() =>
      client({
        retry: { retries: 3, baseDelayMs: 5, onRetry: ({ delayMs }) => waits.push(delayMs) },
      }).screenshot({
        url: 'https://example.com',
      }),
    );
    assert.deepEqual(waits, [5, 10, 20]);
    assert.equal(requests.length, 4);
  });

  it('retries 3 times by default, waiting at least Retry-After and backing off beyond it', async () => {
    use((_req, res) => scrapflyError(res, throttled, { 'retry-after': '0' }));
    const waits: number[] = [];
    await assert.rejects(
      () =>
        new SnapwireClient({
          host: api.url,
          key: KEY,
          retry: { retries: 3, baseDelayMs: 5, onRetry: ({ delayMs }) => waits.push(delayMs) },
        }).screenshot({ url: 'https://example.com' }),
      SnapwireApiError,
    );
    assert.deepEqual(waits, [5, 10, 20], 'Retry-After 0 is a floor; the backoff still doubles');
    use((_req, res) => scrapflyError(res, throttled, { 'retry-after': '0' }));
    const started = Date.now();
    await assert.rejects(() => client().account(), SnapwireApiError);
    assert.equal(requests.length, 4, 'the default is three retries');
    assert.ok(Date.now() - started >= 1000 + 2000 + 4000 - 100, 'waited 1 s, 2 s, 4 s');
  });

  it('retries only what retryOn accepts', async () => {
    use((_req, res) =>
      scrapflyError(res, {
        ...throttled,
        code: 'ERR::SCRAPE::NETWORK_ERROR',
        http_code: 422,
        retryable: true,
      }),
    );
    await assert.rejects(
      () =>
        client({ retry: { retries: 3, baseDelayMs: 5, retryOn: (e) => e.httpStatus === 429 } }).screenshot({
          url: 'https://example.com',
        }),
      (e: unknown) => e instanceof SnapwireApiError && e.code === 'ERR::SCRAPE::NETWORK_ERROR',
    );
    assert.equal(requests.length, 1);
  });

  it('does not retry a non-retryable error, nor wait longer than maxDelayMs', async () => {
    use((_req, res) =>
      scrapflyError(res, { ...throttled, code: 'ERR::SCRAPE::QUOTA_LIMIT_REACHED', retryable: false }),
    );
    await assert.rejects(
      () => client({ retry: 3 }).screenshot({ url: 'https://example.com' }),
      SnapwireApiError,
    );
    assert.equal(requests.length, 1);

    use((_req, res) => scrapflyError(res, throttled, { 'retry-after': '3600' }));
    await assert.rejects(
      () => client({ retry: { retries: 3, maxDelayMs: 1000 } }).screenshot({ url: 'https://example.com' }),
      (e: unknown) => e instanceof SnapwireApiError && e.retryAfterSeconds === 3600,
    );
    assert.equal(requests.length, 1);
  });
});

describe('SnapwireClient AbortSignal', () => {
  it("aborts a call in flight with the signal's reason", async () => {
    use(() => {
      /* never answers */
    });
    const controller = new AbortController();
    const call = client().screenshot({ url: 'https://example.com' }, { signal: controller.signal });
    controller.abort();
    await assert.rejects(call, (e: unknown) => (e as Error).name === 'AbortError');
  });

  it('ends a wait between retries at once', async () => {
    use((_req, res) => scrapflyError(res, throttled, { 'retry-after': '30' }));
    const controller = new AbortController();
    const started = Date.now();
    const call = client({
      retry: { retries: 3, onRetry: () => controller.abort(new Error('stop now')) },
    }).account({
      signal: controller.signal,
    });
    await assert.rejects(call, /stop now/);
    assert.ok(Date.now() - started < 5000, 'did not wait the 30 s');
    assert.equal(requests.filter((url) => url.pathname === '/account').length, 1);
  });

  it('refuses to start with an aborted signal', async () => {
    use((_req, res) => send(res, 200, { 'content-type': 'application/json' }, '{}'));
    await assert.rejects(() => client().account({ signal: AbortSignal.abort() }), { name: 'AbortError' });
    assert.equal(requests.length, 0);
  });
});

describe('SnapwireClient.saveScreenshot', () => {
  it('streams the image to the file, creating its folder', async () => {
    use((_req, res) => send(res, 200, { 'content-type': 'image/png', 'x-scrapfly-log-uuid': 'L1' }, PNG_1X1));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-save-'));
    const saved = await client().saveScreenshot({ url: 'https://example.com' }, path.join(dir, 'a', 'b.png'));
    assert.deepEqual(fs.readFileSync(saved.file), PNG_1X1);
    assert.equal(saved.size, PNG_1X1.length);
    assert.equal(saved.logUuid, 'L1');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('leaves nothing behind when the connection breaks mid-image', async () => {
    use((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': '100000' });
      res.write(Buffer.alloc(5000, 1));
      setImmediate(() => res.destroy());
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-save-'));
    await assert.rejects(() =>
      client({ retry: false }).saveScreenshot({ url: 'https://example.com' }, path.join(dir, 'x.png')),
    );
    assert.deepEqual(fs.readdirSync(dir), [], 'no partial or temporary file');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('SnapwireClient.account', () => {
  it('returns the account JSON', async () => {
    const account = {
      account: { account_id: 'acc_1', currency: 'USD' },
      project: {
        allow_extra_usage: false,
        budget_limit: null,
        concurrency_limit: 5,
        name: 'default',
        quota_reached: false,
      },
      subscription: {
        max_concurrency: 5,
        plan_name: 'FREE',
        usage: {
          scrape: {
            concurrent_limit: 5,
            concurrent_remaining: 5,
            concurrent_usage: 0,
            current: 60,
            limit: 1000,
            remaining: 940,
            extra: 0,
          },
        },
      },
    };
    use((_req, res) => send(res, 200, { 'content-type': 'application/json' }, JSON.stringify(account)));
    const result = await client().account();
    assert.deepEqual(result, account);
    assert.equal(requests[0]!.pathname, '/account');
    assert.equal(requests[0]!.searchParams.get('key'), KEY);
  });
});

describe('SnapwireClient transport failures', () => {
  it('wraps a refused connection in SnapwireError', async () => {
    const closed = await startServer((_req, res) => res.end());
    const url = closed.url;
    await closed.close();
    await assert.rejects(
      () => new SnapwireClient({ host: url, key: KEY }).screenshot({ url: 'https://example.com' }),
      (e: unknown) =>
        e instanceof SnapwireError && !(e instanceof SnapwireApiError) && /failed/.test(e.message),
    );
  });

  it('times out after timeoutMs', async () => {
    use(() => {
      /* never answers */
    });
    await assert.rejects(
      () => client({ timeoutMs: 100 }).screenshot({ url: 'https://example.com' }),
      (e: unknown) => e instanceof SnapwireError && /timed out/.test(e.message),
    );
  });

  it('validates its options', () => {
    assert.throws(() => new SnapwireClient({ host: '', key: KEY }), TypeError);
    assert.throws(() => new SnapwireClient({ host: api.url, key: '' }), TypeError);
    assert.throws(() => new SnapwireClient({ host: 'not a url', key: KEY }));
  });
});
