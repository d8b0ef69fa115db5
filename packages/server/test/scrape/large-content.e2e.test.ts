// A scrape content over SNAPWIRE_SCRAPE_INLINE_MAX_BYTES is answered by URL (result.format clob or blob)
// and fetched by the SDKs with the key: Scrapfly's TypeScript SDK unmodified (handleLargeObjects), and the
// Python SDK's _handle_scrape_large_objects reproduced from its source (client.py): GET the URL with
// params {key}, accept application/json, and decode the bytes as UTF-8 for a clob unless the answer's
// content type is JSON or msgpack (then it would decode it as an API answer).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScrapeConfig, ScrapflyClient, type ScrapeResult } from 'scrapfly-sdk';
import { freePort } from '../fleet/support.js';
import { startFixtureServer, type FixtureServer, type Handler } from '../helpers/fixture-server.js';
import { LIVE_KEY, TEST_KEY, startService, type TestService } from '../helpers/service.js';

const ARTICLE = `<html><body><main><h1>Long read</h1>${'<p>A paragraph of a long article. </p>'.repeat(200)}</main></body></html>`;
const PIXELS = Buffer.alloc(6_000, 7);

const routes: Record<string, Handler> = {
  '/long': (_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(ARTICLE),
  '/short': (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<p>short</p>'),
  '/image': (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PIXELS),
};

describe('large scrape contents: clob and blob', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let client: ScrapflyClient;

  before(async () => {
    fixtures = await startFixtureServer({ routes });
    // The SDK follows result.content, so the service's public URL must be where it listens.
    const port = await freePort();
    service = await startService(
      {
        PORT: String(port),
        SNAPWIRE_PUBLIC_URL: `http://127.0.0.1:${port}`,
        SNAPWIRE_SCRAPE_INLINE_MAX_BYTES: '4096',
      },
      {},
      { browsers: false },
    );
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  const raw = async (url: string) => {
    const response = await fetch(`${service.baseUrl}/scrape?${new URLSearchParams({ key: LIVE_KEY, url })}`);
    return (await response.json()) as { result: { content: string; format: string; log_url: string } };
  };

  it('a text over the limit is a clob: the answer holds its URL, the TypeScript SDK returns the text', async () => {
    const answer = await raw(`${fixtures.origin}/long`);
    assert.equal(answer.result.format, 'clob');
    assert.match(answer.result.content, new RegExp(`^${service.baseUrl}/scrape/content/[0-9A-Z]{26}$`));

    const result = (await client.scrape(
      new ScrapeConfig({ url: `${fixtures.origin}/long` }),
    )) as ScrapeResult;
    assert.equal(result.result.format, 'text');
    assert.equal(result.result.content, ARTICLE);
  });

  it('a markdown over the limit is a clob of the markdown', async () => {
    const result = (await client.scrape(
      new ScrapeConfig({ url: `${fixtures.origin}/long`, format: 'markdown' }),
    )) as ScrapeResult;
    assert.equal(result.result.format, 'text');
    assert.match(result.result.content, /^# Long read/);
  });

  it('bytes over the limit are a blob: the TypeScript SDK returns them as bytes', async () => {
    const answer = await raw(`${fixtures.origin}/image`);
    assert.equal(answer.result.format, 'blob');
    const result = (await client.scrape(
      new ScrapeConfig({ url: `${fixtures.origin}/image` }),
    )) as ScrapeResult;
    assert.equal(result.result.format, 'binary');
    assert.deepEqual(Buffer.from(result.result.content as unknown as Uint8Array), PIXELS);
  });

  it("the Python SDK's fetch of a clob: text/plain (not an API answer), decoded as UTF-8", async () => {
    const answer = await raw(`${fixtures.origin}/long`);
    const url = new URL(answer.result.content);
    url.searchParams.set('key', LIVE_KEY);
    const response = await fetch(url, {
      headers: { accept: 'application/json;charset=utf-8', 'accept-encoding': 'gzip, deflate' },
    });
    assert.equal(response.status, 200);
    const type = response.headers.get('content-type') ?? '';
    assert.ok(!type.includes('application/json') && !type.includes('application/msgpack'), type);
    assert.equal(Buffer.from(await response.arrayBuffer()).toString('utf8'), ARTICLE);
  });

  it('a content within the limit stays inline; another environment cannot fetch a large one', async () => {
    const short = await raw(`${fixtures.origin}/short`);
    assert.equal(short.result.format, 'text');
    assert.equal(short.result.content, '<p>short</p>');

    const large = await raw(`${fixtures.origin}/long`);
    const other = await fetch(`${large.result.content}?key=${TEST_KEY}`);
    assert.equal(other.status, 404);
    assert.equal(((await other.json()) as { code: string }).code, 'ERR::API::NOT_FOUND');
  });
});
