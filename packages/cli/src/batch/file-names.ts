// Safe, stable file names from URLs: readable (host and path), unique (a hash of the whole URL), and the
// same on every run, so a second run finds what the first one saved.

import { createHash } from 'node:crypto';

const MAX_SLUG = 80;

/** `https://Example.com/a/b?x=1` -> `example.com_a_b-<10 hex>`; only `[a-z0-9._-]`, never a leading dot. */
export function fileStemFor(url: string): string {
  const hash = createHash('sha256').update(url).digest('hex').slice(0, 10);
  let readable = url;
  try {
    const parsed = new URL(url);
    readable = `${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    // not a URL: the hash alone keeps it unique; the text is still made safe below
  }
  const slug = readable
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^[._-]+|[._-]+$/g, '')
    .slice(0, MAX_SLUG)
    .replace(/[._-]+$/, '');
  return slug ? `${slug}-${hash}` : hash;
}

/** The extension saved for a requested format (jpg is the API's default). */
export function extensionForFormat(format: string | undefined): string {
  return format === 'png' || format === 'webp' || format === 'gif' || format === 'pdf' ? format : 'jpg';
}
