import sharp from 'sharp';
import type { ImageFormat } from './capture-spec.js';
import type { Shot } from './screenshot.js';

/** JPEG and WebP quality, Chromium's and sharp's alike. */
export const QUALITY = 85;

export const CONTENT_TYPES: Record<ImageFormat, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  pdf: 'application/pdf',
};

/** png, jpeg and webp come straight from Chromium; gif (and stitched tall pages) go through sharp. */
export async function encode(shot: Shot, format: ImageFormat, transparent: boolean): Promise<Buffer> {
  if (!shot.sections && format !== 'gif') return shot.data;
  let image: sharp.Sharp;
  if (shot.sections) {
    image = sharp({
      create: {
        width: shot.width,
        height: shot.height,
        // omit_background: the sections carry alpha; the canvas under them must not paint it over.
        ...(transparent
          ? { channels: 4 as const, background: { r: 0, g: 0, b: 0, alpha: 0 } }
          : { channels: 3 as const, background: { r: 255, g: 255, b: 255 } }),
      },
      limitInputPixels: false,
    }).composite(shot.sections.map((section) => ({ input: section.data, top: section.top, left: 0 })));
  } else {
    image = sharp(shot.data);
  }
  switch (format) {
    case 'jpg':
      return image.jpeg({ quality: QUALITY }).toBuffer();
    case 'webp':
      return image.webp({ quality: QUALITY }).toBuffer();
    case 'gif':
      return image.gif().toBuffer();
    default:
      return image.png().toBuffer();
  }
}
