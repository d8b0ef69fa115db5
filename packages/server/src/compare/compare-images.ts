import pixelmatch from 'pixelmatch';
import sharp from 'sharp';
import { ApiError } from '../errors.js';
import { ChangedRegions, type PixelRect } from './changed-regions.js';
import { decodeArea, readImageSize, type ImageSize } from './decode-image.js';

export type { PixelRect } from './changed-regions.js';

export interface CompareImagesOptions {
  /** pixelmatch's per-pixel colour threshold, 0..1 (default 0.1); anti-aliased pixels are never counted. */
  pixelThreshold?: number;
  /** Share of changed pixels above which `changed` is true, 0..1 (default 0.001, 0.1 %). */
  changeThreshold?: number;
  /** Rectangles (in pixels of the images) left out of the comparison in both images. */
  ignore?: PixelRect[];
}

export interface ImageComparison {
  changed: boolean;
  /** Changed pixels / compared pixels (the shared area less the ignored rectangles), 0..1. */
  score: number;
  changedPixels: number;
  /** The compared area: the top-left part both images share. */
  width: number;
  height: number;
  before: ImageSize;
  after: ImageSize;
  /** after.height - before.height. */
  heightChange: number;
  /** Boxes around clusters of changed pixels, top to bottom, at most MAX_REGIONS. */
  regions: PixelRect[];
  /** PNG of the compared area: the after-image dimmed to grey, changed pixels in red. */
  diffPng: Buffer;
}

export const DEFAULT_PIXEL_THRESHOLD = 0.1;
export const DEFAULT_CHANGE_THRESHOLD = 0.001;
export const MAX_REGIONS = 50;
/**
 * pixelmatch decides whether a pixel is anti-aliasing from its neighbours up to two pixels away, so a band
 * of changed rows is compared with two unchanged rows of context on each side: the count is the same as a
 * comparison of the whole images.
 */
const CONTEXT_ROWS = 2;
/** The diff image: the after-image's luminance at this opacity over white, as pixelmatch draws it. */
const DIFF_BACKGROUND_OPACITY = 0.3;

/**
 * Compares two screenshots for visual regression. Both are decoded (sharp) to RGBA and compared with
 * pixelmatch over the area they share; images of different sizes are compared over that area, and the
 * part only one of them has counts towards `changed` like changed pixels do. Only the bands of rows that
 * differ byte for byte go through pixelmatch, which is what makes a mostly unchanged long page fast.
 */
export async function compareImages(
  before: Buffer,
  after: Buffer,
  options: CompareImagesOptions = {},
): Promise<ImageComparison> {
  const pixelThreshold = checkShare(options.pixelThreshold, DEFAULT_PIXEL_THRESHOLD, 'pixelThreshold');
  const changeThreshold = checkShare(options.changeThreshold, DEFAULT_CHANGE_THRESHOLD, 'changeThreshold');
  const [beforeSize, afterSize] = await Promise.all([
    readImageSize(before, 'before'),
    readImageSize(after, 'after'),
  ]);
  const width = Math.min(beforeSize.width, afterSize.width);
  const height = Math.min(beforeSize.height, afterSize.height);
  const area = { width, height };
  const ignoreMask = maskOf(options.ignore ?? [], width, height);
  const [beforePixels, afterPixels] = await Promise.all([
    decodeArea(before, 'before', area),
    decodeArea(after, 'after', area),
  ]);
  const regions = new ChangedRegions(width, height);
  // One byte per pixel of the compared area, 1 where it changed; allocated when a band differs.
  let changedMask: Uint8Array | undefined;
  let changedPixels = 0;
  const rowBytes = width * 4;
  for (const band of differingBands(beforePixels, afterPixels, width, height)) {
    changedMask ??= new Uint8Array(width * height);
    const rows = band.end - band.start;
    const from = band.start * rowBytes;
    const to = band.end * rowBytes;
    // Its own ArrayBuffer (a Buffer may sit unaligned in the shared pool): read as one word per pixel.
    const output = new Uint8Array(to - from);
    changedPixels += pixelmatch(
      afterPixels.subarray(from, to),
      beforePixels.subarray(from, to),
      output,
      width,
      rows,
      {
        threshold: pixelThreshold,
        includeAA: false,
        diffMask: true,
        ignoreMask: ignoreMask?.subarray(band.start * width, band.end * width),
      },
    );
    const drawn = new Uint32Array(output.buffer);
    const first = band.start * width;
    for (let pixel = 0; pixel < drawn.length; pixel++) {
      if (drawn[pixel] === 0) continue;
      changedMask[first + pixel] = 1;
      regions.add(pixel % width, band.start + ((pixel / width) | 0));
    }
  }

  const diffPng = await sharp(diffImage(afterPixels, changedMask), { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 2, adaptiveFiltering: false })
    .toBuffer();

  const comparedPixels = width * height - countMasked(ignoreMask);
  const score = comparedPixels === 0 ? 0 : changedPixels / comparedPixels;
  const outside = uncomparedShare(beforeSize, afterSize);
  return {
    changed: score > changeThreshold || outside > changeThreshold,
    score,
    changedPixels,
    width,
    height,
    before: beforeSize,
    after: afterSize,
    heightChange: afterSize.height - beforeSize.height,
    regions: regions.boxes(MAX_REGIONS),
    diffPng,
  };
}

/** Rows [start, end) of the compared area. */
interface Band {
  start: number;
  end: number;
}

/** Runs of rows that differ byte for byte, widened by CONTEXT_ROWS and joined when they touch. */
function* differingBands(before: Buffer, after: Buffer, width: number, height: number): Generator<Band> {
  const rowBytes = width * 4;
  let start = -1;
  let end = -1;
  for (let row = 0; row < height; row++) {
    const from = row * rowBytes;
    if (before.subarray(from, from + rowBytes).equals(after.subarray(from, from + rowBytes))) continue;
    const bandStart = Math.max(0, row - CONTEXT_ROWS);
    const bandEnd = Math.min(height, row + 1 + CONTEXT_ROWS);
    if (start !== -1 && bandStart <= end) {
      end = bandEnd;
      continue;
    }
    if (start !== -1) yield { start, end };
    start = bandStart;
    end = bandEnd;
  }
  if (start !== -1) yield { start, end };
}

/**
 * The diff image as RGB: the after-image's luminance faded towards white (at DIFF_BACKGROUND_OPACITY, as
 * pixelmatch draws its background), changed pixels in red. One pass in integer arithmetic: sharp's recomb
 * and linear work in floating point and took five times as long as the whole comparison.
 */
function diffImage(afterPixels: Buffer, changedMask: Uint8Array | undefined): Buffer {
  const pixels = afterPixels.length >> 2;
  const out = Buffer.allocUnsafe(pixels * 3);
  const opacity = Math.round(DIFF_BACKGROUND_OPACITY * 256);
  const white = 255 - ((255 * opacity) >> 8);
  for (let pixel = 0, at = 0, to = 0; pixel < pixels; pixel++, at += 4, to += 3) {
    if (changedMask !== undefined && changedMask[pixel] === 1) {
      out[to] = 255;
      out[to + 1] = 0;
      out[to + 2] = 0;
      continue;
    }
    // Rec. 601 luma in 1/256 steps (77 + 150 + 29 = 256).
    const luma = (afterPixels[at]! * 77 + afterPixels[at + 1]! * 150 + afterPixels[at + 2]! * 29) >> 8;
    const grey = white + ((luma * opacity) >> 8);
    out[to] = grey;
    out[to + 1] = grey;
    out[to + 2] = grey;
  }
  return out;
}

/** One byte per pixel of the compared area, 1 where an ignore rectangle covers it (pixelmatch's mask). */
function maskOf(ignore: PixelRect[], width: number, height: number): Uint8Array | undefined {
  if (!Array.isArray(ignore))
    throw invalidOption('ignore must be a list of {x, y, width, height} rectangles');
  if (ignore.length === 0) return undefined;
  const mask = new Uint8Array(width * height);
  for (const rect of ignore) {
    const { x, y, width: w, height: h } = rect ?? ({} as PixelRect);
    if (![x, y, w, h].every((n) => Number.isInteger(n) && n >= 0) || w === 0 || h === 0) {
      throw invalidOption(
        `ignore rectangle ${JSON.stringify(rect)} is not valid: give whole, non-negative pixels {x, y, width, height} with a width and height of at least 1`,
      );
    }
    const right = Math.min(width, x + w);
    for (let row = y; row < Math.min(height, y + h); row++) {
      if (x < right) mask.fill(1, row * width + x, row * width + right);
    }
  }
  return mask;
}

function countMasked(mask: Uint8Array | undefined): number {
  if (!mask) return 0;
  let masked = 0;
  for (let i = 0; i < mask.length; i++) masked += mask[i]!;
  return masked;
}

/** The share of the larger (union) canvas that only one of the two images covers. */
function uncomparedShare(before: ImageSize, after: ImageSize): number {
  const union = Math.max(before.width, after.width) * Math.max(before.height, after.height);
  const shared = Math.min(before.width, after.width) * Math.min(before.height, after.height);
  return (union - shared) / union;
}

function checkShare(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw invalidOption(`${name} must be a number from 0 to 1, got ${String(value)}`);
  }
  return value;
}

function invalidOption(reason: string): ApiError {
  return new ApiError('ERR::COMPARE::CONFIG_ERROR', reason);
}
