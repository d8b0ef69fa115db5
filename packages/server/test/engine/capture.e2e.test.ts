import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import type { Decoded } from '../helpers/images.js';
import { MAGIC } from '../helpers/images.js';
import { startService, type TestService } from '../helpers/service.js';
import {
  BLUE,
  GREEN,
  GREY,
  RED,
  WHITE,
  assertColor,
  engineRoutes,
  expectImage,
  near,
  runLength,
  shoot,
  type RGB,
} from './support.js';

/**
 * The hard cases of a capture, each on a fixture page served on loopback, each judged on the pixels of
 * the image (sizes, colours at known points, what must be there and what must not).
 */
describe('engine: captures of the hard cases, judged on pixels', () => {
  let service: TestService;
  let fixtures: FixtureServer;

  before(async () => {
    fixtures = await startFixtureServer({
      routes: {
        ...(await engineRoutes()),
        '/engine/plain.txt': (_req, res) =>
          res
            .writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
            .end('plain text is a text/* document\n'),
      },
    });
    service = await startService();
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  const url = (name: string) => `${fixtures.origin}/${name}`;

  it('lazy-loaded images and content appear with auto_scroll, and the capture starts at the top', async () => {
    const params = { url: url('engine-lazy'), capture: 'fullpage', format: 'png', resolution: '800x600' };
    const plain = expectImage(await shoot(service, params));
    assert.deepEqual([plain.width, plain.height], [800, 5700]);
    assertColor(
      plain,
      200,
      5100 + 150,
      GREY,
      'without auto_scroll the JavaScript-lazy image is still a placeholder',
    );
    assertColor(plain, 200, 5400 + 150, GREY, 'without auto_scroll the lazy content is not there');

    const scrolled = expectImage(await shoot(service, { ...params, auto_scroll: 'true' }));
    assert.deepEqual([scrolled.width, scrolled.height], [800, 5700]);
    assertColor(scrolled, 200, 2400 + 150, RED, 'the native lazy image (loading=lazy) loaded');
    assertColor(scrolled, 200, 5100 + 150, BLUE, 'the JavaScript-lazy image loaded');
    assertColor(scrolled, 200, 5400 + 150, GREEN, 'the content added on scroll is there');
    assertColor(scrolled, 400, 10, [221, 221, 221], 'the page is captured from the top');
  });

  it('a 30,000 px tall page is captured whole, in sections stitched without seams or repeats', async () => {
    const shot = await shoot(service, {
      url: url('engine-tall-30000'),
      capture: 'fullpage',
      resolution: '800x600',
    });
    const image = expectImage(shot);
    assert.ok(MAGIC.jpg(shot.bytes), 'jpg by default');
    assert.deepEqual([image.width, image.height], [800, 30_000]);
    const bands: RGB[] = [RED, [0, 255, 0], BLUE, [255, 255, 0], [255, 0, 255], [0, 255, 255]];
    // Every band, including both sides of each 8192 px section boundary.
    for (const y of [500, 8191, 8193, 16383, 16385, 20_500, 24_575, 24_577, 29_990]) {
      assertColor(
        image,
        400,
        y,
        bands[Math.floor(y / 1000) % 6] as RGB,
        `band ${Math.floor(y / 1000)} at y=${y}`,
        48,
      );
    }
  });

  it('webp cannot hold more than 16383 px: the same page in webp is cut there', async () => {
    const image = expectImage(
      await shoot(service, {
        url: url('engine-tall-30000'),
        capture: 'fullpage',
        format: 'webp',
        resolution: '800x600',
      }),
    );
    assert.deepEqual([image.width, image.height], [800, 16_383]);
    assertColor(image, 400, 16_300, [255, 0, 255], 'band 16', 48);
  });

  it('fullpage widens for a wide page; vertical keeps the viewport width', async () => {
    const params = { url: url('engine-wide'), format: 'png', resolution: '800x600' };
    const full = expectImage(await shoot(service, { ...params, capture: 'fullpage' }));
    assert.deepEqual([full.width, full.height], [1500, 2000]);
    assertColor(full, 1200, 1000, RED, 'the part beyond the viewport width');
    const vertical = expectImage(await shoot(service, { ...params, capture: 'vertical' }));
    assert.deepEqual([vertical.width, vertical.height], [800, 2000]);
    assertColor(vertical, 790, 1990, GREEN, 'the whole height at the viewport width');
  });

  it('block_banners dismisses a consent pop-up (rules shipped in @duckduckgo/autoconsent)', async () => {
    const params = { url: url('engine-cookie-banner'), format: 'png', resolution: '800x600' };
    const shown = expectImage(await shoot(service, params));
    assertColor(shown, 400, 500, [255, 0, 255], 'without the option the banner covers the bottom');
    const blocked = expectImage(await shoot(service, { ...params, options: 'block_banners' }));
    assertColor(blocked, 400, 500, [0, 128, 255], 'with block_banners the page is seen where the banner was');
    assertColor(blocked, 400, 580, [0, 128, 255], 'and no part of the banner is left');
  });

  it('waits for a slow web font, and the font is the one the page asked for', async () => {
    const loaded = expectImage(
      await shoot(service, { url: url('engine-webfont'), format: 'png', resolution: '800x200' }),
    );
    const width = runLength(loaded, 30, 0, GREEN);
    assert.ok(
      width >= 470 && width <= 495,
      `20 glyphs of a 0.6 em monospace font at 40 px are ~480 px wide; got ${width}`,
    );
    const fallback = expectImage(
      await shoot(service, { url: url('engine-webfont-missing'), format: 'png', resolution: '800x200' }),
    );
    const other = runLength(fallback, 30, 0, GREEN);
    assert.ok(Math.abs(other - width) > 40, `a fallback font gives another width (${other} vs ${width})`);
  });

  it('renders Latin, CJK and emoji with real glyphs (no empty boxes)', async () => {
    const image = expectImage(
      await shoot(service, { url: url('engine-scripts'), format: 'png', resolution: '1200x300' }),
    );
    const cell = (left: number) => {
      let dark = 0;
      let red = 0;
      let rowsWithInk = 0;
      let longestRun = 0;
      for (let y = 0; y < 300; y += 1) {
        let inkInRow = 0;
        let run = 0;
        for (let x = left; x < left + 300; x += 1) {
          const [r, g, b] = image.pixel(x, y);
          const isDark = r < 100 && g < 100 && b < 100;
          if (isDark) dark += 1;
          if (r > 170 && g < 90 && b < 90) red += 1;
          if (!near([r, g, b], WHITE, 60)) inkInRow += 1;
          run = isDark ? run + 1 : 0;
          longestRun = Math.max(longestRun, run);
        }
        if (inkInRow > 0) rowsWithInk += 1;
      }
      return { dark, red, rowsWithInk, longestRun };
    };
    const latin = cell(0);
    assert.ok(latin.dark > 2000, `the Latin H has ink (${latin.dark} dark pixels)`);
    const one = cell(300);
    assert.ok(
      one.longestRun >= 120,
      `一 is one long horizontal stroke (longest dark run ${one.longestRun} px)`,
    );
    assert.ok(
      one.rowsWithInk <= 60,
      `and only a thin band of rows has ink, not the outline of a box (${one.rowsWithInk} rows)`,
    );
    const emoji = cell(600);
    assert.ok(emoji.red > 3000, `the apple emoji is drawn in colour (${emoji.red} red pixels)`);
    const han = cell(900);
    assert.ok(
      han.dark > 3000 && han.rowsWithInk > 120,
      `漢 is a dense glyph (${han.dark} dark px over ${han.rowsWithInk} rows)`,
    );
  });

  it('dark_mode switches dark-mode-aware CSS (prefers-color-scheme)', async () => {
    const params = { url: url('engine-color-scheme'), format: 'png', resolution: '400x400' };
    const light = expectImage(await shoot(service, params));
    assertColor(light, 10, 10, WHITE, 'light background');
    assertColor(light, 150, 150, BLUE, 'light swatch');
    const dark = expectImage(await shoot(service, { ...params, options: 'dark_mode' }));
    assertColor(dark, 10, 10, [16, 16, 16], 'dark background', 20);
    assertColor(dark, 150, 150, [255, 165, 0], 'dark swatch');
  });

  it('print_media_format applies print CSS', async () => {
    const params = { url: url('engine-print'), format: 'png', resolution: '600x400' };
    const screen = expectImage(await shoot(service, params));
    assertColor(screen, 150, 150, RED, 'screen-only block');
    assertColor(screen, 500, 300, [0, 128, 255], 'screen background');
    const print = expectImage(await shoot(service, { ...params, options: 'print_media_format' }));
    assertColor(print, 150, 150, GREEN, 'print-only block');
    assertColor(print, 500, 300, WHITE, 'print background');
  });

  it('captures an element found only by XPath (and waits for it by XPath)', async () => {
    const image = expectImage(
      await shoot(service, {
        url: url('engine-xpath'),
        format: 'png',
        capture: '//li[text()="the one"]',
        wait_for_selector: '//ul/li[3]',
      }),
    );
    assert.deepEqual([image.width, image.height], [260, 70]);
    assertColor(image, 130, 35, [255, 136, 0], 'the orange third item');
  });

  it('waits for a slow image before capturing', async () => {
    const started = Date.now();
    const image = expectImage(
      await shoot(service, { url: url('engine-slow-image'), format: 'png', resolution: '800x600' }),
    );
    assertColor(image, 200, 150, GREEN, 'the slow image is in the capture');
    assert.ok(Date.now() - started >= 1_400, 'the capture waited for it');
  });

  it('emulates all six vision deficiencies through CDP', async () => {
    const params = { url: url('engine-vision'), format: 'png', resolution: '600x200' };
    const swatches = (image: Decoded) => ({
      red: image.pixel(50, 50),
      green: image.pixel(150, 50),
      blue: image.pixel(250, 50),
      black: image.pixel(350, 50),
      white: image.pixel(450, 50),
      yellow: image.pixel(550, 50),
      edge: image.pixel(100, 50),
    });
    const distance = (a: RGB, b: RGB) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    const none = swatches(expectImage(await shoot(service, params)));
    assert.ok(
      near(none.red, RED, 10) && near(none.green, [0, 255, 0], 10),
      'unchanged without the parameter',
    );
    const as = async (kind: string) =>
      swatches(expectImage(await shoot(service, { ...params, vision_deficiency: kind })));

    const achromatopsia = await as('achromatopsia');
    const [r, g, b] = achromatopsia.red;
    assert.ok(
      Math.abs(r - g) < 12 && Math.abs(g - b) < 12,
      `achromatopsia: red turns grey (${achromatopsia.red})`,
    );
    // Red-green blindness: both red and green land on the same (yellow-brown) hue, r close to g, where
    // they were opposite before (protanopia also darkens red, so compare hues, not distances).
    const redGreenHue = (rgb: RGB) => Math.abs(rgb[0] - rgb[1]) / Math.max(1, rgb[0], rgb[1]);
    assert.ok(redGreenHue(none.red) > 0.9 && redGreenHue(none.green) > 0.9);
    for (const kind of ['deuteranopia', 'protanopia']) {
      const seen = await as(kind);
      assert.ok(
        redGreenHue(seen.red) < 0.25 && redGreenHue(seen.green) < 0.25,
        `${kind}: red and green take the same hue (${seen.red} vs ${seen.green})`,
      );
    }
    const tritanopia = await as('tritanopia');
    assert.ok(distance(tritanopia.blue, none.blue) > 60, `tritanopia: blue shifts (${tritanopia.blue})`);
    assert.ok(distance(tritanopia.red, tritanopia.green) > 150, 'tritanopia: red and green stay apart');
    const blurred = await as('blurredVision');
    assert.ok(
      distance(blurred.edge, none.red) > 30 && distance(blurred.edge, none.green) > 30,
      `blurredVision: the red/green edge is blurred (${blurred.edge})`,
    );
    const reduced = await as('reducedContrast');
    assert.ok(
      distance(reduced.black, reduced.white) < distance(none.black, none.white) * 0.8,
      `reducedContrast: black and white come closer (${reduced.black} vs ${reduced.white})`,
    );
  });

  it('captures any text/* document (text/plain here)', async () => {
    const image = expectImage(
      await shoot(service, { url: url('engine/plain.txt'), format: 'png', resolution: '400x200' }),
    );
    assert.deepEqual([image.width, image.height], [400, 200]);
  });
});

describe('engine: images blocked by the operator (SNAPWIRE_LOAD_IMAGES=false)', () => {
  let service: TestService;
  let fixtures: FixtureServer;

  before(async () => {
    fixtures = await startFixtureServer({ routes: await engineRoutes() });
    service = await startService({ SNAPWIRE_LOAD_IMAGES: 'false' });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  it('does not load images unless the request asks for options=load_images', async () => {
    const params = { url: `${fixtures.origin}/engine-slow-image`, format: 'png', resolution: '800x600' };
    const started = Date.now();
    const blocked = expectImage(await shoot(service, params));
    assertColor(blocked, 200, 150, GREY, 'no image, only its placeholder background');
    assert.ok(Date.now() - started < 1_400 + 5_000, 'and the slow image did not hold the capture back');
    const asked = expectImage(await shoot(service, { ...params, options: 'load_images' }));
    assertColor(asked, 200, 150, GREEN, 'options=load_images loads it');
  });
});
