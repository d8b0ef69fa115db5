import type { Logger } from 'pino';
import { fetch, type Dispatcher, type Response } from 'undici';
import type { LlmSettings } from '../config/settings.js';
import { EgressRefusedError, NameResolutionError } from '../egress/guard.js';
import { ApiError } from '../errors.js';
import { mergeAnswers } from './merge-answers.js';
import { chunkDocument } from './reduce.js';

/**
 * The operator's language model: any OpenAI-compatible chat-completions endpoint (hosted APIs, Ollama,
 * llama.cpp, vLLM), configured with SNAPWIRE_LLM_*. The document is reduced first and, when longer than
 * the token budget, read in parts whose answers are merged (reduce.ts, merge-answers.ts); the model is
 * asked for JSON, and an answer that does not parse is sent back once with the parse error. Every call
 * goes through the egress guard's rules for operator-configured endpoints (egress/operator-endpoint.ts):
 * the `dispatcher` pins each connection to a checked address.
 */

export interface ModelUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export type ModelTask = { kind: 'prompt'; prompt: string } | { kind: 'model'; model: string };

export interface ModelInput {
  document: string;
  documentKind: 'html' | 'json' | 'text';
  url: string | undefined;
  task: ModelTask;
  /** Epoch ms: the whole call (both tries) ends by then. */
  deadline: number;
}

export interface ModelAnswer {
  data: unknown;
  /** text/plain for a free-text answer, application/json otherwise. */
  contentType: string;
  /** Set when the document was cut to the token budget. */
  dataQuality: string | undefined;
  usage: ModelUsage;
  /** Chat-completion calls made (one per part of the document, plus one per answer that was not JSON). */
  calls: number;
}

export interface ModelClient {
  extract(input: ModelInput): Promise<ModelAnswer>;
}

/**
 * The JSON shape asked for each auto-extraction model (docs/compat.md "Extraction API"): fields the model
 * cannot find are null.
 */
export const MODEL_SHAPES: Record<string, string> = {
  product:
    '{"name": string, "description": string|null, "brand": string|null, "sku": string|null, "price": {"amount": number, "currency": string}|null, "availability": string|null, "images": [string], "rating": {"value": number, "count": number}|null, "url": string|null}',
  product_listing:
    '{"products": [{"name": string, "price": {"amount": number, "currency": string}|null, "url": string|null, "image": string|null}], "next_page": string|null}',
  article:
    '{"headline": string, "author": string|null, "published_at": string|null, "summary": string|null, "text": string, "images": [string]}',
  job_posting:
    '{"title": string, "company": string|null, "location": string|null, "employment_type": string|null, "salary": {"min": number|null, "max": number|null, "currency": string|null, "period": string|null}|null, "posted_at": string|null, "description": string}',
  job_listing:
    '{"jobs": [{"title": string, "company": string|null, "location": string|null, "url": string|null}], "next_page": string|null}',
  review_list:
    '{"reviews": [{"author": string|null, "rating": number|null, "title": string|null, "text": string, "date": string|null}], "average_rating": number|null}',
  event:
    '{"name": string, "start": string|null, "end": string|null, "location": string|null, "organizer": string|null, "price": {"amount": number, "currency": string}|null, "description": string|null}',
  organization:
    '{"name": string, "description": string|null, "address": string|null, "email": string|null, "phone": string|null, "website": string|null, "social_links": [string]}',
  real_estate_property:
    '{"title": string, "price": {"amount": number, "currency": string}|null, "address": string|null, "bedrooms": number|null, "bathrooms": number|null, "area": {"value": number, "unit": string}|null, "description": string|null}',
};

const SYSTEM = [
  'You extract information from a document for a program.',
  'Answer with one JSON value and nothing else: no prose, no code fences.',
  'Use only what the document says; use null for what it does not say.',
].join(' ');

interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The JSON of a model's answer, tolerating the code fences models add anyway. */
export function parseModelJson(content: string): unknown {
  const fenced = /^\s*```(?:json)?\s*\n?([\s\S]*?)\n?```\s*$/i.exec(content);
  return JSON.parse((fenced ? fenced[1]! : content).trim());
}

export class OpenAiCompatibleModel implements ModelClient {
  constructor(
    private readonly settings: LlmSettings,
    private readonly logger: Logger,
    private readonly dispatcher: Dispatcher,
  ) {}

  async extract(input: ModelInput): Promise<ModelAnswer> {
    const { maxInputTokens, maxChunks } = this.settings;
    const document = chunkDocument(input.document, input.documentKind, {
      baseUrl: input.url,
      maxTokens: maxInputTokens,
      maxChunks,
    });
    const usage: ModelUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
    const counter = { calls: 0 };
    const parts = document.chunks.length > 0 ? document.chunks : [''];
    const answers: unknown[] = [];
    // One part after the other: a local model server usually runs one request at a time anyway.
    for (const [index, chunk] of parts.entries()) {
      const part =
        parts.length > 1
          ? ` (part ${index + 1} of ${parts.length} of a longer document: answer from this part only)`
          : document.truncated
            ? ' (cut to its beginning)'
            : '';
      answers.push(await this.ask(input, `${part}:\n\n${chunk}`, usage, counter));
    }
    const data = mergeAnswers(answers);
    const notes: string[] = [];
    if (parts.length > 1) {
      notes.push(
        `the document was read in ${parts.length} parts of up to ${maxInputTokens} tokens (SNAPWIRE_LLM_MAX_INPUT_TOKENS) whose answers were merged`,
      );
    }
    if (document.truncated) {
      notes.push(
        `the document was cut to ${parts.length * maxInputTokens} tokens (${maxChunks} parts of ${maxInputTokens}: SNAPWIRE_LLM_MAX_CHUNKS, SNAPWIRE_LLM_MAX_INPUT_TOKENS) before extraction`,
      );
    }
    return {
      data,
      contentType: typeof data === 'string' ? 'text/plain' : 'application/json',
      dataQuality: notes.length > 0 ? notes.join('; ') : undefined,
      usage,
      calls: counter.calls,
    };
  }

  /** One question about one part of the document: its JSON answer, asked again once when it does not parse. */
  private async ask(
    input: ModelInput,
    documentText: string,
    usage: ModelUsage,
    counter: { calls: number },
  ): Promise<unknown> {
    const question =
      input.task.kind === 'prompt'
        ? `Request: ${input.task.prompt}\n\nIf the request asks for structured data, answer a JSON object or array; otherwise answer a JSON string holding your answer.`
        : `Extract the ${input.task.model.replace(/_/g, ' ')} described by the document as JSON of this shape: ${MODEL_SHAPES[input.task.model]}`;
    const messages: ChatMessage[] = [
      { role: 'system', content: SYSTEM },
      {
        role: 'user',
        content: `${question}\n\nDocument${input.url ? ` (from ${input.url})` : ''}${documentText}`,
      },
    ];
    let lastError = '';
    for (let attempt = 0; attempt < 2; attempt++) {
      const content = await this.complete(messages, usage, input.deadline);
      counter.calls++;
      try {
        return parseModelJson(content);
      } catch (error) {
        lastError = (error as Error).message;
        // Once more, with the model's own answer and why it did not parse.
        messages.push(
          { role: 'assistant', content: content.slice(0, 4_000) },
          {
            role: 'user',
            content: `That is not valid JSON (${lastError}). Answer again with only the JSON value.`,
          },
        );
      }
    }
    throw new ApiError(
      'ERR::EXTRACTION::DATA_ERROR',
      `The language model did not answer valid JSON, twice (${lastError}); retry, or rephrase the prompt to ask for the data plainly`,
    );
  }

  private async complete(messages: ChatMessage[], usage: ModelUsage, deadline: number): Promise<string> {
    const remaining = Math.min(this.settings.timeoutMs, deadline - Date.now());
    if (remaining <= 0) throw timeout();
    let response: Response;
    try {
      response = await fetch(`${this.settings.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.settings.apiKey ? { authorization: `Bearer ${this.settings.apiKey}` } : {}),
        },
        body: JSON.stringify({ model: this.settings.model, messages, temperature: 0 }),
        signal: AbortSignal.timeout(remaining),
        redirect: 'manual',
        dispatcher: this.dispatcher,
      });
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') throw timeout();
      const cause = (error as Error).cause;
      if (cause instanceof EgressRefusedError || cause instanceof NameResolutionError) {
        // The operator's log says which address and why; the caller only that the guard refused it.
        this.logger.warn({ reason: cause.message }, 'the egress guard refused the language model endpoint');
        throw unavailable('is refused by the egress guard (the service log says why)');
      }
      this.logger.warn({ err: error }, 'the language model could not be reached');
      throw unavailable('could not be reached');
    }
    if (response.status >= 300 && response.status < 400) {
      throw unavailable(`answered a redirect (HTTP ${response.status}), which Snapwire does not follow`);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') throw timeout();
      body = undefined;
    }
    if (!response.ok) {
      this.logger.warn({ status: response.status }, 'the language model answered an error');
      throw unavailable(`answered HTTP ${response.status}`);
    }
    const answer = body as {
      choices?: Array<{ message?: { content?: unknown } }>;
      usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
    };
    const content = answer?.choices?.[0]?.message?.content;
    if (typeof content !== 'string') {
      throw unavailable('answered something that is not a chat completion (no choices[0].message.content)');
    }
    usage.promptTokens += answer.usage?.prompt_tokens ?? 0;
    usage.completionTokens += answer.usage?.completion_tokens ?? 0;
    usage.totalTokens +=
      answer.usage?.total_tokens ??
      (answer.usage?.prompt_tokens ?? 0) + (answer.usage?.completion_tokens ?? 0);
    return content;
  }
}

const timeout = () =>
  new ApiError(
    'ERR::EXTRACTION::TIMEOUT',
    'The language model did not answer within the timeout; retry, raise timeout, or send a shorter document',
  );

// The endpoint's address is the operator's: callers are told what happened, not where.
const unavailable = (what: string) =>
  new ApiError(
    'ERR::EXTRACTION::MODEL_UNAVAILABLE',
    `The language model configured on this Snapwire host ${what}; retry later, or tell the operator (SNAPWIRE_LLM_BASE_URL)`,
    { retryAfterSeconds: 5 },
  );
