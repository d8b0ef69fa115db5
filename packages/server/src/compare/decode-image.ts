import sharp from 'sharp';
import { ApiError } from '../errors.js';

/** Formats a screenshot can come in (png, jpg, webp, gif) and the other raster formats sharp reads. */
const RASTER_FORMATS = new Set(['png', 'jpeg', 'webp', 'gif', 'avif', 'heif', 'tiff']);

/**
 * The most pixels one compared image may hold: two decoded images and the diff are held in memory at four
 * bytes a pixel, so a 1920 x 26 000 page (50 M pixels) costs about 600 MB at once. Larger pages are
 * refused rather than risking the process.
 */
export const MAX_COMPARE_PIXELS = 50_000_000;

export interface ImageSize {
  width: number;
  height: number;
}

export type ImageRole = 'before' | 'after';

const PDF_MAGIC = Buffer.from('%PDF-');

/** The size of an image, or a catalogue error saying why the bytes cannot be compared. */
export async function readImageSize(bytes: Buffer, role: ImageRole): Promise<ImageSize> {
  if (bytes.subarray(0, 16).includes(PDF_MAGIC)) {
    throw new ApiError(
      'ERR::COMPARE::NOT_AN_IMAGE',
      `The ${role} capture is a PDF document, not an image: compare screenshots taken as png, jpg, webp or gif`,
    );
  }
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw notAnImage(role, error);
  }
  const { format, width, height } = metadata;
  if (!format || !RASTER_FORMATS.has(format) || !width || !height) throw notAnImage(role, undefined, format);
  const frameHeight = metadata.pageHeight ?? height;
  if (width * frameHeight > MAX_COMPARE_PIXELS) {
    throw new ApiError(
      'ERR::COMPARE::IMAGE_TOO_LARGE',
      `The ${role} image is ${width} x ${frameHeight} pixels, over the ${MAX_COMPARE_PIXELS} pixels a comparison takes: capture a smaller area (e.g. capture=viewport or a clip)`,
    );
  }
  return { width, height: frameHeight };
}

/** The top-left `area` of an image as 8-bit RGBA (its first frame, for an animated gif). */
export async function decodeArea(bytes: Buffer, role: ImageRole, area: ImageSize): Promise<Buffer> {
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: false })
      .extract({ left: 0, top: 0, width: area.width, height: area.height })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4 || data.length !== area.width * area.height * 4) {
      throw new Error(`decoded ${info.channels} channels of ${info.width} x ${info.height}`);
    }
    return data;
  } catch (error) {
    throw notAnImage(role, error);
  }
}

function notAnImage(role: ImageRole, cause: unknown, format?: string): ApiError {
  const what = format ? `a ${format} file` : 'not an image Snapwire can read';
  return new ApiError(
    'ERR::COMPARE::NOT_AN_IMAGE',
    `The ${role} capture is ${what}: compare screenshots taken as png, jpg, webp or gif`,
    { cause },
  );
}
