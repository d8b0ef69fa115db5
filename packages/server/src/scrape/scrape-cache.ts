import { createHash } from 'node:crypto';
import type { BlobStore } from '../results/blob-store.js';
import type { ScreenshotCache } from '../results/screenshot-cache.js';
import type { ScrapeRequest } from '../request/scrape-request.js';
import type { StoredScreenshot } from './scrape-screenshots.js';

/**
 * cache=true for scrapes (README, "Scraping pages"): what the target answered is kept as one blob, indexed
 * in the same cache table as screenshots (results/screenshot-cache.ts) under keys that start with
 * `scrape-`, so the janitor's sweep and the blob retention cover both. Only successful answers are kept.
 */

/** What a cached scrape replays: the target's answer before formatting (the format is part of the key). */
export interface CachedScrape {
  status: number;
  url: string;
  requestHeaders: Record<string, string>;
  responseHeaders: Record<string, string>;
  setCookies: string[];
  body: Buffer;
  browserData?: Record<string, unknown>;
  /** screenshots[NAME] images, still in the blob store (a hit lists them under its own log). */
  screenshots?: StoredScreenshot[];
}

const ENTRY_CONTENT_TYPE = 'application/vnd.snapwire.scrape+json';

/**
 * The key of a scrape: SHA-256 over what changes the answer (method, URL, headers, body, country, the
 * render options and the format). timeout, tags, correlation_id and the cache parameters themselves do not.
 */
export function scrapeCacheKeyOf(request: ScrapeRequest): string {
  const { browser } = request;
  const normalised = {
    method: request.method,
    url: request.url,
    headers: Object.entries(request.headers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    body: request.body ? createHash('sha256').update(request.body).digest('hex') : null,
    format: request.format,
    formatOptions: [...request.formatOptions].sort(),
    renderJs: request.renderJs,
    ...(request.session !== undefined ? { session: request.session } : {}),
    // Another country may be answered another page (the spec as asked; the pick within it may vary).
    ...(request.country !== undefined ? { country: request.country } : {}),
    ...(request.renderJs
      ? {
          waitForSelector: browser.waitForSelector ?? null,
          js: browser.js ?? null,
          renderingWaitMs: browser.renderingWaitMs,
          autoScroll: browser.autoScroll,
          renderingStage: browser.renderingStage,
          geolocation: browser.geolocation ?? null,
          ...(browser.scenario ? { scenario: browser.scenario } : {}),
          ...(browser.screenshots.length > 0
            ? { screenshots: browser.screenshots, screenshotFlags: [...browser.screenshotFlags].sort() }
            : {}),
        }
      : {}),
  };
  return `scrape-${createHash('sha256').update(JSON.stringify(normalised)).digest('hex')}`;
}

export class ScrapeCache {
  constructor(
    private readonly index: ScreenshotCache,
    private readonly blobs: BlobStore,
  ) {}

  /** The answer stored for this key within the last `ttlSeconds`, or undefined (a lost blob is a miss). */
  async find(
    projectId: string,
    env: string,
    key: string,
    notBefore: number,
  ): Promise<CachedScrape | undefined> {
    const entry = await this.index.find(projectId, env, key, notBefore);
    if (!entry || entry.contentType !== ENTRY_CONTENT_TYPE) return undefined;
    const bytes = await this.blobs.get(entry.blobKey);
    if (!bytes) return undefined;
    // A hit hands the blob out again: its retention starts over.
    await this.blobs.touch(entry.blobKey).catch(() => undefined);
    const stored = JSON.parse(bytes.toString('utf8')) as Omit<CachedScrape, 'body'> & { body: string };
    // Its screenshots are handed out again too (a lost one makes the entry a miss).
    for (const shot of stored.screenshots ?? []) {
      if (!(await this.blobs.touch(shot.blobKey))) return undefined;
    }
    return { ...stored, body: Buffer.from(stored.body, 'base64') };
  }

  async store(projectId: string, env: string, key: string, answer: CachedScrape, now: number): Promise<void> {
    const blobKey = await this.blobs.put(
      Buffer.from(JSON.stringify({ ...answer, body: answer.body.toString('base64') }), 'utf8'),
    );
    await this.index.store(projectId, env, key, {
      blobKey,
      contentType: ENTRY_CONTENT_TYPE,
      upstreamStatus: answer.status,
      finalUrl: answer.url,
      createdAt: now,
    });
  }
}
