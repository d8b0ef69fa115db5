import type { RenderedScreenshot } from '../engine/render-document.js';
import type { BlobStore } from '../results/blob-store.js';

/**
 * The images of screenshots[NAME] (docs/compat.md §7): kept in the blob store like /screenshot's
 * images, listed in the scrape's log row (params.screenshots), fetched again with the key at
 * GET /scrape/screenshot/{log_uuid}/{name}.
 */

export interface StoredScreenshot {
  name: string;
  blobKey: string;
  extension: 'jpg' | 'png';
  /** What was captured: fullpage, viewport or element. */
  format: 'fullpage' | 'viewport' | 'element';
  size: number;
  /** The selector (or XPath) of an element capture. */
  cssSelector: string | null;
}

export const SCREENSHOT_CONTENT_TYPES = { jpg: 'image/jpeg', png: 'image/png' } as const;

export async function storeScreenshots(
  blobs: BlobStore,
  shots: readonly RenderedScreenshot[],
): Promise<StoredScreenshot[]> {
  return Promise.all(
    shots.map(async (shot) => ({
      name: shot.name,
      blobKey: await blobs.put(shot.image),
      extension: shot.format,
      format:
        shot.area.kind === 'fullpage' || shot.area.kind === 'vertical'
          ? 'fullpage'
          : shot.area.kind === 'viewport'
            ? 'viewport'
            : 'element',
      size: shot.image.length,
      cssSelector:
        shot.area.kind === 'selector'
          ? shot.area.selector
          : shot.area.kind === 'xpath'
            ? shot.area.xpath
            : null,
    })),
  );
}

export function screenshotUrlOf(publicUrl: string, logUuid: string, name: string): string {
  return `${publicUrl}/scrape/screenshot/${logUuid}/${encodeURIComponent(name)}`;
}

/** result.screenshots as both SDKs read it (Python `save_scrape_screenshot` GETs `url` with `key`). */
export function screenshotsResultOf(publicUrl: string, logUuid: string, stored: readonly StoredScreenshot[]) {
  return Object.fromEntries(
    stored.map((shot) => [
      shot.name,
      {
        css_selector: shot.cssSelector,
        extension: shot.extension,
        format: shot.format,
        size: shot.size,
        url: screenshotUrlOf(publicUrl, logUuid, shot.name),
      },
    ]),
  );
}

/** The log row's record of them (what the route reads back). */
export function screenshotsLogOf(stored: readonly StoredScreenshot[]) {
  return Object.fromEntries(
    stored.map((shot) => [shot.name, { blob_key: shot.blobKey, extension: shot.extension, size: shot.size }]),
  );
}
