import type { Caller } from '../accounts/projects.js';
import { compileTemplate, runTemplate, type CompiledTemplate } from '../extraction/rules.js';
import type { TemplateStore } from '../extraction/template-store.js';
import type { TemplateChoice } from '../request/extraction-request.js';

/**
 * /scrape's extraction_template (docs/compat.md "Web Scraping API"): the same rules engine as POST
 * /extraction, run on the page as scraped, answered as result.extracted_data {data, content_type}.
 */

/** The template to run, looked up and compiled before the scrape: an unknown name or a bad rule costs nothing. */
export async function resolveScrapeTemplate(
  templates: TemplateStore,
  caller: Caller,
  choice: TemplateChoice,
): Promise<CompiledTemplate> {
  const template = choice.kind === 'saved' ? await templates.resolve(caller, choice.name) : choice.template;
  return compileTemplate(template);
}

/** extractFromPage with `budgetMs` from now (for callers whose rooms do not read the wall clock). */
export function extractWithin(
  compiled: CompiledTemplate,
  page: { body: Buffer; contentType: string | undefined; url: string },
  budgetMs: number,
): { data: unknown; content_type: string } {
  return extractFromPage(compiled, page, Date.now() + budgetMs);
}

/** Runs the template on the page's body, read in the charset its content-type names (UTF-8 otherwise). */
export function extractFromPage(
  compiled: CompiledTemplate,
  page: { body: Buffer; contentType: string | undefined; url: string },
  deadline: number,
): { data: unknown; content_type: string } {
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(page.contentType ?? '')?.[1];
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset ?? 'utf-8');
  } catch {
    decoder = new TextDecoder('utf-8');
  }
  const data = runTemplate(compiled, decoder.decode(page.body), { url: page.url, deadline, now: Date.now });
  return { data, content_type: 'application/json' };
}
