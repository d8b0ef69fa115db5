import type { ScrapeRequest } from '../request/scrape-request.js';
import { buildScrapeEnvelope } from './envelope.js';

export interface AcceptedScrape {
  jobUuid: string;
  logUuid: string;
  logUrl: string;
  webhook: { name: string; uuid: string };
  queueLimit: number;
  queued: number;
}

/**
 * The answer to an asynchronous scrape (`webhook_name`), given at once when the job is queued: the scrape
 * envelope both SDKs parse (docs/compat.md §7), so that `client.scrape()` returns instead of failing on a
 * body without `result`. `result.status` is DONE and `result.success` true (the TypeScript SDK raises on
 * anything else), with no content, `status_code` 0 and `context.webhook` / `context.job` saying where the
 * real envelope will be delivered. Nothing is billed yet: the scrape is billed when it runs.
 */
export function buildAcceptedScrapeEnvelope(input: {
  request: ScrapeRequest;
  accepted: AcceptedScrape;
  project: { name: string };
  env: 'LIVE' | 'TEST';
  publicUrl: string;
}) {
  const { accepted } = input;
  const envelope = buildScrapeEnvelope({
    logUuid: accepted.logUuid,
    logUrl: accepted.logUrl,
    request: input.request,
    project: input.project,
    env: input.env,
    cost: { total: 0, details: [] },
    cache: { state: input.request.cache ? 'MISS' : 'BYPASS', entry: null },
    durationMs: 0,
    publicUrl: input.publicUrl,
    webhook: { ...accepted.webhook, jobUuid: accepted.jobUuid },
  });
  return {
    ...envelope,
    context: {
      ...envelope.context,
      webhook: {
        ...accepted.webhook,
        enqueued: true,
        queue_limit: accepted.queueLimit,
        queued_element: accepted.queued,
      },
      job: { uuid: accepted.jobUuid, state: 'queued' },
    },
    result: { ...envelope.result, reason: 'Queued', url: input.request.url },
  };
}
