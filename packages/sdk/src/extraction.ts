// The Extraction API (`POST /extraction`, docs/compat.md §8) and its saved templates
// (`/extraction/templates`): parameters, answers and the errors an extraction raises. Kept apart from the
// screenshot client so that the two stay readable.

import { base64url } from './params.js';

/** The auto-extraction models (`model`): each answers a documented JSON shape. */
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

/** A rules template (Scrapfly's format): `{source?, selectors: [{name, type, query, ...}]}`. */
export interface ExtractionTemplate {
  source?: 'html' | 'json';
  selectors: ReadonlyArray<Record<string, unknown>>;
  [extra: string]: unknown;
}

export interface ExtractParams {
  /** The document: text, or bytes (already compressed when `content_encoding` is set). */
  body: string | Uint8Array;
  /** Its media type: `text/html`, `application/json`, `text/xml`, `text/plain`, `text/markdown`, … */
  content_type: string;
  /** The document's address: links are made absolute against it. */
  url?: string;
  /** The document's charset (default UTF-8). */
  charset?: string;
  /** The name of a saved template (sent as `persistent:NAME`). */
  template?: string;
  /** A template sent with the call (sent as `ephemeral:BASE64URL`). */
  ephemeral_template?: ExtractionTemplate;
  /** A request about the document for the operator's language model. */
  prompt?: string;
  /** An auto-extraction model. */
  model?: ExtractionModel;
  /** Budget in milliseconds (service default 30,000). */
  timeout?: number;
  /** How `body` is compressed, when it is. */
  content_encoding?: 'gzip' | 'deflate' | 'zstd';
}

/** What `extract()` resolves to: the service's `{data, content_type, data_quality?}` and its headers. */
export interface ExtractionResult {
  data: unknown;
  content_type: string;
  /** Set when the model saw a shortened document. */
  data_quality?: string;
  cost: number | undefined;
  remainingCredit: number | undefined;
  logUuid: string | undefined;
}

/** A saved template as the service shows it. */
export interface SavedTemplate {
  name: string;
  template: ExtractionTemplate;
  created_at: string;
  updated_at: string;
}

/** The query of `POST /extraction`; exactly one of template, ephemeral_template, prompt and model. */
export function buildExtractionQuery(params: ExtractParams): URLSearchParams {
  if (params === null || typeof params !== 'object') throw new TypeError('extract params must be an object');
  if (typeof params.content_type !== 'string' || params.content_type.trim() === '') {
    throw new TypeError('extract params: `content_type` is required (e.g. text/html)');
  }
  const methods = (['template', 'ephemeral_template', 'prompt', 'model'] as const).filter(
    (name) => params[name] !== undefined && params[name] !== '',
  );
  if (methods.length !== 1) {
    throw new TypeError(
      methods.length === 0
        ? 'extract params: give one of `template` (a saved name), `ephemeral_template`, `prompt` or `model`'
        : `extract params: give only one of ${methods.map((name) => `\`${name}\``).join(' and ')}`,
    );
  }
  const query = new URLSearchParams();
  const put = (name: string, value: string | number | undefined): void => {
    if (value !== undefined && value !== '') query.set(name, String(value));
  };
  put('content_type', params.content_type);
  put('url', params.url);
  put('charset', params.charset);
  if (params.template !== undefined) put('extraction_template', `persistent:${params.template}`);
  if (params.ephemeral_template !== undefined) {
    put('extraction_template', `ephemeral:${base64url(JSON.stringify(params.ephemeral_template))}`);
  }
  put('extraction_prompt', params.prompt);
  put('extraction_model', params.model);
  put('timeout', params.timeout);
  return query;
}
