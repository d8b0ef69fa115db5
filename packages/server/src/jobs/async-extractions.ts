import type { Caller } from '../accounts/projects.js';
import type { BlobStore } from '../results/blob-store.js';
import type { ExtractionRequest } from '../request/extraction-request.js';
import { queuedExtractionJson } from '../request/queued-extraction.js';
import { acceptAsyncJob, acceptedAnswer, type AsyncJobDeps } from './async-jobs.js';
import type { ExtractionBody, ExtractionService } from './extraction-service.js';
import { storeBody } from './stored-bodies.js';

/** What POST /extraction?webhook_name= answers at once (docs/compat.md §8). */
export interface AcceptedExtraction {
  job_uuid: string;
  log_uuid: string;
  log_url: string;
  success: true;
  webhook_enqueued: true;
  webhook_name: string;
  webhook_queue_limit: number;
  webhook_queued_element: number;
  webhook_uuid: string;
  /** Both SDKs read these two; the data is delivered to the webhook. */
  data: null;
  content_type: null;
}

/**
 * Accepts asynchronous extractions: the document is kept with the job as it was sent (still compressed
 * if it came so; inline when small, else in the blob store) and decoded when the job runs
 * (jobs/extraction-jobs.ts), whose answer or error is delivered to the webhook.
 */
export class AsyncExtractions {
  constructor(
    private readonly deps: AsyncJobDeps,
    private readonly blobs: BlobStore,
    private readonly extractions: ExtractionService,
  ) {}

  async accept(
    caller: Caller,
    request: ExtractionRequest,
    body: ExtractionBody,
  ): Promise<AcceptedExtraction> {
    // What no run could do (a prompt without a configured model) is refused now, not delivered later.
    this.extractions.checkAvailable(request);
    const document = await storeBody(this.blobs, body.bytes);
    const { method } = request;
    const accepted = await acceptAsyncJob(this.deps, caller, {
      kind: 'extraction',
      webhookName: request.webhookName ?? '',
      url: request.url ?? '',
      request: queuedExtractionJson(request, document, body.contentEncoding),
      // The prompt and the document may hold the caller's data: the log keeps kinds and sizes.
      logParams: JSON.stringify({
        content_type: request.contentType,
        charset: request.charset ?? null,
        timeout: request.timeoutMs,
        method: method.kind,
        sent_bytes: body.bytes.length,
        content_encoding: body.contentEncoding ?? null,
        webhook_name: request.webhookName,
      }),
    });
    return {
      ...acceptedAnswer(accepted),
      data: null,
      content_type: null,
    };
  }
}
