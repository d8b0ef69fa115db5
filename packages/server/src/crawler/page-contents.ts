import type { CrawlContentFormat } from '../request/crawl-request.js';
import type { UpstreamAnswer } from '../scrape/fetch-upstream.js';
import { formatContent } from '../scrape/formats.js';
import { isApiError } from '../errors.js';
import { pageMetadata } from './links.js';

/** content_formats to the Web Scraping API's formats (scrape/formats.ts); html is the body as served. */
const SCRAPE_FORMAT = {
  html: 'raw',
  clean_html: 'clean_html',
  markdown: 'markdown',
  text: 'text',
  json: 'json',
} as const;

/** Content types of each format in plain mode (GET /crawl/{uuid}/contents?plain=true). */
export const FORMAT_CONTENT_TYPES: Record<CrawlContentFormat, string> = {
  html: 'text/html; charset=utf-8',
  clean_html: 'text/html; charset=utf-8',
  markdown: 'text/markdown; charset=utf-8',
  text: 'text/plain; charset=utf-8',
  json: 'application/json; charset=utf-8',
  page_metadata: 'application/json; charset=utf-8',
  extracted_data: 'application/json; charset=utf-8',
};

/**
 * A page in each format the crawl asked for. A format the page cannot give (json of an HTML page, any text
 * format of an image) is left out of the page's contents rather than failing the page.
 */
export function pageContents(
  answer: UpstreamAnswer,
  formats: readonly CrawlContentFormat[],
): Record<string, string> {
  const contents: Record<string, string> = {};
  const body = { bytes: answer.body, contentType: answer.headers['content-type'], url: answer.url };
  for (const format of formats) {
    // The extraction rules' answer: crawler/page-extraction.ts adds it.
    if (format === 'extracted_data') continue;
    if (format === 'page_metadata') {
      const html = /html/i.test(body.contentType ?? 'text/html') ? answer.body.toString('utf8') : '';
      contents[format] = JSON.stringify(
        pageMetadata(html, { url: answer.url, status: answer.status, contentType: body.contentType }),
      );
      continue;
    }
    try {
      const formatted = formatContent(body, SCRAPE_FORMAT[format], []);
      if (formatted.format === 'text') contents[format] = formatted.content;
    } catch (error) {
      if (!isApiError(error)) throw error;
    }
  }
  return contents;
}
