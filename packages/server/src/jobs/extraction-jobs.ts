import type { Caller } from '../accounts/projects.js';
import { isApiError } from '../errors.js';
import type { Job } from '../queue/job-queue.js';
import type { BlobStore } from '../results/blob-store.js';
import { readQueuedExtraction } from '../request/queued-extraction.js';
import { ExtractionFailure, type ExtractionService } from './extraction-service.js';
import type { JobRunner, RunOutcome } from './job-runner.js';
import { loadBody } from './stored-bodies.js';

/**
 * Runs queued extractions with the same ExtractionService as POST /extraction (credits, concurrency, the
 * pending log row completed); the payload is what the synchronous call answers: `{data, content_type}`.
 */
export class ExtractionJobRunner implements JobRunner {
  constructor(
    private readonly extractions: ExtractionService,
    private readonly blobs: BlobStore,
  ) {}

  async run(caller: Caller, job: Job): Promise<RunOutcome> {
    const queued = readQueuedExtraction(job.request);
    const bytes = await loadBody(this.blobs, queued.document);
    try {
      const outcome = await this.extractions.extract(
        caller,
        queued.request,
        { bytes, contentEncoding: queued.contentEncoding },
        job.log_uuid ? { logUuid: job.log_uuid } : {},
      );
      return {
        kind: 'payload',
        payload: Buffer.from(JSON.stringify(outcome.result)),
        contentType: 'application/json',
        headers: { 'x-scrapfly-api-cost': String(outcome.cost) },
      };
    } catch (caught) {
      if (caught instanceof ExtractionFailure) return { kind: 'error', error: caught.error, logged: true };
      if (isApiError(caught)) return { kind: 'error', error: caught, logged: false };
      throw caught;
    }
  }
}
