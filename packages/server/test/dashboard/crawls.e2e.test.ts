import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';
import { ADMIN_PASSWORD, postForm, signIn } from './support.js';

/**
 * The crawl pages of the dashboard: the list shows the project's crawls (not another project's), a crawl's
 * page shows its counts and URLs, and its Cancel form (with the session's CSRF token) cancels it.
 */
describe('dashboard: crawls', () => {
  let service: TestService;
  let server: http.Server;
  let origin: string;
  let session: { cookie: string; csrf: string };
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));

  before(async () => {
    server = http.createServer((req, res) => {
      const path = req.url ?? '/';
      const page = (body: string) => res.writeHead(200, { 'content-type': 'text/html' }).end(body);
      if (path === '/robots.txt') return res.writeHead(404).end();
      if (path === '/')
        return page('<title>home</title><a href="/a">a</a><a href="/b">b</a><a href="/missing">m</a>');
      if (path === '/missing') return res.writeHead(404, { 'content-type': 'text/html' }).end('gone');
      // /slow/* holds the second crawl open until the test has cancelled it.
      if (path.startsWith('/slow')) {
        void held.then(() => page('<title>slow</title>'));
        return;
      }
      return page(`<title>${path}</title><a href="/slow/1">s</a>`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://site.test:${(server.address() as AddressInfo).port}`;
    service = await startService(
      { SNAPWIRE_ADMIN_PASSWORD: ADMIN_PASSWORD },
      { 'site.test': '127.0.0.1' },
      { browsers: false },
    );
    session = await signIn(service.baseUrl);
    assert.ok(session.cookie && session.csrf, 'signed in');
  });
  after(async () => {
    release();
    await service?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  const startCrawl = async (key: string, body: Record<string, unknown>) => {
    const response = await fetch(`${service.baseUrl}/crawl?key=${key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return ((await response.json()) as { crawler_uuid: string }).crawler_uuid;
  };
  const statusOf = async (uuid: string) =>
    (await (await fetch(`${service.baseUrl}/crawl/${uuid}/status?key=${LIVE_KEY}`)).json()) as {
      status: string;
    };
  const get = async (path: string) => {
    const response = await fetch(`${service.baseUrl}${path}`, { headers: { cookie: session.cookie } });
    return { status: response.status, text: await response.text() };
  };

  it('lists the crawl, shows its URLs and depths, and cancels it through the form', async () => {
    const done = await startCrawl(LIVE_KEY, { url: `${origin}/`, page_limit: 3, max_depth: 1 });
    await waitUntil(async () => (await statusOf(done)).status === 'DONE', { timeoutMs: 30_000 });
    const running = await startCrawl(LIVE_KEY, { url: `${origin}/slow/0`, max_depth: 2 });
    const { keys } = await service.snapwire.services.projects.create('other', 'PRO');
    const foreign = await startCrawl(keys.LIVE, { url: `${origin}/other-project`, page_limit: 1 });

    const list = await get('/dashboard/crawls?project=default&env=LIVE');
    assert.equal(list.status, 200);
    assert.match(list.text, new RegExp(`data-crawl="${done}"`));
    assert.match(list.text, new RegExp(`data-crawl="${running}"`));
    assert.ok(list.text.indexOf(running) < list.text.indexOf(done), 'newest first');
    assert.doesNotMatch(list.text, new RegExp(foreign), "another project's crawl is not listed");
    assert.doesNotMatch(list.text, /other-project/);
    assert.match(list.text, /href="\/dashboard\/crawls"/, 'the nav links to Crawls');

    const detail = await get(`/dashboard/crawls/${done}?project=default&env=LIVE`);
    assert.equal(detail.status, 200);
    assert.match(detail.text, new RegExp(`${origin}/a`));
    assert.match(detail.text, /data-stat="status"[^>]*>\s*<span class="ok">DONE/);
    assert.match(detail.text, /id="depths"/);
    assert.doesNotMatch(detail.text, /data-action="cancel"/, 'a finished crawl has no Cancel button');
    assert.equal(
      (await get(`/dashboard/crawls/${foreign}?project=default&env=LIVE`)).status,
      404,
      "another project's crawl is not shown",
    );

    await waitUntil(async () => /\/slow\/0/.test((await get(`/dashboard/crawls/${running}`)).text), {
      timeoutMs: 30_000,
    });
    const live = await get(`/dashboard/crawls/${running}?project=default&env=LIVE`);
    assert.match(live.text, /data-action="cancel"/);
    const forged = await postForm(
      service.baseUrl,
      `/dashboard/crawls/${running}/cancel`,
      { _csrf: 'wrong', project: 'default', env: 'LIVE' },
      session.cookie,
    );
    assert.notEqual(forged.status, 303, 'a wrong CSRF token cancels nothing');
    assert.equal((await statusOf(running)).status === 'CANCELLED', false);

    const cancelled = await postForm(
      service.baseUrl,
      `/dashboard/crawls/${running}/cancel`,
      { _csrf: session.csrf, project: 'default', env: 'LIVE' },
      session.cookie,
    );
    assert.equal(cancelled.status, 303);
    assert.equal((await statusOf(running)).status, 'CANCELLED');
    const after = await get(`/dashboard/crawls/${running}?project=default&env=LIVE`);
    assert.match(after.text, /CANCELLED/);
    assert.match(after.text, /user_cancelled/);
  });
  it("filters a crawl's URLs by status, pages them, and opens a page's log from its row", async () => {
    const uuid = await startCrawl(LIVE_KEY, {
      url: `${origin}/`,
      max_depth: 1,
      content_formats: ['html', 'markdown'],
    });
    await waitUntil(async () => (await statusOf(uuid)).status === 'DONE', { timeoutMs: 30_000 });
    const crawlPage = `/dashboard/crawls/${uuid}?project=default&env=LIVE`;
    const rowsOf = (text: string) =>
      [...text.matchAll(/<tr data-status="(\w+)">([\s\S]*?)<\/tr>/g)].map(([, status, row]) => ({
        status,
        url: /class="url"\s*>\s*([^<\s]+)/.exec(row!)?.[1],
        log: /href="(\/dashboard\/monitoring\/log\/[^"]+)"/.exec(row!)?.[1],
      }));

    const all = await get(crawlPage);
    const everyRow = rowsOf(all.text);
    assert.deepEqual(everyRow.map((r) => [r.url!.replace(origin, ''), r.status]).sort(), [
      ['/', 'visited'],
      ['/a', 'visited'],
      ['/b', 'visited'],
      ['/missing', 'failed'],
      ['/slow/1', 'skipped'],
    ]);
    assert.ok(
      everyRow.every((r) => (r.status === 'skipped') === (r.log === undefined)),
      'every fetched page links to its log, a skipped one has none',
    );
    assert.match(all.text, /id="url-position" data-total="5"\s*>1–5 of 5/);
    assert.doesNotMatch(all.text, /id="urls-next"/);
    assert.match(all.text, /data-filter="failed"[^>]*>\s*failed \(1\)/);

    const failed = await get(`${crawlPage}&status=failed`);
    const failedRows = rowsOf(failed.text);
    assert.deepEqual(
      failedRows.map((r) => r.url),
      [`${origin}/missing`],
      'only the failed URL',
    );
    assert.match(
      failed.text,
      /<strong data-filter="failed"\s*>\s*failed \(1\)/,
      'the filter shown as chosen',
    );

    const beyond = await get(`${crawlPage}&page=2`);
    assert.deepEqual(rowsOf(beyond.text), []);
    assert.match(beyond.text, /id="urls-previous"/);

    const failedLog = await get(failedRows[0]!.log!);
    assert.equal(failedLog.status, 200);
    assert.match(failedLog.text, /data-kind="crawl"/);
    assert.match(failedLog.text, /id="crawl-log"/);
    assert.match(
      failedLog.text,
      new RegExp(`id="crawl-link"\\s*><code>${uuid}</code>`),
      'links back to its crawl',
    );
    assert.match(failedLog.text, /ERR::SCRAPE::BAD_UPSTREAM_RESPONSE/);
    assert.match(failedLog.text, /404/);
    assert.match(failedLog.text, /id="crawl-formats">none</);
    assert.doesNotMatch(failedLog.text, /id="crawl-contents-call"/, 'a failed page stored no contents');

    const pageA = everyRow.find((r) => r.url === `${origin}/a`)!;
    const visitedLog = await get(pageA.log!);
    assert.match(visitedLog.text, /id="crawl-formats">html, markdown</);
    assert.match(visitedLog.text, /<th>Depth<\/th>\s*<td>1<\/td>/);
    const contentsCall = /id="crawl-contents-call">([^<]+)</.exec(visitedLog.text)?.[1];
    assert.ok(contentsCall, 'how to read the stored page');
    const apiUrl = /"([^"]+)"/
      .exec(contentsCall.replaceAll('&quot;', '"').replaceAll('&amp;', '&'))![1]!
      .replace('$SNAPWIRE_KEY', LIVE_KEY);
    // The call names the service's public URL; the test reaches it at its loopback address.
    const call = new URL(apiUrl);
    const contents = await fetch(`${service.baseUrl}${call.pathname}${call.search}`);
    assert.equal(contents.status, 200, 'the shown call reads the page');
    assert.match(await contents.text(), /<a href="\/slow\/1">s<\/a>/, "page /a's HTML as stored");
  });
});
