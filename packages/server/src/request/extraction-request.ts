import { ApiError } from '../errors.js';
import { parseTemplateJson, type Template } from '../extraction/template.js';
import type { Query } from './rules.js';

/**
 * POST /extraction's query as both SDKs send it (docs/compat.md "Extraction API"): scrapfly-sdk 0.11.1
 * (TypeScript) extractionconfig.ts toApiParams, and scrapfly-sdk 0.10.5 (Python) extraction_config.py
 * to_api_params. The document itself is the body (extraction/document.ts decodes it).
 */

export const EXTRACTION_PARAMETERS = [
  'key',
  'content_type',
  'url',
  'charset',
  'extraction_template',
  'extraction_prompt',
  'extraction_model',
  'webhook_name',
  'timeout',
] as const;

export const EXTRACTION_LIMITS = {
  minTimeoutMs: 1_000,
  defaultTimeoutMs: 30_000,
  maxPromptLength: 10_000,
} as const;

/** What kind of document a content type names, for the rules engine and the model. */
export type DocumentKind = 'html' | 'json' | 'text';

/** Media types the Extraction API reads, by kind (XML is read by the HTML parser). */
const MEDIA_KINDS: Record<string, DocumentKind> = {
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'text/xml': 'html',
  'application/xml': 'html',
  'application/rss+xml': 'html',
  'application/atom+xml': 'html',
  'application/json': 'json',
  'application/ld+json': 'json',
  'text/json': 'json',
  'text/plain': 'text',
  'text/markdown': 'text',
  'text/csv': 'text',
};

/** Auto-extraction models (extraction_model): Scrapfly's kinds, each answered in a documented shape. */
export const EXTRACTION_MODELS = [
  'product',
  'product_listing',
  'article',
  'job_posting',
  'job_listing',
  'review_list',
  'event',
  'organization',
  'real_estate_property',
] as const;
export type ExtractionModel = (typeof EXTRACTION_MODELS)[number];

export type TemplateChoice =
  | { kind: 'ephemeral'; template: Template }
  /** persistent:NAME (TypeScript SDK) or a bare NAME (Python SDK). */
  | { kind: 'saved'; name: string };

export type ExtractionMethod =
  | { kind: 'template'; template: TemplateChoice }
  | { kind: 'prompt'; prompt: string }
  | { kind: 'model'; model: ExtractionModel };

export interface ExtractionRequest {
  /** The media type, lower case, without parameters. */
  contentType: string;
  documentKind: DocumentKind;
  /** The charset parameter, or the charset of content_type; undefined: UTF-8 (invalid bytes replaced). */
  charset: string | undefined;
  url: string | undefined;
  method: ExtractionMethod;
  timeoutMs: number;
  /** webhook_name: the extraction runs as a queued job and its answer is delivered to this webhook. */
  webhookName: string | undefined;
}

/** How a document of this media type (lower case, no parameters) is read; undefined: not extractable. */
export const documentKindOf = (contentType: string): DocumentKind | undefined => MEDIA_KINDS[contentType];

const configError = (reason: string) => new ApiError('ERR::EXTRACTION::CONFIG_ERROR', reason);

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw configError(`${name} was given ${value.length} times; give it once`);
  return value === undefined || value === '' ? undefined : value;
}

/** The Python SDK's quote_plus before the query is encoded again: `what+is+it%3F` arrives for `what is it?`. */
const QUOTE_PLUS_SHAPED = /^[A-Za-z0-9%+._~*'()!-]*$/;
function unquotePlus(prompt: string): string {
  if (!QUOTE_PLUS_SHAPED.test(prompt) || !/\+|%[0-9A-Fa-f]{2}/.test(prompt)) return prompt;
  try {
    return decodeURIComponent(prompt.replace(/\+/g, ' '));
  } catch {
    return prompt;
  }
}

/** base64url with or without padding (the TypeScript SDK strips it, the Python SDK keeps it). */
function decodeBase64Url(value: string, name: string): string {
  const compact = value.replace(/=+$/, '');
  if (!/^[A-Za-z0-9_-]*$/.test(compact)) {
    throw configError(`${name} after "ephemeral:" is not base64url; encode the template JSON with base64url`);
  }
  return Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
}

/** extraction_template as both APIs take it (also /scrape's): ephemeral:BASE64URL, persistent:NAME or NAME. */
export function parseTemplateChoice(value: string): TemplateChoice {
  if (value.startsWith('ephemeral:')) {
    return {
      kind: 'ephemeral',
      template: parseTemplateJson(decodeBase64Url(value.slice('ephemeral:'.length), 'extraction_template')),
    };
  }
  const name = value.startsWith('persistent:') ? value.slice('persistent:'.length) : value;
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) {
    throw configError(
      'extraction_template must be ephemeral:BASE64URL (a template sent with the call) or the name of a saved template (persistent:NAME or NAME: letters, digits, dot, dash, underscore)',
    );
  }
  return { kind: 'saved', name };
}

/** Parses the query of POST /extraction; every refusal names the parameter and what to send. */
export function parseExtractionRequest(query: Query, options: { maxTimeoutMs: number }): ExtractionRequest {
  for (const name of Object.keys(query)) {
    if (!(EXTRACTION_PARAMETERS as readonly string[]).includes(name)) {
      throw configError(
        `Unknown parameter ${name}; the Extraction API takes ${EXTRACTION_PARAMETERS.join(', ')}`,
      );
    }
  }
  const contentTypeText = single(query, 'content_type');
  if (!contentTypeText) {
    throw configError('content_type is required: the media type of the document in the body, e.g. text/html');
  }
  const [mediaType = '', ...parameters] = contentTypeText.split(';').map((part) => part.trim());
  const contentType = mediaType.toLowerCase();
  const documentKind = MEDIA_KINDS[contentType];
  if (!documentKind) {
    throw new ApiError(
      'ERR::EXTRACTION::CONTENT_TYPE_NOT_SUPPORTED',
      `content_type ${contentType || '(empty)'} is not supported; send one of ${Object.keys(MEDIA_KINDS).join(', ')}`,
    );
  }
  const charsetParameter = parameters
    .map((parameter) => /^charset\s*=\s*"?([^";]+)"?$/i.exec(parameter)?.[1])
    .find(Boolean);
  const charset = single(query, 'charset') ?? charsetParameter;

  const urlText = single(query, 'url');
  let url: string | undefined;
  if (urlText !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(urlText);
    } catch {
      throw configError(
        'url must be the absolute http(s) address of the document, e.g. https://example.com/page',
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw configError('url must be an http or https address (it makes the links of the document absolute)');
    }
    url = parsed.href;
  }

  const templateText = single(query, 'extraction_template');
  const promptText = single(query, 'extraction_prompt');
  const modelText = single(query, 'extraction_model');
  const given = [
    templateText && 'extraction_template',
    promptText && 'extraction_prompt',
    modelText && 'extraction_model',
  ].filter(Boolean);
  if (given.length !== 1) {
    throw configError(
      given.length === 0
        ? 'Give one of extraction_template (rules), extraction_prompt (a question for the language model) or extraction_model (an auto-extraction model such as product or article)'
        : `Give only one of ${given.join(' and ')}: each is a way to extract`,
    );
  }
  let method: ExtractionMethod;
  if (templateText) method = { kind: 'template', template: parseTemplateChoice(templateText) };
  else if (promptText) {
    const prompt = unquotePlus(promptText);
    if (prompt.length > EXTRACTION_LIMITS.maxPromptLength) {
      throw configError(`extraction_prompt is longer than ${EXTRACTION_LIMITS.maxPromptLength} characters`);
    }
    method = { kind: 'prompt', prompt };
  } else {
    const model = modelText!.toLowerCase();
    if (!(EXTRACTION_MODELS as readonly string[]).includes(model)) {
      throw configError(
        `extraction_model ${modelText} is not known; use one of ${EXTRACTION_MODELS.join(', ')}`,
      );
    }
    method = { kind: 'model', model: model as ExtractionModel };
  }

  const timeoutText = single(query, 'timeout');
  let timeoutMs: number = EXTRACTION_LIMITS.defaultTimeoutMs;
  if (timeoutText !== undefined) {
    timeoutMs = Number(timeoutText);
    if (
      !Number.isInteger(timeoutMs) ||
      timeoutMs < EXTRACTION_LIMITS.minTimeoutMs ||
      timeoutMs > options.maxTimeoutMs
    ) {
      throw configError(
        `timeout must be a whole number of milliseconds from ${EXTRACTION_LIMITS.minTimeoutMs} to ${options.maxTimeoutMs}`,
      );
    }
  }
  const webhookName = single(query, 'webhook_name');
  return { contentType, documentKind, charset, url, method, timeoutMs, webhookName };
}
