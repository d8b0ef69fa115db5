// The URLs of a batch: a text file with one URL per line, or a sitemap (file or URL; a sitemap index is
// followed one level, a bounded number of children).

import fs from 'node:fs/promises';

const MAX_CHILD_SITEMAPS = 50;
const MAX_SITEMAP_BYTES = 50 * 1024 * 1024; // the sitemaps.org limit for one file
const FETCH_TIMEOUT_MS = 30_000;

export class InputError extends Error {}

function isHttpUrl(text: string): boolean {
  return /^https?:\/\//i.test(text);
}

/**
 * The body as text, counting the bytes actually read: a body past the cap is refused as soon as it passes
 * it, chunked or not, whatever Content-Length said (the connection is dropped, not read to its end).
 */
async function fetchText(url: string): Promise<string> {
  const tooLarge = () => new InputError(`${url} is larger than 50 MB, the most a sitemap may hold`);
  const stop = new AbortController();
  const signal = AbortSignal.any([stop.signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)]);
  const failed = (error: unknown) => {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return new InputError(`could not fetch ${url}: ${cause ?? (error as Error).message}`);
  };
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: 'follow' });
  } catch (error) {
    throw failed(error);
  }
  if (!response.ok) {
    stop.abort();
    throw new InputError(`could not fetch ${url}: HTTP ${response.status}`);
  }
  if (Number(response.headers.get('content-length') ?? 0) > MAX_SITEMAP_BYTES) {
    stop.abort();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  const reader = response.body?.getReader();
  try {
    for (;;) {
      const read = await reader?.read();
      if (!read || read.done) break;
      bytes += read.value.byteLength;
      if (bytes > MAX_SITEMAP_BYTES) {
        stop.abort();
        throw tooLarge();
      }
      chunks.push(read.value);
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw failed(error);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function decodeXml(text: string): string {
  return text
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
}

/** `<loc>` values of a sitemap or sitemap index (the format is flat enough that a regex reads it exactly). */
function locs(xml: string): string[] {
  return [...xml.matchAll(/<(?:\w+:)?loc>([\s\S]*?)<\/(?:\w+:)?loc>/g)].map((match) => decodeXml(match[1]!));
}

function looksLikeSitemap(text: string): boolean {
  return /<(?:\w+:)?(urlset|sitemapindex)[\s>]/.test(text.slice(0, 4096));
}

async function readSource(source: string): Promise<string> {
  if (isHttpUrl(source)) return fetchText(source);
  try {
    return await fs.readFile(source, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** The URLs to capture, in order, without duplicates. */
export async function readUrls(source: string): Promise<string[]> {
  const text = await readSource(source);
  let urls: string[];
  if (looksLikeSitemap(text)) {
    if (/<(?:\w+:)?sitemapindex[\s>]/.test(text)) {
      const children = locs(text);
      if (children.length > MAX_CHILD_SITEMAPS) {
        throw new InputError(
          `the sitemap index lists ${children.length} sitemaps; at most ${MAX_CHILD_SITEMAPS}`,
        );
      }
      // A sitemap fetched from the web names web pages only: were its <loc> a path, a remote server would
      // choose which of this machine's files the batch reads (and captures the URLs in).
      const remote = isHttpUrl(source);
      const local = remote ? children.find((child) => !isHttpUrl(child)) : undefined;
      if (local !== undefined) {
        throw new InputError(
          `the sitemap index ${source} lists "${local.slice(0, 200)}", which is not an http(s) URL; a sitemap fetched over HTTP may only point to http(s) sitemaps`,
        );
      }
      urls = [];
      for (const child of children) urls.push(...locs(await readSource(child)));
    } else {
      urls = locs(text);
    }
  } else {
    urls = text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
  }
  const bad = urls.find((url) => !isHttpUrl(url));
  if (bad !== undefined) throw new InputError(`not an http(s) URL: "${bad.slice(0, 200)}"`);
  return [...new Set(urls)];
}
