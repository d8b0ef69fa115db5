import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebhook } from '../helpers/async-jobs.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';

/**
 * Scrapfly's Python SDK cannot be installed here (no Python registry): its client.scrape() is reproduced
 * from its source, scrapfly-sdk 0.10.5 (Python). What it sends: client.py _scrape_request (the query from
 * scrape_config.py to_api_params, encoded by requests: spaces as '+', booleans as 'true', js base64url WITH
 * padding, rendering_stage always sent with render_js; Content-Type application/json;charset=utf-8 unless
 * the config's own content-type for POST/PUT/PATCH). What it reads: every field below is read with [] in
 * api_response.py (ScrapeApiResponse, handle_api_result, raise_for_result), client.py _handle_response
 * and errors.py ErrorFactory, so a missing one is a KeyError for its users.
 */
const PYTHON_HEADERS = {
  'content-type': 'application/json;charset=utf-8',
  accept: 'application/json;charset=utf-8',
  'accept-encoding': 'gzip, deflate',
  'user-agent': 'ScrapflySDK/0.10.5 (Python 3.11.7, Linux, x86_64)',
};

/** requests.request(params=...) encoding: application/x-www-form-urlencoded (quote_plus). */
function pythonQuery(params: Record<string, string>): string {
  return new URLSearchParams({ key: LIVE_KEY, ...params }).toString();
}

/** urlsafe_b64encode keeps the '=' padding (the TypeScript SDK strips it). */
const pythonBase64 = (text: string) =>
  Buffer.from(text, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

describe('The Python SDK client.scrape() as its source sends and reads it (scrapfly-sdk 0.10.5 (Python))', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let receiver: Receiver;
  const call = (params: Record<string, string>, init: RequestInit = {}) =>
    fetch(`${service.baseUrl}/scrape?${pythonQuery(params)}`, {
      ...init,
      headers: { ...PYTHON_HEADERS, ...(init.headers as Record<string, string> | undefined) },
    });

  before(async () => {
    fixtures = await startFixtureServer({
      routes: {
        '/python-form': (_req, res) => {
          res
            .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
            .end(
              `<html><body><input id="name"><p id="seen"></p><script>document.getElementById('name').addEventListener('input', (e) => { document.getElementById('seen').textContent = 'value-seen:' + e.target.value; });</script></body></html>`,
            );
        },
        '/echo': (req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (chunk: Buffer) => chunks.push(chunk));
          req.on('end', () =>
            res.writeHead(200, { 'content-type': 'application/json' }).end(
              JSON.stringify({
                method: req.method,
                contentType: req.headers['content-type'] ?? null,
                cookie: req.headers.cookie ?? null,
                body: Buffer.concat(chunks).toString('utf8'),
              }),
            ),
          );
        },
      },
    });
    service = await startService();
    receiver = await startReceiver();
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
    await fixtures?.close();
  });

  /** Every field of a scrape answer api_response.py and client.py read with []. */
  function assertPythonReadable(body: Record<string, any>, response: Response) {
    // ApiResponse.support(): the body is only parsed when the Content-Type holds application/json.
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    // api_response.py handle_api_result: config.headers (a dict, or a list replaced by {}), result.content.
    assert.equal(typeof body.config.headers, 'object');
    assert.ok('content' in body.result);
    // api_response.py upstream_result_into_response: config.method, config.url, config.body.
    for (const field of ['method', 'url', 'body']) assert.ok(field in body.config, `config.${field}`);
    // client.py _handle_response logs result.status_code, result.reason, config.url, result.duration,
    // result.log_url; raise_for_result reads result.status and result.success.
    for (const field of [
      'status_code',
      'reason',
      'duration',
      'log_url',
      'status',
      'success',
      'format',
      'url',
      'request_headers',
      'response_headers',
    ]) {
      assert.ok(field in body.result, `result.${field}`);
    }
    assert.equal(typeof body.result.duration, 'number');
    assert.equal(body.result.status, 'DONE');
    // ApiResponse.cost / remaining_quota / duration_ms: int(), int(), float() of these headers.
    assert.ok(Number.isInteger(Number(response.headers.get('x-scrapfly-api-cost'))));
    assert.ok(Number.isInteger(Number(response.headers.get('x-scrapfly-remaining-api-credit'))));
    assert.ok(Number.isFinite(Number(response.headers.get('x-scrapfly-response-time'))));
  }

  it('a GET in markdown: every field the SDK reads is there', async () => {
    const response = await call({ url: `${fixtures.origin}/scrape-article`, format: 'markdown:no_images' });
    const body = (await response.json()) as Record<string, any>;
    assert.equal(response.status, 200);
    assertPythonReadable(body, response);
    assert.equal(body.result.success, true);
    assert.equal(body.result.format, 'text');
    assert.match(body.result.content, /# Lighthouse keepers/);
    assert.doesNotMatch(body.result.content, /!\[/);
    // api_response.py _date_parser turns strings of 26 characters or fewer that look like dates into
    // datetimes: none of ours are dates.
    assert.equal(body.result.reason, 'OK');
  });

  it('webhook_name: the 201 promise has every field the SDK reads, and raise_for_result lets it through', async () => {
    await createWebhook(service.baseUrl, 'python', receiver.url);
    const response = await call({ url: `${fixtures.origin}/scrape-article`, webhook_name: 'python' });
    assert.equal(response.status, 201, 'raise_for_status passes a 201');
    const body = (await response.json()) as Record<string, any>;
    assertPythonReadable(body, response);
    // raise_for_result raises only for status DONE with success false; _is_api_error looks for error_id.
    assert.equal(body.result.success, true);
    assert.ok(!('error_id' in body));
    assert.equal(body.config.webhook_name, 'python');
    assert.equal(body.context.webhook.name, 'python');
    assert.match(body.context.job.uuid, /^[0-9a-f-]{36}$/);
    // handle_api_result hands a non-empty content to the large object handler: the promise has none.
    assert.equal(body.result.content, '');
    await receiver.waitFor(2, 20_000); // the ping, then the scrape's envelope
    const delivered = receiver.received.find(
      (r) => r.headers['x-scrapfly-webhook-job-id'] === body.context.job.uuid,
    );
    // webhook.py create_server: a scrape resource type, a JSON body (ResponseBodyHandler.read).
    assert.equal(delivered?.headers['x-scrapfly-webhook-resource-type'], 'scrape');
    assert.match(String(delivered?.headers['content-type']), /^application\/json/);
  });

  it('a POST of form data: the body and the config content type reach the target', async () => {
    // ScrapeConfig(data={...}) sets headers['content-type'] to application/x-www-form-urlencoded and the
    // body to urlencode(data); _scrape_request sends the config's content-type for POST.
    const response = await call(
      {
        url: `${fixtures.origin}/echo`,
        'headers[content-type]': 'application/x-www-form-urlencoded',
        'headers[cookie]': 'a=1; b=2',
      },
      { method: 'POST', body: 'q=lamps', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    );
    const body = (await response.json()) as Record<string, any>;
    assertPythonReadable(body, response);
    assert.deepEqual(JSON.parse(body.result.content), {
      method: 'POST',
      contentType: 'application/x-www-form-urlencoded',
      cookie: 'a=1; b=2',
      body: 'q=lamps',
    });
    assert.equal(body.config.body, 'q=lamps');
  });

  it('a PUT without a content type: the Python default label goes with its body', async () => {
    // PUT with body and no content-type: _scrape_request falls back to the body handler's type.
    const response = await call({ url: `${fixtures.origin}/echo` }, { method: 'PUT', body: 'raw' });
    const body = (await response.json()) as Record<string, any>;
    assert.deepEqual(JSON.parse(body.result.content), {
      method: 'PUT',
      contentType: 'application/json;charset=utf-8',
      cookie: null,
      body: 'raw',
    });
  });

  it('render_js with a padded base64url js, rendering_stage=complete and a rendering_wait', async () => {
    const script = 'return document.title + "?";'; // 28 bytes: its base64 ends with "=="
    assert.ok(pythonBase64(script).endsWith('='));
    const response = await call({
      url: `${fixtures.origin}/late`,
      render_js: 'true',
      js: pythonBase64(script),
      rendering_wait: '100',
      rendering_stage: 'complete',
    });
    const body = (await response.json()) as Record<string, any>;
    assertPythonReadable(body, response);
    assert.equal(body.result.browser_data.javascript_evaluation_result, 'Late?');
  });

  it('js_scenario as json.dumps writes it (", " and ": "), padded; screenshots[NAME]; session', async () => {
    // scrape_config.py: urlsafe_b64encode(json.dumps(js_scenario)); json.dumps separates with ", " and ": ".
    const scenario = '[{"fill": {"selector": "#name", "value": "Ada"}}, {"wait": 100}]';
    const padded = pythonBase64(scenario);
    assert.ok(padded.endsWith('='), 'this scenario encodes with padding');
    const response = await call({
      url: `${fixtures.origin}/python-form`,
      render_js: 'true',
      rendering_stage: 'complete',
      js_scenario: padded,
      'screenshots[page]': 'fullpage',
      screenshot_flags: 'load_images,dark_mode',
      session: 'py-session',
    });
    const body = (await response.json()) as Record<string, any>;
    assert.equal(response.status, 200, JSON.stringify(body).slice(0, 300));
    assertPythonReadable(body, response);
    assert.deepEqual(
      body.result.browser_data.js_scenario.steps.map((step: Record<string, unknown>) => [
        step.action,
        step.success,
      ]),
      [
        ['fill', true],
        ['wait', true],
      ],
    );
    assert.match(body.result.content, /value-seen:Ada/);
    assert.equal(body.context.session, 'py-session');
    // client.py save_scrape_screenshot: scrape_result['screenshots'] truthy, ['screenshots'][name]['url']
    // fetched with params={'key': ...} (requests adds ?key=), raise_for_status, bytes written as .jpg.
    const shot = body.result.screenshots.page;
    assert.ok(body.result.screenshots && shot.url);
    const image = await fetch(
      `${service.baseUrl}${new URL(shot.url).pathname}?${new URLSearchParams({ key: LIVE_KEY })}`,
      { headers: PYTHON_HEADERS },
    );
    assert.equal(image.status, 200);
    assert.equal(image.headers.get('content-type'), 'image/jpeg');
    const bytes = Buffer.from(await image.arrayBuffer());
    assert.equal(bytes.subarray(0, 2).toString('hex'), 'ffd8', 'a JPEG, as the SDK names the file .jpg');
  });

  it('a binary upstream: format binary, content base64 (b64decode into BytesIO)', async () => {
    const response = await call({ url: `${fixtures.origin}/image.png` });
    const body = (await response.json()) as Record<string, any>;
    assertPythonReadable(body, response);
    assert.equal(body.result.format, 'binary');
    assert.equal(Buffer.from(body.result.content, 'base64').subarray(1, 4).toString('latin1'), 'PNG');
  });

  it('an upstream 404: HTTP 200, success false, error.code and error.message for ErrorFactory', async () => {
    const response = await call({ url: `${fixtures.origin}/status-404` });
    const body = (await response.json()) as Record<string, any>;
    // raise_for_status passes (200); raise_for_result then sees status DONE and success False.
    assert.equal(response.status, 200);
    assertPythonReadable(body, response);
    assert.equal(body.result.success, false);
    // errors.py ErrorFactory.create: error['code'] (three :: segments), error['message'], and for
    // BAD_UPSTREAM_RESPONSE the HTTP code from result['status_code'] (>= 400: UpstreamHttpClientError).
    assert.equal(body.result.error.code, 'ERR::SCRAPE::BAD_UPSTREAM_RESPONSE');
    assert.equal(body.result.error.code.split('::').length, 3);
    assert.equal(typeof body.result.error.message, 'string');
    assert.equal(body.result.error.retryable, false);
    assert.equal(typeof body.result.error.doc_url, 'string');
    // ApiResponse.error_message: error['links'] (a dict whose first value is printed).
    assert.equal(typeof Object.values(body.result.error.links)[0], 'string');
    assert.equal(body.result.status_code, 404);
  });

  it('a refused address: HTTP 422 with the envelope, so ErrorFactory makes a ScrapflyScrapeError', async () => {
    const response = await call({ url: 'http://169.254.169.254/latest/meta-data/' });
    const body = (await response.json()) as Record<string, any>;
    // raise_for_status raises, but without error_id in the body the SDK goes on to ErrorFactory.
    assert.equal(response.status, 422);
    assert.ok(!('error_id' in body));
    assertPythonReadable(body, response);
    assert.equal(body.result.error.code, 'ERR::SCRAPE::DOMAIN_NOT_ALLOWED');
  });

  it('an API error (unknown parameter) is the error body: error_id, message, http_code, links', async () => {
    const response = await call({ url: `${fixtures.origin}/scrape-article`, extract_rules: 'x' });
    const body = (await response.json()) as Record<string, any>;
    assert.equal(response.status, 400);
    // api_response.py raise_for_result: 'error_id' in result, then result['message'], result['http_code'].
    assert.ok('error_id' in body);
    assert.equal(typeof body.message, 'string');
    assert.equal(body.http_code, 400);
    assert.equal(typeof Object.values(body.links)[0], 'string');
    assert.match(body.reason, /Unknown parameter "extract_rules"/);
  });

  it('True/False in any letter case are booleans (docs/compat.md §1)', async () => {
    const response = await call({ url: `${fixtures.origin}/scrape-article`, asp: 'True', retry: 'False' });
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, any>;
    assert.equal(body.config.asp, true);
    assert.equal(body.context.asp, false);
  });

  it('HEAD: no body, the status and X-Scrapfly-Reject-* headers describe the result', async () => {
    // ScrapeApiResponse builds the HEAD result from the response: status_code, reason, headers; with
    // X-Scrapfly-Reject-Code it reads -Http-Code (int), -Description, -ID and -Retryable.
    const ok = await call({ url: `${fixtures.origin}/scrape-article` }, { method: 'HEAD' });
    assert.equal(ok.status, 200);
    assert.equal((await ok.arrayBuffer()).byteLength, 0);
    assert.equal(ok.headers.get('x-scrapfly-upstream-http-code'), '200');
    const refused = await call({ url: 'http://10.1.2.3/' }, { method: 'HEAD' });
    assert.equal(refused.status, 422);
    assert.equal(refused.headers.get('x-scrapfly-reject-code'), 'ERR::SCRAPE::DOMAIN_NOT_ALLOWED');
    assert.equal(Number(refused.headers.get('x-scrapfly-reject-http-code')), 422);
    for (const name of [
      'x-scrapfly-reject-description',
      'x-scrapfly-reject-id',
      'x-scrapfly-reject-retryable',
    ]) {
      assert.ok(refused.headers.get(name), name);
    }
  });
});
