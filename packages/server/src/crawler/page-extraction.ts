import { isApiError } from '../errors.js';
import { compileTemplate, type CompiledTemplate } from '../extraction/rules.js';
import type { CrawlExtractionRule } from '../request/crawl-request.js';
import { documentKindOf } from '../request/extraction-request.js';
import type { UpstreamAnswer } from '../scrape/fetch-upstream.js';
import { extractWithin } from '../scrape/extracted-data.js';
import { pathRule } from './url-rules.js';

/** The rules engine's time on one page (its own deadline, under the page's fetch timeout). */
const EXTRACTION_BUDGET_MS = 10_000;

type ModelTask = NonNullable<CrawlExtractionRule['model']>;

/** A page's prompt or model rule, as POST /extraction runs it (jobs/extraction-service.ts extractPage). */
export interface ModelPage {
  url: string;
  body: Buffer;
  contentType: string;
  documentKind: 'html' | 'json' | 'text';
  charset: string | undefined;
  method: ModelTask;
}

/**
 * Asks the operator's language model about one page of a crawl, billed to the crawl's project and logged
 * as an extraction: the answer's data, and the credits it cost. Throws when the extraction failed (it is
 * then neither billed nor stored).
 */
export type PageModelExtract = (
  crawl: { projectId: string; env: 'LIVE' | 'TEST' },
  page: ModelPage,
) => Promise<{ data: unknown; cost: number }>;

/** A page's extracted_data (JSON text) and what its extraction cost beyond the page (a model's price). */
export interface PageExtracted {
  json: string;
  credits: number;
}

/**
 * A crawl's extraction_rules, compiled once per crawl on a node: the first rule whose pattern matches a
 * page's path extracts the page as fetched, with the Extraction API's rules engine (extraction/rules.ts,
 * type template) or its language model (type prompt or model, through `model`); its answer (its `data`,
 * as JSON) is the page's `extracted_data` content.
 */
export class PageExtraction {
  private readonly rules: Array<{ pattern: RegExp; compiled?: CompiledTemplate; model?: ModelTask }>;

  constructor(
    rules: readonly CrawlExtractionRule[],
    private readonly model?: PageModelExtract,
  ) {
    this.rules = rules.map((rule) => {
      if (rule.model) return { pattern: pathRule(rule.pattern), model: rule.model };
      // Saved templates were looked up when the crawl started (crawler/crawl-service.ts).
      if (rule.template.kind !== 'ephemeral') throw new Error(`unresolved template for ${rule.pattern}`);
      return { pattern: pathRule(rule.pattern), compiled: compileTemplate(rule.template.template) };
    });
  }

  /** The page's extracted_data, or undefined (no rule matches, or the page cannot be read). */
  async extract(
    answer: UpstreamAnswer,
    crawl: { projectId: string; env: 'LIVE' | 'TEST' },
  ): Promise<PageExtracted | undefined> {
    const path = new URL(answer.url).pathname;
    const rule = this.rules.find((candidate) => candidate.pattern.test(path));
    if (!rule) return undefined;
    if (rule.model) return this.askModel(answer, crawl, rule.model);
    try {
      const extracted = extractWithin(
        rule.compiled!,
        { body: answer.body, contentType: answer.headers['content-type'], url: answer.url },
        EXTRACTION_BUDGET_MS,
      );
      return { json: JSON.stringify(extracted.data), credits: 0 };
    } catch (error) {
      // A page the template cannot read (a JSON rule on HTML, the budget spent) has no extracted_data.
      if (!isApiError(error)) throw error;
      return undefined;
    }
  }

  private async askModel(
    answer: UpstreamAnswer,
    crawl: { projectId: string; env: 'LIVE' | 'TEST' },
    method: ModelTask,
  ): Promise<PageExtracted | undefined> {
    if (!this.model) return undefined;
    const [media = '', ...parameters] = (answer.headers['content-type'] ?? 'text/html').split(';');
    const contentType = media.trim().toLowerCase();
    const documentKind = documentKindOf(contentType);
    // A page the Extraction API would refuse (an image, a PDF) is not sent to the model.
    if (!documentKind) return undefined;
    const charset = parameters
      .map((parameter) => /^\s*charset\s*=\s*"?([^";]+)"?\s*$/i.exec(parameter)?.[1])
      .find(Boolean);
    try {
      const extracted = await this.model(crawl, {
        url: answer.url,
        body: answer.body,
        contentType,
        documentKind,
        charset,
        method,
      });
      return { json: JSON.stringify(extracted.data ?? null), credits: extracted.cost };
    } catch {
      // The failure is in the page's extraction log (kind `extraction`), unbilled; the page keeps its
      // other formats and has no extracted_data.
      return undefined;
    }
  }
}
