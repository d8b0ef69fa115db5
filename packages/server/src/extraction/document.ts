import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { ApiError } from '../errors.js';

/**
 * The document of an extraction as it arrives: bytes, perhaps compressed (`content-encoding` gzip, deflate
 * in zlib or raw form, zstd where the runtime has it), in a charset. Decompression stops at `maxBytes` of
 * output, so a decompression bomb costs at most that much memory.
 */

export interface DecodedDocument {
  text: string;
  /** Bytes as sent, and once decompressed. */
  sentBytes: number;
  bytes: number;
  encoding: string | undefined;
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);

type Decompress = (input: Buffer, options: zlib.ZlibOptions) => Promise<Buffer>;
/** zlib.zstdDecompress exists from Node 22.15 (and 23.8). */
const zstdDecompress = (zlib as unknown as { zstdDecompress?: (...args: unknown[]) => void }).zstdDecompress;
const zstd: Decompress | undefined = zstdDecompress
  ? (promisify(zstdDecompress) as unknown as Decompress)
  : undefined;

export const SUPPORTED_ENCODINGS = ['gzip', 'deflate', 'zstd', 'identity'] as const;

const configError = (reason: string) => new ApiError('ERR::EXTRACTION::CONFIG_ERROR', reason);

export const tooLarge = (maxBytes: number, what: string) =>
  new ApiError(
    'ERR::EXTRACTION::DOCUMENT_TOO_LARGE',
    `The document is larger than ${maxBytes} bytes ${what}; send a smaller document (the operator sets the limit with SNAPWIRE_EXTRACTION_MAX_BYTES)`,
  );

/** A zlib stream starts with CMF 0x78 (deflate, 32 KB window or less) and a header divisible by 31. */
const isZlibWrapped = (body: Buffer) =>
  body.length >= 2 && (body[0]! & 0x0f) === 8 && ((body[0]! << 8) | body[1]!) % 31 === 0;

async function decompress(body: Buffer, encoding: string, maxBytes: number): Promise<Buffer> {
  const options = { maxOutputLength: maxBytes };
  let run: Decompress;
  if (encoding === 'gzip' || encoding === 'x-gzip') run = gunzip;
  else if (encoding === 'deflate') run = isZlibWrapped(body) ? inflate : inflateRaw;
  else if (encoding === 'zstd') {
    if (!zstd) {
      throw configError(
        `content-encoding zstd needs Node.js 22.15 or later on the Snapwire host (it runs ${process.version}); send the document with gzip or deflate, or ask the operator to upgrade Node.js`,
      );
    }
    run = zstd;
  } else {
    throw configError(
      `content-encoding ${encoding} is not supported; send the document as is, or compressed with gzip, deflate or zstd`,
    );
  }
  try {
    return await run(body, options);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
      throw tooLarge(maxBytes, 'once decompressed');
    }
    throw configError(
      `The body is not valid ${encoding} data (${(error as Error).message}); check the content-encoding header matches how the document was compressed`,
    );
  }
}

/** Decompresses and decodes a document; refuses what is too large, wrongly encoded or not in its charset. */
export async function decodeDocument(
  body: Buffer,
  options: { contentEncoding: string | undefined; charset: string | undefined; maxBytes: number },
): Promise<DecodedDocument> {
  if (body.length > options.maxBytes) throw tooLarge(options.maxBytes, 'as sent');
  const encoding = options.contentEncoding?.trim().toLowerCase() || undefined;
  const bytes =
    encoding === undefined || encoding === 'identity'
      ? body
      : await decompress(body, encoding, options.maxBytes);
  if (bytes.length === 0) {
    throw new ApiError(
      'ERR::EXTRACTION::NO_CONTENT',
      'The body is empty: send the document to extract from as the body',
    );
  }
  let decoder: TextDecoder;
  try {
    // A declared charset is held to: bytes that are not valid in it are refused, not replaced.
    decoder = new TextDecoder(options.charset ?? 'utf-8', { fatal: options.charset !== undefined });
  } catch {
    throw configError(
      `charset ${options.charset} is not known; use a WHATWG encoding label such as utf-8 or iso-8859-1`,
    );
  }
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw configError(
      `The document is not valid ${options.charset} (the charset given); send the charset the document is written in`,
    );
  }
  return { text, sentBytes: body.length, bytes: bytes.length, encoding };
}
