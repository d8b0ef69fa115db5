// render_js=true: the page's XHR and fetch() calls (with their answers) and its Web Storage come back in
// result.browser_data as Scrapfly's TypeScript SDK reads them (xhr_call, local_storage_data,
// session_storage_data), unmodified SDK against a page served on loopback.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScrapeConfig, ScrapflyClient, type ScrapeResult } from 'scrapfly-sdk';
import { startFixtureServer, type FixtureServer, type Handler } from '../helpers/fixture-server.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';

const PAGE = `<!doctype html><html><body><h1>Shop</h1><ul id="items"></ul><p id="echo"></p>
<script>
  localStorage.setItem('cart', '3');
  sessionStorage.setItem('visit', 'first');
  fetch('/api/items').then((response) => response.json()).then((items) => {
    for (const item of items) document.getElementById('items').insertAdjacentHTML('beforeend', '<li>' + item + '</li>');
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/echo');
    xhr.setRequestHeader('content-type', 'application/json');
    xhr.onload = () => { document.getElementById('echo').textContent = xhr.responseText; document.body.dataset.done = '1'; };
    xhr.send(JSON.stringify({ want: 'echo' }));
  });
</script></body></html>`;

const routes: Record<string, Handler> = {
  '/shop': (_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE),
  '/api/items': (_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json', 'x-api': 'items' }).end('["apple","pear"]'),
  '/api/echo': (req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => res.writeHead(201, { 'content-type': 'text/plain' }).end(`got ${body}`));
  },
};

describe('render_js browser_data: xhr_call and Web Storage', () => {
  let service: TestService;
  let fixtures: FixtureServer;

  before(async () => {
    fixtures = await startFixtureServer({ routes });
    service = await startService();
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  it("the page's fetch() and XHR calls, with their answers, and its local and session storage", async () => {
    const client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    const result = (await client.scrape(
      new ScrapeConfig({
        url: `${fixtures.origin}/shop`,
        render_js: true,
        wait_for_selector: 'body[data-done]',
      }),
    )) as ScrapeResult;
    assert.match(result.result.content, /<li>apple<\/li><li>pear<\/li>/);
    const data = result.result.browser_data;
    assert.deepEqual(data.local_storage_data, { cart: '3' });
    assert.deepEqual(data.session_storage_data, { visit: 'first' });

    const calls = data.xhr_call ?? [];
    assert.equal(calls.length, 2, JSON.stringify(calls, null, 1));
    const [items, echo] = calls;
    assert.equal(items!.url, `${fixtures.origin}/api/items`);
    assert.equal(items!.method, 'GET');
    assert.equal(items!.type, 'fetch');
    assert.equal(items!.response.status, 200);
    assert.equal(items!.response.body, '["apple","pear"]');
    assert.equal(items!.response.format, 'text');
    assert.equal(items!.response.headers['x-api'], 'items');
    assert.ok(items!.response.duration >= 0 && items!.response.duration < 30);

    assert.equal(echo!.url, `${fixtures.origin}/api/echo`);
    assert.equal(echo!.method, 'POST');
    assert.equal(echo!.type, 'xhr');
    assert.equal(echo!.body, '{"want":"echo"}');
    assert.equal(echo!.headers['content-type'] ?? echo!.headers['Content-Type'], 'application/json');
    assert.equal(echo!.response.status, 201);
    assert.equal(echo!.response.body, 'got {"want":"echo"}');
  });
});
