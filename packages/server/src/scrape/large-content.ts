import type { BlobStore } from '../results/blob-store.js';
import type { FormattedContent } from './formats.js';

/**
 * The SDKs' large-object indirection (docs/compat.md §7 "Large contents"): a content over the host's
 * inline limit (SNAPWIRE_SCRAPE_INLINE_MAX_BYTES) is kept in the blob store and answered as
 * `result.format` `clob` (text) or `blob` (binary) with `result.content` the URL both SDKs GET with the key
 * (TypeScript `handleLargeObjects`, Python `_handle_scrape_large_objects`), served by
 * GET /scrape/content/{log_uuid}.
 */

/** What the scrape's log row keeps, so that the route finds the bytes again. */
export interface LoggedLargeContent {
  blob_key: string;
  format: 'clob' | 'blob';
  bytes: number;
}

export const LARGE_CONTENT_TYPES = {
  // Neither JSON nor msgpack: the Python SDK would otherwise decode a clob as an API answer.
  clob: 'text/plain; charset=utf-8',
  blob: 'application/octet-stream',
} as const;

export function largeContentUrlOf(publicUrl: string, logUuid: string): string {
  return `${publicUrl}/scrape/content/${logUuid}`;
}

/** The content's bytes as the SDK will receive them: text as UTF-8, binary decoded from base64. */
function bytesOf(content: FormattedContent): Buffer {
  return content.contentEncoding === 'base64'
    ? Buffer.from(content.content, 'base64')
    : Buffer.from(content.content, 'utf8');
}

/**
 * Keeps a content over `inlineMaxBytes` in the blob store; returns the content as answered (the URL in
 * place of the bytes) and what the log keeps. A content within the limit is returned unchanged.
 */
export async function offloadLargeContent(
  content: FormattedContent,
  options: { inlineMaxBytes: number; blobs: BlobStore; publicUrl: string; logUuid: string },
): Promise<{ content: FormattedContent; logged?: LoggedLargeContent }> {
  const bytes = bytesOf(content);
  if (bytes.length <= options.inlineMaxBytes) return { content };
  const format = content.format === 'binary' ? 'blob' : 'clob';
  const blobKey = await options.blobs.put(bytes);
  return {
    content: {
      ...content,
      content: largeContentUrlOf(options.publicUrl, options.logUuid),
      format,
      contentEncoding: 'utf-8',
    },
    logged: { blob_key: blobKey, format, bytes: bytes.length },
  };
}
