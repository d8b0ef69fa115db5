import type { Transaction } from 'kysely';
import type { Caller } from '../accounts/projects.js';
import type { Database } from '../store/schema.js';
import type { BlobStore } from '../results/blob-store.js';
import { queuedScrapeJson } from '../request/queued-scrape.js';
import type { ScrapeRequest } from '../request/scrape-request.js';
import { buildAcceptedScrapeEnvelope } from '../scrape/accepted-envelope.js';
import { checkCostBudget } from '../scrape/cost.js';
import { acceptAsyncJob, type AsyncJobDeps } from './async-jobs.js';
import { storeBody } from './stored-bodies.js';

/**
 * Accepts asynchronous scrapes (`/scrape?webhook_name=`): the request (its body inline or in the blob
 * store) and the pending log row are committed with the job before the caller hears 201; the worker runs
 * the scrape (jobs/scrape-jobs.ts) and delivers its envelope, as it does for screenshots.
 */
export class AsyncScrapes {
  constructor(
    private readonly deps: AsyncJobDeps,
    private readonly blobs: BlobStore,
  ) {}

  /** `within` runs inside the acceptance transaction (a schedule run records its job there). */
  async accept(
    caller: Caller,
    request: ScrapeRequest,
    within?: (trx: Transaction<Database>, job: { jobUuid: string; logUuid: string }) => Promise<void>,
  ) {
    // What no run could do (over its cost_budget) is refused now, not delivered later.
    checkCostBudget(request);
    const body = request.body ? await storeBody(this.blobs, request.body) : null;
    const accepted = await acceptAsyncJob(
      this.deps,
      caller,
      {
        kind: 'scrape',
        webhookName: request.webhookName ?? '',
        url: request.url,
        request: queuedScrapeJson(request, body),
        // Header values (cookies, tokens) and the body are the caller's secrets: the log keeps names and sizes.
        logParams: JSON.stringify({
          method: request.method,
          format: request.format,
          format_options: request.formatOptions,
          render_js: request.renderJs,
          timeout: request.timeoutMs,
          headers: Object.keys(request.headers),
          body_bytes: request.body?.length ?? 0,
          tags: request.tags,
          correlation_id: request.correlationId ?? null,
          webhook_name: request.webhookName,
        }),
      },
      within,
    );
    return buildAcceptedScrapeEnvelope({
      request,
      accepted: {
        jobUuid: accepted.jobUuid,
        logUuid: accepted.logUuid,
        logUrl: accepted.logUrl,
        webhook: { name: accepted.webhook.name, uuid: accepted.webhook.uuid },
        queueLimit: accepted.queueLimit,
        queued: accepted.queued,
      },
      project: caller.project,
      env: caller.env,
      publicUrl: this.deps.publicUrl,
    });
  }
}
