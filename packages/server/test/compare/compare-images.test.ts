import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pixelmatch from 'pixelmatch';
import sharp from 'sharp';
import { compareImages } from '../../src/compare/compare-images.js';
import { compareText } from '../../src/compare/compare-text.js';
import { ApiError } from '../../src/errors.js';

const WIDTH = 400;
const HEIGHT = 300;

interface Block {
  x: number;
  y: number;
  width: number;
  height: number;
  colour: string;
}

/** A page-like PNG: white, a grey header bar, some text lines as dark bars, and the given blocks on top. */
async function page(blocks: Block[] = [], size = { width: WIDTH, height: HEIGHT }): Promise<Buffer> {
  const lines = Array.from({ length: Math.floor((size.height - 60) / 20) }, (_, i) => ({
    x: 20,
    y: 60 + i * 20,
    width: 200 + ((i * 37) % 150),
    height: 8,
    colour: '#333333',
  }));
  const shapes = [{ x: 0, y: 0, width: size.width, height: 40, colour: '#dddddd' }, ...lines, ...blocks];
  const rects = shapes
    .map((b) => `<rect x="${b.x}" y="${b.y}" width="${b.width}" height="${b.height}" fill="${b.colour}"/>`)
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}"><rect width="100%" height="100%" fill="#ffffff"/>${rects}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

async function pixelAt(png: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [...data.subarray(at, at + 3)];
}

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiError, `a catalogue error, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

describe('compareImages', () => {
  it('finds a block covering 1 % of the page, with its box, and draws it red on the diff', async () => {
    const before = await page();
    // 30 x 40 = 1200 pixels = 1 % of 400 x 300, on the white right side of the page.
    const after = await page([{ x: 340, y: 100, width: 30, height: 40, colour: '#0055cc' }]);
    const result = await compareImages(before, after);
    assert.equal(result.changed, true);
    assert.equal(result.changedPixels, 1200);
    assert.equal(result.score, 0.01);
    assert.deepEqual(result.regions, [{ x: 340, y: 100, width: 30, height: 40 }]);
    assert.deepEqual([result.width, result.height, result.heightChange], [WIDTH, HEIGHT, 0]);
    const diff = await sharp(result.diffPng).metadata();
    assert.deepEqual([diff.format, diff.width, diff.height], ['png', WIDTH, HEIGHT]);
    assert.deepEqual(await pixelAt(result.diffPng, 355, 120), [255, 0, 0], 'changed pixel is red');
    const background = await pixelAt(result.diffPng, 10, 10);
    assert.ok(background[0] === background[1] && background[1] === background[2], 'unchanged is grey');
    assert.ok(background[0]! > 200, 'and dimmed towards white');
  });

  it('scores identical images 0, with no region', async () => {
    const image = await page();
    const result = await compareImages(image, Buffer.from(image));
    assert.deepEqual([result.changed, result.score, result.changedPixels, result.regions], [false, 0, 0, []]);
  });

  it('counts a small change below the change threshold as unchanged, and above a lower one as changed', async () => {
    const before = await page();
    const after = await page([{ x: 350, y: 200, width: 5, height: 5, colour: '#000000' }]);
    const lenient = await compareImages(before, after);
    assert.equal(lenient.changedPixels, 25);
    assert.equal(lenient.changed, false, '25 / 120000 is under 0.1 %');
    const strict = await compareImages(before, after, { changeThreshold: 0.0001 });
    assert.equal(strict.changed, true);
  });

  it('does not count anti-aliased edge noise (shapes moved by a fraction of a pixel)', async () => {
    const shapes = (shift: number) =>
      Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}"><rect width="100%" height="100%" fill="#fff"/>` +
          Array.from(
            { length: 12 },
            (_, i) =>
              `<circle cx="${30 + i * 30 + shift}" cy="${80 + shift}" r="12" fill="#222"/>` +
              `<line x1="${10 + shift}" y1="${150 + i * 10}" x2="${390 + shift}" y2="${160 + i * 10}" stroke="#222" stroke-width="1.5"/>`,
          ).join('') +
          '</svg>',
      );
    const before = await sharp(shapes(0)).png().toBuffer();
    const after = await sharp(shapes(0.3)).png().toBuffer();
    const [a, b] = await Promise.all([before, after].map((png) => sharp(png).raw().toBuffer()));
    let differing = 0;
    for (let i = 0; i < a!.length; i += 4) if (a!.readUInt32LE(i) !== b!.readUInt32LE(i)) differing++;
    assert.ok(differing > 500, `the shift changes many edge pixels (${differing})`);
    const result = await compareImages(before, after);
    assert.equal(result.changed, false, `score ${result.score}`);
    assert.ok(result.changedPixels < differing / 10, `${result.changedPixels} of ${differing} counted`);
  });

  it('counts exactly what pixelmatch counts over the whole images (only differing rows are compared)', async () => {
    const before = await page();
    const after = await page([
      { x: 0, y: 0, width: 3, height: 3, colour: '#123' },
      { x: 100, y: 45, width: 250, height: 30, colour: '#c00' },
      { x: 397, y: 297, width: 3, height: 3, colour: '#123' },
    ]);
    const [a, b] = await Promise.all([before, after].map((png) => sharp(png).ensureAlpha().raw().toBuffer()));
    const whole = pixelmatch(b!, a!, null, WIDTH, HEIGHT, { threshold: 0.1 });
    assert.ok(whole > 0);
    assert.equal((await compareImages(before, after)).changedPixels, whole);
  });

  it('leaves ignore rectangles out, of the count and of the compared pixels', async () => {
    const before = await page([{ x: 300, y: 50, width: 80, height: 20, colour: '#aa0000' }]);
    const after = await page([
      { x: 300, y: 50, width: 80, height: 20, colour: '#00aa00' },
      { x: 350, y: 200, width: 10, height: 10, colour: '#000000' },
    ]);
    const ignored = { x: 290, y: 40, width: 100, height: 40 };
    const result = await compareImages(before, after, { ignore: [ignored] });
    assert.equal(result.changedPixels, 100, 'only the block outside the ignored area');
    assert.equal(result.score, 100 / (WIDTH * HEIGHT - 100 * 40));
    assert.deepEqual(result.regions, [{ x: 350, y: 200, width: 10, height: 10 }]);
    const unmasked = await compareImages(before, after);
    assert.equal(unmasked.changedPixels, 80 * 20 + 100);
  });

  it('compares images of different heights over the shared area and reports the size change', async () => {
    const before = await page();
    const after = await page([], { width: WIDTH, height: HEIGHT + 60 });
    const result = await compareImages(before, after, { changeThreshold: 0.01 });
    assert.deepEqual([result.width, result.height], [WIDTH, HEIGHT]);
    assert.deepEqual(result.before, { width: WIDTH, height: HEIGHT });
    assert.deepEqual(result.after, { width: WIDTH, height: HEIGHT + 60 });
    assert.equal(result.heightChange, 60);
    // The shared area: the same header and the same first lines; the taller page has more lines below.
    assert.equal(result.changedPixels, 0);
    assert.equal(result.changed, true, '60 of 360 rows could not be compared: over 1 %');
    const shorter = await compareImages(after, before, { changeThreshold: 0.5 });
    assert.equal(shorter.heightChange, -60);
    assert.equal(shorter.changed, false, 'a sixth of the page is under a 50 % threshold');
    assert.equal((await sharp(result.diffPng).metadata()).height, HEIGHT);
  });

  it('merges nearby changes into one region, keeps distant ones apart, and caps the count', async () => {
    const before = await page();
    const near = await page([
      { x: 300, y: 60, width: 10, height: 10, colour: '#000' },
      { x: 315, y: 60, width: 10, height: 10, colour: '#000' },
      { x: 300, y: 250, width: 10, height: 10, colour: '#000' },
    ]);
    const grouped = await compareImages(before, near);
    assert.deepEqual(grouped.regions, [
      { x: 300, y: 60, width: 25, height: 10 },
      { x: 300, y: 250, width: 10, height: 10 },
    ]);
    const dots = Array.from({ length: 200 }, (_, i) => ({
      x: (i % 20) * 20,
      y: Math.floor(i / 20) * 30,
      width: 2,
      height: 2,
      colour: '#f0f',
    }));
    const scattered = await compareImages(before, await page(dots));
    assert.ok(scattered.regions.length > 1 && scattered.regions.length <= 50, `${scattered.regions.length}`);
    for (const dot of dots) {
      assert.ok(
        scattered.regions.some(
          (r) => r.x <= dot.x && dot.x < r.x + r.width && r.y <= dot.y && dot.y < r.y + r.height,
        ),
        `dot at ${dot.x},${dot.y} is inside a region`,
      );
    }
  });

  it('refuses a PDF, or bytes that are no image, with a catalogue error naming which side', async () => {
    const image = await page();
    const pdf = Buffer.from(
      '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
    );
    const refusedPdf = await refusal(compareImages(image, pdf));
    assert.equal(refusedPdf.code, 'ERR::COMPARE::NOT_AN_IMAGE');
    assert.equal(refusedPdf.definition.httpStatus, 422);
    assert.equal(refusedPdf.definition.retryable, false);
    assert.match(refusedPdf.reason, /after capture is a PDF.*png, jpg, webp or gif/);
    const refusedText = await refusal(compareImages(Buffer.from('<html>hello</html>'), image));
    assert.equal(refusedText.code, 'ERR::COMPARE::NOT_AN_IMAGE');
    assert.match(refusedText.reason, /^The before capture/);
  });

  it('refuses thresholds outside 0..1 and malformed ignore rectangles', async () => {
    const image = await page();
    for (const options of [
      { pixelThreshold: 2 },
      { changeThreshold: -0.1 },
      { ignore: [{ x: 1, y: 1, width: 0, height: 4 }] },
      { ignore: [{ x: -1, y: 1, width: 3, height: 4 }] },
    ]) {
      const error = await refusal(compareImages(image, image, options));
      assert.equal(error.code, 'ERR::COMPARE::CONFIG_ERROR', JSON.stringify(options));
      assert.equal(error.definition.httpStatus, 400);
    }
  });

  it('compares jpg and webp captures too', async () => {
    const before = await sharp(await page())
      .jpeg({ quality: 90 })
      .toBuffer();
    const after = await sharp(await page([{ x: 300, y: 100, width: 40, height: 40, colour: '#000' }]))
      .webp({ lossless: true })
      .toBuffer();
    const result = await compareImages(before, after);
    assert.equal(result.changed, true);
    assert.equal(result.regions.length, 1);
    const [region] = result.regions;
    assert.ok(Math.abs(region!.x - 300) <= 2 && Math.abs(region!.y - 100) <= 2, JSON.stringify(region));
  });
});

describe('compareText', () => {
  it('names the words added and removed', () => {
    const result = compareText('Price: 10 EUR, in stock', 'Price: 12 EUR, sold out');
    assert.equal(result.changed, true);
    assert.deepEqual(result.removed, ['10', 'in', 'stock']);
    assert.deepEqual(result.added, ['12', 'sold', 'out']);
    assert.equal(result.changedWords, 6);
  });

  it('sees no change in equal texts or in whitespace alone', () => {
    assert.deepEqual(compareText('a b c', 'a b c'), {
      changed: false,
      added: [],
      removed: [],
      changedWords: 0,
    });
    assert.equal(compareText('a  b\nc', 'a b c').changed, false);
  });
});
