import { z } from 'zod';
import type { ScrapeRequest } from './scrape-request.js';
import { SCRAPE_FORMAT_OPTIONS, SCRAPE_FORMATS, SCRAPE_METHODS } from './scrape-request.js';
import { readQueued, storedBody, type StoredBody } from './stored-body.js';

const area = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('selector'), selector: z.string() }),
  z.object({ kind: z.literal('xpath'), xpath: z.string() }),
]);

/**
 * An asynchronous scrape as the queue keeps it: the parsed request without its body, and the body kept
 * aside (stored-body.ts). Read back through this schema so that a damaged row fails its job clearly.
 * Unknown keys are kept: a newer field passes through untouched.
 */
const queuedScrape = z.object({
  request: z
    .object({
      url: z.string().min(1),
      hostname: z.string(),
      method: z.enum(SCRAPE_METHODS),
      headers: z.record(z.string(), z.string()),
      format: z.enum(SCRAPE_FORMATS),
      formatOptions: z.array(z.enum(SCRAPE_FORMAT_OPTIONS)),
      timeoutMs: z.number().int().positive(),
      renderJs: z.boolean(),
      browser: z
        .object({
          waitForSelector: area.optional(),
          js: z.string().optional(),
          renderingWaitMs: z.number().int().min(0),
          autoScroll: z.boolean(),
          renderingStage: z.enum(['complete', 'domcontentloaded']),
        })
        .loose(),
      tags: z.array(z.string()),
      proxyPool: z.string(),
      webhookName: z.string().optional(),
    })
    .loose(),
  body: storedBody.nullable(),
});

export interface QueuedScrape {
  request: Omit<ScrapeRequest, 'body'>;
  body: StoredBody | null;
}

/** The JSON a scrape job keeps (`body` already stored: inline or in the blob store). */
export function queuedScrapeJson(request: ScrapeRequest, body: StoredBody | null): string {
  const { body: _sent, ...rest } = request;
  return JSON.stringify({ request: rest, body } satisfies QueuedScrape);
}

/** The stored scrape of a queued job, checked; throws a catalogue error when it cannot be used. */
export function readQueuedScrape(stored: string): QueuedScrape {
  return readQueued(stored, queuedScrape, 'scrape') as unknown as QueuedScrape;
}
