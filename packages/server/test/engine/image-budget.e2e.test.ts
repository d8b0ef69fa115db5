import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import sharp from 'sharp';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { screenshot, startService, type TestService } from '../helpers/service.js';

// Issue 18, item 1: device_scale_factor escaped SNAPWIRE_MAX_OUTPUT_PIXELS. A 5000x200000 px page with
// capture=fullpage&device_scale_factor=2 gave a 10000x32000 JPEG, 4x the budget. The budget counts image
// pixels (scale squared times the CSS area) on every capture mode, and bounds a PDF's pages. Replayed at a
// small scale: a 2,000,000-pixel budget and a 3,000 px full-page height, real Chromium, loopback pages.
const BUDGET = 2_000_000;
const MAX_FULLPAGE_HEIGHT = 3_000;

const page = (body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0">${body}</body></html>`;
const STRIPES = 'repeating-linear-gradient(#e00 0 100px, #00e 100px 200px)';
const PAGES: Record<string, string> = {
  // Wider than the viewport and very tall, as in the issue.
  '/tall-wide': page(`<div style="width:1000px;height:20000px;background:${STRIPES}"></div>`),
  '/tall-narrow': page(`<div style="width:200px;height:20000px;background:${STRIPES}"></div>`),
  '/tall-element': page(`<div id="big" style="width:333px;height:20000px;background:${STRIPES}"></div>`),
  '/short': page('<p>one page</p>'),
  // Two A4 sheets exactly: as long as the limit allows, yet not cut.
  '/two-sheets': page('<div style="height:1600px;background:#eee">two pages</div>'),
};

async function imageOf(response: Response): Promise<{ width: number; height: number }> {
  const bytes = Buffer.from(await response.arrayBuffer());
  assert.equal(response.status, 200, bytes.toString('utf8').slice(0, 300));
  const { width, height } = await sharp(bytes, { limitInputPixels: false }).metadata();
  return { width: width ?? 0, height: height ?? 0 };
}

describe('SNAPWIRE_MAX_OUTPUT_PIXELS counts image pixels: device_scale_factor cannot escape it (issue 18)', () => {
  let fixtures: FixtureServer;
  let service: TestService;
  const url = (path: string) => `${fixtures.origin}${path}`;

  before(async () => {
    const routes = Object.fromEntries(
      Object.entries(PAGES).map(([path, html]) => [
        path,
        (_req: unknown, res: import('node:http').ServerResponse) =>
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html),
      ]),
    );
    fixtures = await startFixtureServer({ routes });
    service = await startService({
      SNAPWIRE_MAX_OUTPUT_PIXELS: String(BUDGET),
      SNAPWIRE_MAX_FULLPAGE_HEIGHT: String(MAX_FULLPAGE_HEIGHT),
    });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  it('a tall, wide page at device_scale_factor=2 (fullpage) gives an image within the budget, cut, with the header', async () => {
    const response = await screenshot(service.baseUrl, {
      url: url('/tall-wide'),
      capture: 'fullpage',
      device_scale_factor: '2',
      resolution: '800x600',
      rendering_wait: '0',
    });
    const { width, height } = await imageOf(response);
    assert.equal(width, 2000, 'the whole 1000 px width, at twice the density');
    assert.ok(width * height <= BUDGET, `${width}x${height} = ${width * height} pixels is within ${BUDGET}`);
    assert.equal(height, 1000, 'as tall as the budget allows');
    assert.equal(response.headers.get('x-snapwire-truncated-from-height'), '20000');
  });

  it('capture=vertical at device_scale_factor=2 stays within the budget too', async () => {
    const response = await screenshot(service.baseUrl, {
      url: url('/tall-wide'),
      capture: 'vertical',
      device_scale_factor: '2',
      resolution: '800x600',
      rendering_wait: '0',
    });
    const { width, height } = await imageOf(response);
    assert.equal(width, 1600);
    assert.ok(width * height <= BUDGET, `${width}x${height} is within ${BUDGET} pixels`);
    assert.ok(height >= 1248, `${height} px: the budget is used, not wasted`);
    assert.equal(response.headers.get('x-snapwire-truncated-from-height'), '20000');
  });

  it('SNAPWIRE_MAX_FULLPAGE_HEIGHT counts image pixels: a narrow page at scale 2 stops at that many', async () => {
    const response = await screenshot(service.baseUrl, {
      url: url('/tall-narrow'),
      capture: 'fullpage',
      device_scale_factor: '2',
      resolution: '200x300',
      rendering_wait: '0',
    });
    const { width, height } = await imageOf(response);
    assert.equal(width, 400);
    assert.equal(height, MAX_FULLPAGE_HEIGHT);
    assert.equal(response.headers.get('x-snapwire-truncated-from-height'), '20000');
  });

  it('an element capture at a fractional scale is cut to the budget, with the header', async () => {
    const response = await screenshot(service.baseUrl, {
      url: url('/tall-element'),
      capture: '#big',
      device_scale_factor: '1.5',
      resolution: '800x600',
      rendering_wait: '0',
    });
    const { width, height } = await imageOf(response);
    assert.equal(width, 500, '333 CSS px at 1.5');
    assert.ok(width * height <= BUDGET, `${width}x${height} = ${width * height} is within ${BUDGET} pixels`);
    assert.ok(height >= 3990, `${height} px: the budget is used`);
    assert.equal(response.headers.get('x-snapwire-truncated-from-height'), '20000');
  });

  it('a viewport over the budget at its scale is refused with a 400 that says what to lower; within it, captured', async () => {
    const over = await screenshot(service.baseUrl, {
      url: url('/short'),
      resolution: '1280x720',
      device_scale_factor: '2',
    });
    assert.equal(over.status, 400);
    const body = (await over.json()) as { code: string; reason: string };
    assert.equal(body.code, 'ERR::SCRAPE::CONFIG_ERROR');
    assert.match(body.reason, /2560x1440 image \(3,686,400 pixels\)/);
    assert.match(body.reason, /at most 2,000,000 pixels an image \(SNAPWIRE_MAX_OUTPUT_PIXELS\)/);
    assert.match(body.reason, /lower the resolution or the device_scale_factor/);

    // A device preset carries its own density (iPhone 15: 393x659 at 3, so 1179x1977).
    const device = await screenshot(service.baseUrl, { url: url('/short'), viewport_device: 'iPhone 15' });
    assert.equal(device.status, 400);
    assert.match(
      ((await device.json()) as { reason: string }).reason,
      /at device_scale_factor 3 \(viewport_device "iPhone 15"\) makes a 1179x1977 image/,
    );

    const within = await screenshot(service.baseUrl, {
      url: url('/short'),
      resolution: '1280x720',
      rendering_wait: '0',
    });
    assert.deepEqual(await imageOf(within), { width: 1280, height: 720 });
  });

  it('a PDF holds the pages the limits allow and says where it stopped; a short document is whole', async () => {
    // A4 at 96 CSS px an inch is 794x1123: two sheets fit in 3,000 px of length and 2,000,000 pixels.
    const long = await screenshot(service.baseUrl, {
      url: url('/tall-wide'),
      format: 'pdf',
      rendering_wait: '0',
    });
    const bytes = Buffer.from(await long.arrayBuffer());
    assert.equal(long.status, 200, bytes.toString('utf8').slice(0, 300));
    const pdf = await getDocument({ data: new Uint8Array(bytes), useSystemFonts: false }).promise;
    assert.equal(pdf.numPages, 2);
    await pdf.destroy();
    assert.equal(long.headers.get('x-snapwire-truncated-at-page'), '2');

    const short = await screenshot(service.baseUrl, {
      url: url('/short'),
      format: 'pdf',
      rendering_wait: '0',
    });
    const shortBytes = Buffer.from(await short.arrayBuffer());
    assert.equal(short.status, 200);
    const shortPdf = await getDocument({ data: new Uint8Array(shortBytes), useSystemFonts: false }).promise;
    assert.equal(shortPdf.numPages, 1);
    await shortPdf.destroy();
    assert.equal(short.headers.get('x-snapwire-truncated-at-page'), null);

    const exact = await screenshot(service.baseUrl, {
      url: url('/two-sheets'),
      format: 'pdf',
      rendering_wait: '0',
    });
    const exactBytes = Buffer.from(await exact.arrayBuffer());
    assert.equal(exact.status, 200, exactBytes.toString('utf8').slice(0, 300));
    const exactPdf = await getDocument({ data: new Uint8Array(exactBytes), useSystemFonts: false }).promise;
    assert.equal(exactPdf.numPages, 2);
    await exactPdf.destroy();
    assert.equal(exact.headers.get('x-snapwire-truncated-at-page'), null, 'nothing was left out');
  });
});
