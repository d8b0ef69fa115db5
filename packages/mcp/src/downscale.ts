// Shrinks a screenshot for a model's context window. sharp (libvips) is fast and already the engine's
// image library; the original stays stored on the service and reachable by its screenshot URL.

import sharp from 'sharp';

export interface Downscaled {
  data: Buffer;
  mimeType: string;
  width: number;
  height: number;
  /** Whether the image was resized (false when it was already narrow enough). */
  resized: boolean;
}

const SAME_FORMAT: Record<string, 'jpeg' | 'png' | 'webp'> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
};

/** Models refuse images taller than this (a full-page capture can be 40,000 px), so it bounds the height. */
export const MAX_HEIGHT = 8000;

/**
 * Fits `image` into `maxWidth` pixels of width (and MAX_HEIGHT of height), keeping its aspect ratio and
 * format (a GIF becomes a PNG: models take still images). Never enlarges. Images that already fit are
 * passed through untouched.
 */
export async function downscale(image: Buffer, contentType: string, maxWidth: number): Promise<Downscaled> {
  const mime = contentType.split(';')[0]!.trim().toLowerCase();
  const metadata = await sharp(image).metadata();
  const width = metadata.width ?? 0;
  const height = metadata.pageHeight ?? metadata.height ?? 0;
  const format = SAME_FORMAT[mime];
  if (width <= maxWidth && height <= MAX_HEIGHT && format) {
    return { data: image, mimeType: mime, width, height, resized: false };
  }
  const { data, info } = await sharp(image, { pages: 1 })
    .resize({ width: maxWidth, height: MAX_HEIGHT, fit: 'inside', withoutEnlargement: true })
    .toFormat(format ?? 'png', format === 'jpeg' || format === 'webp' ? { quality: 80 } : {})
    .toBuffer({ resolveWithObject: true });
  return {
    data,
    mimeType: `image/${format ?? 'png'}`,
    width: info.width,
    height: info.height,
    resized: info.width !== width || !format,
  };
}
