import type { Caller } from '../accounts/projects.js';
import { isApiError } from '../errors.js';
import type { Job } from '../queue/job-queue.js';
import type { BlobStore } from '../results/blob-store.js';
import { readQueuedScrape } from '../request/queued-scrape.js';
import { ScrapeRefused, type ScrapeService } from '../scrape/scrape-service.js';
import { deliveryRejectHeaders } from '../scrapfly-headers.js';
import type { JobRunner, RunOutcome } from './job-runner.js';
import { loadBody } from './stored-bodies.js';

/**
 * Runs queued scrapes: the same ScrapeService as /scrape (credits, concurrency, cache, the log row the
 * acceptance left pending), and the envelope the synchronous call would have answered, with the webhook
 * and the job in its context, as the payload. A failure inside the scrape is that envelope with
 * success false; a refusal before it (quota, budget) is Scrapfly's error body.
 */
export class ScrapeJobRunner implements JobRunner {
  constructor(
    private readonly scrapes: ScrapeService,
    private readonly blobs: BlobStore,
  ) {}

  async run(caller: Caller, job: Job): Promise<RunOutcome> {
    const queued = readQueuedScrape(job.request);
    const body = queued.body ? await loadBody(this.blobs, queued.body) : undefined;
    try {
      const outcome = await this.scrapes.scrape(
        caller,
        { ...queued.request, body },
        {
          ...(job.log_uuid ? { logUuid: job.log_uuid } : {}),
          webhook: {
            name: queued.request.webhookName ?? '',
            uuid: job.webhook_uuid,
            jobUuid: job.id,
          },
        },
      );
      const { result } = outcome.envelope;
      return {
        kind: 'payload',
        payload: Buffer.from(JSON.stringify(outcome.envelope)),
        contentType: 'application/json',
        headers: {
          ...(result.status_code > 0
            ? {
                'x-scrapfly-upstream-http-code': String(result.status_code),
                'x-scrapfly-upstream-url': result.url,
              }
            : {}),
          'x-scrapfly-api-cost': String(outcome.cost),
          ...(outcome.error ? deliveryRejectHeaders(outcome.error) : {}),
        },
      };
    } catch (caught) {
      if (caught instanceof ScrapeRefused) return { kind: 'error', error: caught.error, logged: true };
      if (isApiError(caught)) return { kind: 'error', error: caught, logged: false };
      throw caught;
    }
  }
}
