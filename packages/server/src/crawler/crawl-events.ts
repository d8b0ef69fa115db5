import type { Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import { logUrlOf } from '../logs/log-url.js';
import type { JobQueue } from '../queue/job-queue.js';
import type { CrawlerWebhookEvent, CrawlRequest } from '../request/crawl-request.js';
import type { BlobStore } from '../results/blob-store.js';
import type { CrawlsTable, Database } from '../store/schema.js';
import { projectNameById } from '../accounts/projects.js';
import { timeOrderedId } from '../store/time-ordered-id.js';

/** The `action` each event carries (the Python SDK's crawler_webhook.py CrawlerWebhookBase). */
const ACTIONS: Record<CrawlerWebhookEvent, string> = {
  crawler_started: 'started',
  crawler_url_visited: 'visited',
  crawler_url_skipped: 'skipped',
  crawler_url_discovered: 'url_discovery',
  crawler_url_failed: 'failed',
  crawler_stopped: 'stopped',
  crawler_cancelled: 'cancelled',
  crawler_finished: 'finished',
};

/** How a crawl's end is told: cancelled by its owner, finished (success), or stopped (it could not go on). */
export function endEvent(status: 'DONE' | 'CANCELLED', success: boolean): CrawlerWebhookEvent {
  if (status === 'CANCELLED') return 'crawler_cancelled';
  return success ? 'crawler_finished' : 'crawler_stopped';
}

/** A crawl's URL counts at the event (crawler/crawl-store.ts countsOf). */
interface EventCounts {
  visited: number;
  failed: number;
  skipped: number;
  pending: number;
  total: number;
}

/** A failed page's scrape configuration as crawler_url_failed tells it (headers left out: they may hold secrets). */
export function scrapeConfigOf(url: string, request: CrawlRequest): Record<string, unknown> {
  return {
    url,
    method: 'GET',
    ...(request.userAgent ? { user_agent: request.userAgent } : {}),
  };
}

const seconds = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));

/**
 * A crawl's webhook events (docs/compat.md §9): each one a `crawler` job of the webhook queue, written in
 * the SAME transaction as the frontier change it tells of, with its payload stored first; from there the
 * job worker's delivery lane signs, sends and retries it like any other delivery (webhooks/). A crawl that
 * named no webhook, or an event it did not ask for, writes nothing.
 */
export class CrawlEvents {
  constructor(
    private readonly queue: JobQueue,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly publicUrl: string,
    /** Wakes the delivery lane (after the transaction that queued events committed). */
    readonly wake: () => void,
  ) {}

  /** True when an event was queued (the caller wakes the delivery lane once its transaction commits). */
  async emit(
    trx: Transaction<Database>,
    crawl: CrawlsTable,
    counts: EventCounts,
    event: CrawlerWebhookEvent,
    fields: Record<string, unknown>,
  ): Promise<boolean> {
    const config = JSON.parse(crawl.config) as CrawlRequest;
    if (!config.webhookUuid || !(config.webhookEvents ?? []).includes(event)) return false;
    const projectName = await projectNameById(trx, crawl.project_id);
    const body = {
      event,
      payload: {
        crawler_uuid: crawl.uuid,
        project: projectName ?? crawl.project_id,
        env: crawl.env,
        action: ACTIONS[event],
        state: {
          urls_visited: counts.visited,
          urls_extracted: counts.total,
          urls_failed: counts.failed,
          urls_skipped: counts.skipped,
          urls_to_crawl: counts.pending,
          api_credit_used: crawl.api_credit_used,
          duration:
            crawl.start_time === null
              ? 0
              : Math.max(0, ((crawl.stop_time ?? this.clock.now()) - crawl.start_time) / 1000),
          start_time: seconds(crawl.start_time),
          stop_time: seconds(crawl.stop_time),
          stop_reason: crawl.stop_reason,
        },
        ...fields,
      },
    };
    const blob = await this.blobs.put(Buffer.from(asciiJson(body), 'utf8'));
    await this.queue.enqueue(trx, {
      id: timeOrderedId(this.clock.now()),
      project_id: crawl.project_id,
      env: crawl.env,
      webhook_uuid: config.webhookUuid,
      resource_type: 'crawler',
      log_uuid: null,
      // '{}': nothing to run again; a payload lost from the blob store fails the delivery (as a ping's).
      request: '{}',
      state: 'delivering',
      payload_blob: blob,
      payload_content_type: 'application/json',
      payload_headers: JSON.stringify({
        'x-scrapfly-crawler-uuid': crawl.uuid,
        'x-scrapfly-crawler-event': event,
      }),
    });
    return true;
  }

  /** The fields of the four lifecycle events: the seed and the status link. */
  lifecycleFields(crawl: CrawlsTable): Record<string, unknown> {
    return {
      seed_url: crawl.seed_url,
      links: { status: `${this.publicUrl}/crawl/${crawl.uuid}/status` },
    };
  }

  logUrl(logUuid: string): string {
    return logUrlOf(this.publicUrl, logUuid);
  }

  /** The `links` of crawler_url_failed: the page's log (when one was written) and a scrape of the URL. */
  failedLinks(url: string, logUuid: string | null): { log: string | null; scrape: string } {
    return {
      log: logUuid ? logUrlOf(this.publicUrl, logUuid) : null,
      scrape: `${this.publicUrl}/scrape?url=${encodeURIComponent(url)}`,
    };
  }
}

/**
 * JSON with every character past ASCII written as a \uXXXX escape (UTF-16 units, lowercase hex), compact:
 * byte for byte what Python's `json.dumps(payload, separators=(',', ':'))` makes of the parsed body. The
 * Python SDK's `webhook_from_payload` checks a crawler event's signature over that re-serialization, not
 * over the bytes received (docs/compat.md, "Webhooks" of the Crawler API), so a page title in French or
 * Japanese would otherwise fail its check. Every JSON reader reads the escapes as the same text.
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
