import sharp from 'sharp';

export const MAGIC = {
  jpg: (b: Buffer) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  png: (b: Buffer) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  webp: (b: Buffer) =>
    b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  gif: (b: Buffer) =>
    b.subarray(0, 6).toString('latin1') === 'GIF89a' || b.subarray(0, 6).toString('latin1') === 'GIF87a',
} as const;

export interface Decoded {
  width: number;
  height: number;
  /** [r, g, b] at a point. */
  pixel(x: number, y: number): [number, number, number];
}

export async function decode(image: Buffer | ArrayBuffer): Promise<Decoded> {
  const buffer = Buffer.isBuffer(image) ? image : Buffer.from(image);
  const { data, info } = await sharp(buffer).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    pixel(x, y) {
      const offset = (y * info.width + x) * info.channels;
      return [data[offset] ?? -1, data[offset + 1] ?? -1, data[offset + 2] ?? -1];
    },
  };
}

/** True when two colours are within `tolerance` on every channel (JPEG and WebP are lossy). */
export function near(
  actual: [number, number, number],
  expected: [number, number, number],
  tolerance = 24,
): boolean {
  return actual.every((value, index) => Math.abs(value - (expected[index] ?? 0)) <= tolerance);
}
