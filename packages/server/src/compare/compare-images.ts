// Stand-in for the comparison engine of branch `compare` (same API); replaced when that branch is merged.
import sharp from 'sharp';

export interface PixelRect {
  x: number;
  y: number;
  width: number;
  height: number;
}
export interface CompareImagesOptions {
  pixelThreshold?: number;
  changeThreshold?: number;
  ignore?: PixelRect[];
}
export interface ImageComparison {
  changed: boolean;
  score: number;
  changedPixels: number;
  width: number;
  height: number;
  before: { width: number; height: number };
  after: { width: number; height: number };
  heightChange: number;
  regions: PixelRect[];
  diffPng: Buffer;
}

const CELL = 16;

export async function compareImages(
  before: Buffer,
  after: Buffer,
  options: CompareImagesOptions = {},
): Promise<ImageComparison> {
  const a = await sharp(before).metadata();
  const b = await sharp(after).metadata();
  const sizeA = { width: a.width ?? 0, height: a.height ?? 0 };
  const sizeB = { width: b.width ?? 0, height: b.height ?? 0 };
  const width = Math.max(sizeA.width, sizeB.width);
  const height = Math.max(sizeA.height, sizeB.height);
  const pa = await sharp(before)
    .ensureAlpha()
    .extend({
      right: width - sizeA.width,
      bottom: height - sizeA.height,
      background: { r: 0, g: 0, b: 0, alpha: 0 },
    })
    .raw()
    .toBuffer();
  const pb = await sharp(after)
    .ensureAlpha()
    .extend({
      right: width - sizeB.width,
      bottom: height - sizeB.height,
      background: { r: 0, g: 0, b: 0, alpha: 0 },
    })
    .raw()
    .toBuffer();
  const limit = (options.pixelThreshold ?? 0.1) * 255;
  const ignore = options.ignore ?? [];
  const ignored = (x: number, y: number) =>
    ignore.some((r) => x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height);
  const cols = Math.ceil(width / CELL);
  const rows = Math.ceil(height / CELL);
  const cells = new Map<number, PixelRect>();
  const diff = Buffer.alloc(width * height * 4);
  let changedPixels = 0;
  let counted = 0;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const i = (y * width + x) * 4;
      const grey = (pa[i]! + pa[i + 1]! + pa[i + 2]!) / 3;
      diff[i] = diff[i + 1] = diff[i + 2] = 255 - (255 - grey) / 4;
      diff[i + 3] = 255;
      if (ignored(x, y)) continue;
      counted += 1;
      const delta = Math.max(
        Math.abs(pa[i]! - pb[i]!),
        Math.abs(pa[i + 1]! - pb[i + 1]!),
        Math.abs(pa[i + 2]! - pb[i + 2]!),
        Math.abs(pa[i + 3]! - pb[i + 3]!),
      );
      if (delta <= limit) continue;
      changedPixels += 1;
      diff[i] = 255;
      diff[i + 1] = 0;
      diff[i + 2] = 0;
      const cell = Math.floor(y / CELL) * cols + Math.floor(x / CELL);
      const box = cells.get(cell);
      if (!box) cells.set(cell, { x, y, width: 1, height: 1 });
      else {
        const x2 = Math.max(box.x + box.width, x + 1);
        const y2 = Math.max(box.y + box.height, y + 1);
        box.x = Math.min(box.x, x);
        box.y = Math.min(box.y, y);
        box.width = x2 - box.x;
        box.height = y2 - box.y;
      }
    }
  }
  // Neighbouring changed cells form one region.
  const regions: PixelRect[] = [];
  const seen = new Set<number>();
  for (const start of cells.keys()) {
    if (seen.has(start)) continue;
    const stack = [start];
    seen.add(start);
    let box: PixelRect | undefined;
    while (stack.length > 0) {
      const cell = stack.pop()!;
      const r = cells.get(cell)!;
      box = box
        ? (() => {
            const x2 = Math.max(box.x + box.width, r.x + r.width);
            const y2 = Math.max(box.y + box.height, r.y + r.height);
            const x = Math.min(box.x, r.x);
            const y = Math.min(box.y, r.y);
            return { x, y, width: x2 - x, height: y2 - y };
          })()
        : { ...r };
      const cx = cell % cols;
      const cy = Math.floor(cell / cols);
      for (let dy = -1; dy <= 1; dy += 1) {
        for (let dx = -1; dx <= 1; dx += 1) {
          const nx = cx + dx;
          const ny = cy + dy;
          if (nx < 0 || ny < 0 || nx >= cols || ny >= rows) continue;
          const n = ny * cols + nx;
          if (cells.has(n) && !seen.has(n)) {
            seen.add(n);
            stack.push(n);
          }
        }
      }
    }
    if (box) regions.push(box);
  }
  const score = counted === 0 ? 0 : changedPixels / counted;
  const diffPng = await sharp(diff, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
  return {
    changed: changedPixels > 0 && score > (options.changeThreshold ?? 0),
    score,
    changedPixels,
    width,
    height,
    before: sizeA,
    after: sizeB,
    heightChange: sizeB.height - sizeA.height,
    regions,
    diffPng,
  };
}
