import { isApiError } from '../errors.js';
import { compileTemplate, type CompiledTemplate } from '../extraction/rules.js';
import type { CrawlExtractionRule } from '../request/crawl-request.js';
import type { UpstreamAnswer } from '../scrape/fetch-upstream.js';
import { extractWithin } from '../scrape/extracted-data.js';
import { pathRule } from './url-rules.js';

/** The rules engine's time on one page (its own deadline, under the page's fetch timeout). */
const EXTRACTION_BUDGET_MS = 10_000;

/**
 * A crawl's extraction_rules, compiled once per crawl on a node: the first rule whose pattern matches a
 * page's path runs the Extraction API's rules engine (extraction/rules.ts) on the page as fetched; its
 * answer (its `data`, as JSON) is the page's `extracted_data` content.
 */
export class PageExtraction {
  private readonly rules: Array<{ pattern: RegExp; compiled: CompiledTemplate }>;

  constructor(rules: readonly CrawlExtractionRule[]) {
    this.rules = rules.map((rule) => {
      // Saved templates were looked up when the crawl started (crawler/crawl-service.ts).
      if (rule.template.kind !== 'ephemeral') throw new Error(`unresolved template for ${rule.pattern}`);
      return { pattern: pathRule(rule.pattern), compiled: compileTemplate(rule.template.template) };
    });
  }

  /** The page's extracted_data as JSON text, or undefined (no rule matches, or the page cannot be read). */
  extract(answer: UpstreamAnswer): string | undefined {
    const path = new URL(answer.url).pathname;
    const rule = this.rules.find((candidate) => candidate.pattern.test(path));
    if (!rule) return undefined;
    try {
      const extracted = extractWithin(
        rule.compiled,
        { body: answer.body, contentType: answer.headers['content-type'], url: answer.url },
        EXTRACTION_BUDGET_MS,
      );
      return JSON.stringify(extracted.data);
    } catch (error) {
      // A page the template cannot read (a JSON rule on HTML, the budget spent) has no extracted_data.
      if (!isApiError(error)) throw error;
      return undefined;
    }
  }
}
