// GET /screenshot/compare and /screenshot/compare/diff (a Snapwire extension for visual change
// monitoring): real captures of a local page that changes between two captures, compared by log uuid.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SnapwireApiError, SnapwireClient } from '@snapwire/sdk';
import sharp from 'sharp';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { LIVE_KEY, TEST_KEY, screenshot, startService, type TestService } from '../helpers/service.js';

/** The price page as a shop edits it: the box turns red and the price changes; `tall` adds a long list. */
const pricePage = (version: { price: number; box: string; tall?: boolean }) => `<!doctype html>
<html><body style="margin:0;background:#fff;font-family:sans-serif">
<h1 style="margin:20px">Prices</h1>
<p style="margin:20px;font-size:24px">Price: ${version.price} EUR</p>
<div style="position:absolute;left:400px;top:200px;width:100px;height:50px;background:${version.box}"></div>
${version.tall ? '<div style="height:1500px;background:linear-gradient(#fff,#ccc)"></div>' : ''}
</body></html>`;

interface Comparison {
  changed: boolean;
  score: number;
  changed_pixels: number;
  width: number;
  height: number;
  height_change: number;
  regions: Array<{ x: number; y: number; width: number; height: number }>;
  diff_url: string;
}

describe('GET /screenshot/compare', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let page = pricePage({ price: 10, box: '#00aa00' });
  const pageUrl = () => `http://fixtures.test:${fixtures.port}/prices`;

  const capture = async (params: Record<string, string> = {}) => {
    const response = await screenshot(service.baseUrl, {
      url: pageUrl(),
      format: 'png',
      resolution: '800x600',
      rendering_wait: '0',
      ...params,
    });
    assert.equal(response.status, 200, await response.clone().text());
    return response.headers.get('x-scrapfly-log-uuid')!;
  };
  const compare = async (query: Record<string, string>, key = LIVE_KEY) => {
    const response = await fetch(
      `${service.baseUrl}/screenshot/compare?${new URLSearchParams({ key, ...query })}`,
    );
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  let before10: string;
  let again10: string;
  let after12: string;

  before(async () => {
    fixtures = await startFixtureServer({
      routes: {
        '/prices': (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page),
      },
    });
    service = await startService();
    before10 = await capture();
    again10 = await capture();
    page = pricePage({ price: 12, box: '#cc0000' });
    after12 = await capture();
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  it('finds nothing between two captures of an unchanged page', async () => {
    const { status, body } = await compare({ base: before10, head: again10 });
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(
      [body.changed, body.score, body.changed_pixels, body.regions, body.height_change],
      [false, 0, 0, [], 0],
    );
    assert.deepEqual([body.width, body.height], [800, 600]);
  });

  it('reports the edited price and box, with their regions and a diff image', async () => {
    const { status, body } = await compare({ base: before10, head: after12 });
    assert.equal(status, 200, JSON.stringify(body));
    const result = body as unknown as Comparison;
    assert.equal(result.changed, true);
    assert.ok(result.changed_pixels >= 100 * 50, `the whole box changed colour: ${result.changed_pixels}`);
    assert.equal(result.score, result.changed_pixels / (800 * 600));
    assert.ok(
      result.regions.some((r) => r.x === 400 && r.y === 200 && r.width === 100 && r.height === 50),
      `the box is a region: ${JSON.stringify(result.regions)}`,
    );
    assert.ok(
      result.regions.some((r) => r.y < 200 && r.x < 400),
      `the price text is a region: ${JSON.stringify(result.regions)}`,
    );
    const diffUrl = new URL(result.diff_url);
    assert.equal(diffUrl.pathname, '/screenshot/compare/diff');
    const diff = await fetch(`${service.baseUrl}${diffUrl.pathname}${diffUrl.search}&key=${LIVE_KEY}`);
    assert.equal(diff.status, 200);
    assert.equal(diff.headers.get('content-type'), 'image/png');
    const { data, info } = await sharp(Buffer.from(await diff.arrayBuffer()))
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [800, 600]);
    const at = (x: number, y: number) => [
      ...data.subarray((y * 800 + x) * info.channels, (y * 800 + x) * info.channels + 3),
    ];
    assert.deepEqual(at(450, 225), [255, 0, 0], 'the changed box is red on the diff');
    const untouched = at(700, 500);
    assert.ok(untouched[0] === untouched[1] && untouched[0]! > 200, `unchanged is light grey: ${untouched}`);
  });

  it('is called through @snapwire/sdk: compareScreenshots and comparisonDiff, and its typed refusal', async () => {
    const client = new SnapwireClient({ host: service.baseUrl, key: LIVE_KEY });
    const result = await client.compareScreenshots(before10, after12);
    assert.equal(result.changed, true);
    assert.ok(result.regions.some((r) => r.x === 400 && r.y === 200 && r.width === 100 && r.height === 50));
    const diff = await client.comparisonDiff(before10, after12);
    assert.deepEqual(
      [(await sharp(diff).metadata()).width, (await sharp(diff).metadata()).height],
      [800, 600],
    );
    assert.equal((await client.compareScreenshots(before10, again10, { threshold: 0.5 })).changed, false);
    const other = new SnapwireClient({ host: service.baseUrl, key: TEST_KEY });
    await assert.rejects(other.compareScreenshots(before10, after12), (error: unknown) => {
      assert.ok(error instanceof SnapwireApiError, String(error));
      assert.equal(error.httpStatus, 404);
      return true;
    });
  });

  it('takes a threshold: a change under it is not a change', async () => {
    const { body } = await compare({ base: before10, head: after12, threshold: '0.5' });
    assert.equal(body.changed, false);
    assert.ok((body.changed_pixels as number) > 0);
    assert.match(String(body.diff_url), /threshold=0.5/);
    const bad = await compare({ base: before10, head: after12, threshold: '2' });
    assert.equal(bad.status, 400);
  });

  it('compares full pages of different heights over the shared area and reports the height change', async () => {
    page = pricePage({ price: 12, box: '#cc0000' });
    const short = await capture({ capture: 'fullpage' });
    page = pricePage({ price: 12, box: '#cc0000', tall: true });
    const tall = await capture({ capture: 'fullpage' });
    const { status, body } = await compare({ base: short, head: tall });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.height, 600);
    assert.ok((body.height_change as number) >= 1000, `height_change ${body.height_change}`);
    assert.equal(body.changed, true, 'most of the taller page could not be compared');
  });

  it('does not find logs of another environment (TEST key on LIVE logs)', async () => {
    const { status, body } = await compare({ base: before10, head: after12 }, TEST_KEY);
    assert.equal(status, 404);
    assert.equal(body.code, 'ERR::API::NOT_FOUND');
    const unknown = await compare({ base: before10, head: '00000000-0000-0000-0000-000000000000' });
    assert.equal(unknown.status, 404);
    assert.match(String(unknown.body.message), /head/);
  });

  it('refuses a PDF capture, a scrape log and a failed capture, saying why', async () => {
    const pdf = await capture({ format: 'pdf' });
    const refusedPdf = await compare({ base: before10, head: pdf });
    assert.equal(refusedPdf.status, 422);
    assert.equal(refusedPdf.body.code, 'ERR::COMPARE::NOT_AN_IMAGE');
    assert.match(String(refusedPdf.body.message), /PDF capture/);

    const scrape = await fetch(
      `${service.baseUrl}/scrape?${new URLSearchParams({ key: LIVE_KEY, url: pageUrl() })}`,
    );
    assert.equal(scrape.status, 200);
    const scrapeUuid = scrape.headers.get('x-scrapfly-log-uuid')!;
    const refusedScrape = await compare({ base: scrapeUuid, head: after12 });
    assert.equal(refusedScrape.status, 422);
    assert.equal(refusedScrape.body.code, 'ERR::COMPARE::NOT_A_SCREENSHOT');
    assert.match(String(refusedScrape.body.message), /scrape log/);

    const failed = await screenshot(service.baseUrl, {
      url: `http://fixtures.test:${fixtures.port}/never-loads`,
      timeout: '2000',
    });
    assert.equal(failed.status, 504);
    const refusedFailed = await compare({ base: failed.headers.get('x-scrapfly-log-uuid')!, head: after12 });
    assert.equal(refusedFailed.status, 422);
    assert.equal(refusedFailed.body.code, 'ERR::COMPARE::NOT_A_SCREENSHOT');
    assert.match(String(refusedFailed.body.message), /OPERATION_TIMEOUT/);
  });

  // Last: it sweeps every stored image.
  it('answers 410 when a log outlived its image (retention swept the blob)', async () => {
    const swept = await service.snapwire.services.blobs.sweep(Date.now() + 3_600_000);
    assert.ok(swept.deleted > 0);
    const { status, body } = await compare({ base: before10, head: after12 });
    assert.equal(status, 410);
    assert.equal(body.code, 'ERR::COMPARE::IMAGE_GONE');
    assert.equal(body.retryable, false);
    assert.match(String(body.message), /no longer stored.*capture the page again/);
  });
});
