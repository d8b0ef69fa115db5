// The crawl tools for agents: crawl_start, crawl_status and crawl_read, over the service's Crawler API
// (/crawl, docs/compat.md §9). A crawl runs on the service; the agent polls and reads page by page.

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CRAWL_CONTENT_FORMATS, type SnapwireClient } from '@snapwire/sdk';
import { z } from 'zod';
import { guarded, jsonResult, textResult } from './results.js';
import { DEFAULT_SCRAPE_MAX_CHARS } from './scrape-tool.js';

const URLS_PER_READ = 100;
const uuidShape = z.string().min(1).describe('The crawler_uuid crawl_start answered.');

export function registerCrawlTools(server: McpServer, client: SnapwireClient): void {
  server.registerTool(
    'crawl_start',
    {
      title: 'Crawl a website',
      description:
        'Start crawling a site from a URL: the service follows its links (same host and folder, robots.txt respected) within the limits, keeping each page as Markdown by default. Answers a crawler_uuid at once; then call crawl_status until it is finished, and crawl_read to list and read the pages. Each page costs 1 credit.',
      inputSchema: {
        url: z
          .string()
          .min(1)
          .describe('Start URL, e.g. https://example.com/docs/ (the crawl keeps to /docs/).'),
        page_limit: z
          .number()
          .int()
          .min(1)
          .max(10_000)
          .optional()
          .describe('Most pages to visit (default 50).'),
        max_depth: z
          .number()
          .int()
          .min(1)
          .max(100)
          .optional()
          .describe('Most links away from the start URL.'),
        format: z
          .enum(CRAWL_CONTENT_FORMATS)
          .optional()
          .describe('How pages are kept: markdown (default), text, html, clean_html, json, page_metadata.'),
        exclude_paths: z.array(z.string()).optional().describe('Path rules to skip, e.g. ["/blog/*"].'),
        include_only_paths: z
          .array(z.string())
          .optional()
          .describe('Only these path rules, e.g. ["/docs/*"] (not with exclude_paths).'),
      },
      annotations: { readOnlyHint: false, openWorldHint: true },
    },
    async (input, extra) =>
      guarded(async () => {
        const { crawler_uuid } = await client.startCrawl(
          {
            url: input.url,
            page_limit: input.page_limit ?? 50,
            content_formats: [input.format ?? 'markdown'],
            ...(input.max_depth !== undefined ? { max_depth: input.max_depth } : {}),
            ...(input.exclude_paths ? { exclude_paths: input.exclude_paths } : {}),
            ...(input.include_only_paths ? { include_only_paths: input.include_only_paths } : {}),
          },
          { signal: extra.signal },
        );
        return textResult(
          `Crawl started: crawler_uuid ${crawler_uuid}. Call crawl_status with it until is_finished is true, then crawl_read to list the pages and read them.`,
        );
      }),
  );

  server.registerTool(
    'crawl_status',
    {
      title: "A crawl's progress",
      description:
        "A crawl's status: PENDING, RUNNING, DONE or CANCELLED, is_finished, and counts (urls_visited, urls_to_crawl, urls_failed, urls_skipped, api_credit_used, stop_reason).",
      inputSchema: { crawler_uuid: uuidShape },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (input, extra) =>
      guarded(async () => jsonResult(await client.crawlStatus(input.crawler_uuid, { signal: extra.signal }))),
  );

  server.registerTool(
    'crawl_read',
    {
      title: "Read a crawl's pages",
      description: `Without url: the crawl's visited pages, ${URLS_PER_READ} a page (page 1, 2, …). With url: that page's content in the crawl's format (markdown by default).`,
      inputSchema: {
        crawler_uuid: uuidShape,
        url: z.string().optional().describe('A visited page to read; leave out to list the pages.'),
        format: z
          .enum(CRAWL_CONTENT_FORMATS)
          .optional()
          .describe('The format the crawl kept (default markdown).'),
        page: z.number().int().min(1).optional().describe('Which page of the URL list (default 1).'),
        max_chars: z
          .number()
          .int()
          .min(1000)
          .max(1_000_000)
          .optional()
          .describe(
            `Longest content answered (default ${DEFAULT_SCRAPE_MAX_CHARS}); longer is cut and says so.`,
          ),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (input, extra): Promise<CallToolResult> =>
      guarded(async () => {
        if (input.url) {
          const content = await client.crawlContent(
            input.crawler_uuid,
            input.url,
            input.format ?? 'markdown',
            {
              signal: extra.signal,
            },
          );
          const max = input.max_chars ?? DEFAULT_SCRAPE_MAX_CHARS;
          if (content.length <= max) return textResult(content === '' ? '(the page is empty)' : content);
          return {
            content: [
              { type: 'text', text: content.slice(0, max) },
              {
                type: 'text',
                text: `The content was cut at ${max} of ${content.length} characters: raise max_chars.`,
              },
            ],
          };
        }
        const page = input.page ?? 1;
        const urls = await client.crawlUrls(
          input.crawler_uuid,
          { status: 'visited', page, perPage: URLS_PER_READ },
          { signal: extra.signal },
        );
        if (urls.length === 0) return textResult(`No visited pages on page ${page} of the list.`);
        const more = urls.length === URLS_PER_READ ? `\nMore: call crawl_read with page ${page + 1}.` : '';
        return textResult(
          `Visited pages (page ${page}):\n${urls.map((entry) => entry.url).join('\n')}${more}`,
        );
      }),
  );
}
