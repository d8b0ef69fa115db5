// Streaming a response body to a file: a temporary name in the same folder, renamed when complete, so a
// reader never sees half an image and a failed download leaves nothing behind.

import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/** Writes the stream to `file` (creating its folder) and resolves with the number of bytes written. */
export async function writeStreamToFile(body: ReadableStream<Uint8Array>, file: string): Promise<number> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const temporary = `${file}.${randomBytes(4).toString('hex')}.part`;
  let size = 0;
  const source = Readable.fromWeb(body as unknown as WebReadableStream<Uint8Array>);
  source.on('data', (chunk: Buffer) => {
    size += chunk.length;
  });
  try {
    await pipeline(source, createWriteStream(temporary));
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return size;
}
