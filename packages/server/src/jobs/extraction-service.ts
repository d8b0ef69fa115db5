import type { Logger } from 'pino';
import type { Caller } from '../accounts/projects.js';
import type { CreditLedger } from '../accounts/credits.js';
import type { ConcurrencyLeases } from '../accounts/concurrency-leases.js';
import { EXTRACTION_COSTS } from '../accounts/plans.js';
import type { Clock } from '../clock.js';
import { ApiError, isApiError, storeOutageToApiError } from '../errors.js';
import { decodeDocument, type DecodedDocument } from '../extraction/document.js';
import type { ModelClient, ModelUsage } from '../extraction/model-client.js';
import { compileTemplate, runTemplate } from '../extraction/rules.js';
import type { Template } from '../extraction/template.js';
import type { TemplateStore } from '../extraction/template-store.js';
import type { LogStore } from '../logs/log-store.js';
import { EXTRACTION_LIMITS, type ExtractionRequest } from '../request/extraction-request.js';
import { newLogUuid } from '../store/time-ordered-id.js';

/** What POST /extraction answers (both SDKs read `data` and `content_type`). */
export interface ExtractionOutcome {
  logUuid: string;
  cost: number;
  remainingCredits: number;
  durationMs: number;
  result: { data: unknown; content_type: string; data_quality?: string };
}

/** A failed extraction still tells the caller its log and the credits left. */
export class ExtractionFailure extends Error {
  constructor(
    readonly error: ApiError,
    readonly logUuid: string,
    readonly cost: number,
  ) {
    super(error.message);
  }
}

export interface ExtractionServiceDeps {
  credits: CreditLedger;
  concurrency: ConcurrencyLeases;
  logs: LogStore;
  clock: Clock;
  logger: Logger;
  maxDocumentBytes: number;
  /** The operator's language model (SNAPWIRE_LLM_*); undefined when none is configured. */
  model: ModelClient | undefined;
  /** Saved templates (extraction_template=persistent:NAME or NAME). */
  templates: TemplateStore;
  nodeId?: string;
}

/** The body as received, and how it was labelled. */
export interface ExtractionBody {
  bytes: Buffer;
  contentEncoding: string | undefined;
}

/** Characters of an extraction's result its monitoring log keeps. */
const RESULT_PREVIEW_CHARS = 4000;

const NO_MODEL_REASON =
  'No language model is configured on this Snapwire host, so extraction_prompt and extraction_model are not available; the operator enables them with SNAPWIRE_LLM_BASE_URL (an OpenAI-compatible endpoint), SNAPWIRE_LLM_MODEL and, when the endpoint needs one, SNAPWIRE_LLM_API_KEY. Rules templates (extraction_template) work without a model';

/**
 * Runs one extraction for a caller: credits, the project's concurrency (shared with its captures), the
 * document's decoding, the rules engine or the model, and one monitoring log row (kind 'extraction').
 */
export class ExtractionService {
  constructor(private readonly deps: ExtractionServiceDeps) {}

  async remainingCredits(caller: Caller): Promise<number> {
    return Math.max(
      0,
      caller.project.limits.monthlyCredits - (await this.deps.credits.used(caller.project.id)),
    );
  }

  /** Refuses at once what no run could do here (a prompt or a model without a configured model). */
  checkAvailable(request: ExtractionRequest): void {
    if (request.method.kind !== 'template' && !this.deps.model) {
      throw new ApiError('ERR::EXTRACTION::CONFIG_ERROR', NO_MODEL_REASON);
    }
  }

  /** `options.logUuid`: an asynchronous extraction's log row, written pending at acceptance, completed here. */
  async extract(
    caller: Caller,
    request: ExtractionRequest,
    body: ExtractionBody,
    /** slotHeld: the caller already holds a concurrency slot of the project for this work (a crawl's page). */
    options: { logUuid?: string; slotHeld?: boolean } = {},
  ): Promise<ExtractionOutcome> {
    const startedAt = Date.now();
    const logUuid = options.logUuid ?? newLogUuid();
    const { project } = caller;
    const cost = EXTRACTION_COSTS[request.method.kind];
    const facts: Record<string, unknown> = {
      sent_bytes: body.bytes.length,
      content_encoding: body.contentEncoding ?? null,
    };
    try {
      this.checkAvailable(request);
      // A saved template is looked up before any credit or slot is taken: an unknown name is a 404.
      let template: Template | undefined;
      if (request.method.kind === 'template') {
        const choice = request.method.template;
        template =
          choice.kind === 'saved' ? await this.deps.templates.resolve(caller, choice.name) : choice.template;
      }
      const used = await this.deps.credits.used(project.id);
      if (used + cost > project.limits.monthlyCredits) {
        throw new ApiError(
          'ERR::SCRAPE::QUOTA_LIMIT_REACHED',
          `Project "${project.name}" has used ${used} of its ${project.limits.monthlyCredits} monthly credits; this extraction costs ${cost}. Raise the plan or the monthlyCredits limit (snapwire projects set)`,
        );
      }
      const release = options.slotHeld
        ? async () => {}
        : await this.deps.concurrency.acquireProjectSlot(project.id, project.limits.concurrency);
      let result: ExtractionOutcome['result'];
      try {
        const document = await decodeDocument(body.bytes, {
          contentEncoding: body.contentEncoding,
          charset: request.charset,
          maxBytes: this.deps.maxDocumentBytes,
        });
        facts.document_bytes = document.bytes;
        result = await this.run(request, template, document, startedAt, facts);
      } finally {
        await release();
      }
      const remaining = project.limits.monthlyCredits - (await this.deps.credits.charge(project.id, cost));
      const durationMs = Date.now() - startedAt;
      const resultJson = JSON.stringify(result.data ?? null);
      facts.result_bytes = Buffer.byteLength(resultJson, 'utf8');
      // The start of the result, for the log page: enough to see what came out, bounded whatever the size.
      facts.result_preview =
        resultJson.length > RESULT_PREVIEW_CHARS
          ? `${resultJson.slice(0, RESULT_PREVIEW_CHARS)}…`
          : resultJson;
      if (result.data_quality) facts.data_quality = result.data_quality;
      await this.deps.logs.record({
        ...this.logBase(caller, request, logUuid, durationMs, facts),
        http_status: 200,
        cost,
        content_type: result.content_type,
      });
      return { logUuid, cost, remainingCredits: Math.max(0, remaining), durationMs, result };
    } catch (caught) {
      const error = isApiError(caught) ? caught : this.internal(caught);
      await this.deps.logs
        .record({
          ...this.logBase(caller, request, logUuid, Date.now() - startedAt, facts),
          http_status: error.definition.httpStatus,
          error_code: error.code,
          error_reason: error.reason,
        })
        .catch((logError: unknown) =>
          this.deps.logger.error({ err: logError }, 'could not record a failed extraction'),
        );
      // Failed extractions are not billed.
      throw new ExtractionFailure(error, logUuid, 0);
    }
  }

  /**
   * A crawled page's prompt or model rule (crawler/page-extraction.ts): the page as fetched is the
   * document, and it is run, billed and logged (kind `extraction`) as POST /extraction runs it, inside the
   * concurrency slot the page already holds. Throws ExtractionFailure as extract() does.
   */
  async extractPage(
    caller: Caller,
    page: {
      url: string;
      body: Buffer;
      contentType: string;
      documentKind: ExtractionRequest['documentKind'];
      charset: string | undefined;
      method: Exclude<ExtractionRequest['method'], { kind: 'template' }>;
    },
  ): Promise<ExtractionOutcome> {
    const request: ExtractionRequest = {
      contentType: page.contentType,
      documentKind: page.documentKind,
      charset: page.charset,
      url: page.url,
      method: page.method,
      timeoutMs: EXTRACTION_LIMITS.defaultTimeoutMs,
      webhookName: undefined,
    };
    return this.extract(
      caller,
      request,
      { bytes: page.body, contentEncoding: undefined },
      { slotHeld: true },
    );
  }

  private async run(
    request: ExtractionRequest,
    template: Template | undefined,
    document: DecodedDocument,
    startedAt: number,
    facts: Record<string, unknown>,
  ): Promise<ExtractionOutcome['result']> {
    const deadline = startedAt + request.timeoutMs;
    const { method } = request;
    if (method.kind === 'template') {
      if (!template) throw new Error('a template method always has its template resolved');
      const compiled = compileTemplate(template);
      const data = runTemplate(compiled, document.text, { url: request.url, deadline, now: Date.now });
      return { data, content_type: 'application/json' };
    }
    const model = this.deps.model!;
    const answer = await model.extract({
      document: document.text,
      documentKind: request.documentKind,
      url: request.url,
      task:
        method.kind === 'prompt'
          ? { kind: 'prompt', prompt: method.prompt }
          : { kind: 'model', model: method.model },
      deadline,
    });
    facts.tokens = usageFacts(answer.usage);
    facts.model_calls = answer.calls;
    return {
      data: answer.data,
      content_type: answer.contentType,
      ...(answer.dataQuality ? { data_quality: answer.dataQuality } : {}),
    };
  }

  private internal(error: unknown): ApiError {
    const outage = storeOutageToApiError(error);
    if (outage) {
      this.deps.logger.warn({ err: error }, 'the database failed during an extraction');
      return outage;
    }
    this.deps.logger.error({ err: error }, 'unexpected extraction failure');
    return new ApiError(
      'ERR::API::INTERNAL_ERROR',
      'An unexpected error happened during the extraction; it has been logged',
      {
        cause: error,
      },
    );
  }

  private logBase(
    caller: Caller,
    request: ExtractionRequest,
    logUuid: string,
    durationMs: number,
    facts: Record<string, unknown>,
  ) {
    const { method } = request;
    // The prompt itself may hold the caller's data: the log keeps its length only.
    const how =
      method.kind === 'template'
        ? {
            method: 'template',
            template: method.template.kind === 'saved' ? `persistent:${method.template.name}` : 'ephemeral',
          }
        : method.kind === 'prompt'
          ? { method: 'prompt', prompt_length: method.prompt.length }
          : { method: 'model', model: method.model };
    return {
      log_uuid: logUuid,
      kind: 'extraction' as const,
      project_id: caller.project.id,
      env: caller.env,
      url: request.url ?? '',
      params: JSON.stringify({
        content_type: request.contentType,
        charset: request.charset ?? null,
        timeout: request.timeoutMs,
        ...how,
        ...facts,
      }),
      http_status: 0,
      error_code: null,
      error_reason: null,
      upstream_status: null,
      final_url: null,
      cost: 0,
      duration_ms: durationMs,
      blob_key: null,
      content_type: null,
      created_at: this.deps.clock.now(),
      node_id: this.deps.nodeId ?? null,
    };
  }
}

function usageFacts(usage: ModelUsage): Record<string, number> {
  return { prompt: usage.promptTokens, completion: usage.completionTokens, total: usage.totalTokens };
}
