// The `scrape` tool: a page's content as text for a model (markdown by default), through the service's
// Web Scraping API (/scrape, docs/compat.md §7).

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  SCRAPE_FORMAT_OPTIONS,
  SCRAPE_FORMATS,
  UpstreamHttpError,
  type ScrapeParams,
  type ScrapeResult,
  type ScrapeScenarioStep,
  type SnapwireClient,
} from '@snapwire/sdk';
import { z } from 'zod';
import { downscale } from './downscale.js';
import { errorResult } from './results.js';

/** Longest content answered whole (characters); a model's context is the limit, not the service's. */
export const DEFAULT_SCRAPE_MAX_CHARS = 100_000;
/** Width the `screenshot` image is shrunk to for the model's context (the screenshot tool's default). */
const SCREENSHOT_MAX_WIDTH = 1280;
/** The name the tool's one screenshot has in `screenshots[NAME]`. */
const SCREENSHOT_NAME = 'page';
/** How much of an error page the tool error shows. */
const ERROR_PAGE_CHARS = 2_000;

export const scrapeShape = {
  url: z
    .string()
    .min(1)
    .describe('The page to read: a full http:// or https:// URL (https://example.com/docs/start).'),
  format: z
    .enum(SCRAPE_FORMATS)
    .optional()
    .describe(
      'How the content comes back. markdown (default here) is the page as Markdown with absolute links and tables kept: best for reading; text is plain text; clean_html is the HTML without scripts and styles; raw is the body exactly as served; json is a JSON answer as JSON.',
    ),
  format_options: z
    .array(z.enum(SCRAPE_FORMAT_OPTIONS))
    .optional()
    .describe(
      'only_content keeps the main article (no navigation, footers, ads): use it to read an article or docs page; no_links and no_images drop links and images to save space. Not with raw or json.',
    ),
  render_js: z
    .boolean()
    .optional()
    .describe(
      'true loads the page in a real Chromium and answers the rendered DOM: needed for pages built by JavaScript (single-page apps) that come back empty otherwise. Slower and costs more credits (6 instead of 1).',
    ),
  wait_for_selector: z
    .string()
    .optional()
    .describe(
      'With render_js: CSS selector or XPath that must be visible before reading (e.g. ".results li").',
    ),
  js: z
    .string()
    .max(16_384)
    .optional()
    .describe(
      'With render_js: plain JavaScript run in the page before reading (body of an async function), e.g. to click "show more". A returned value is answered after the content.',
    ),
  js_scenario: z
    .array(z.record(z.string(), z.unknown()))
    .max(100)
    .optional()
    .describe(
      'Steps run in order on the page before reading (implies render_js), each an object with one key: {"click": {"selector": "#more"}}, {"fill": {"selector": "input[name=q]", "value": "lamps"}}, {"select": {"selector": "#size", "value": "L"}}, {"wait": 500}, {"wait_for_selector": {"selector": ".results"}}, {"wait_for_navigation": {}}, {"scroll": {"selector": "bottom"}}, {"execute": {"script": "return document.title"}}, {"condition": {"selector": ".empty", "action": "exit_success"}}. A failing step is a tool error naming its index.',
    ),
  screenshot: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Also answer an image of the page after the steps (implies render_js): fullpage, viewport, or a CSS selector / XPath of one element (e.g. "#cart").',
    ),
  session: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe(
      'A name for a cookie jar kept across scrapes: cookies a page sets (a login, a cart) are sent again on the next scrape with the same session.',
    ),
  country: z
    .string()
    .optional()
    .describe(
      'Egress country (us, or us,ca,mx, or -gb); only when the operator configured country proxies, else it is recorded and the page is fetched from the host itself.',
    ),
  timeout: z
    .number()
    .int()
    .min(1000)
    .max(120_000)
    .optional()
    .describe('Whole-request budget in milliseconds (default 60000).'),
  max_chars: z
    .number()
    .int()
    .min(1000)
    .max(1_000_000)
    .optional()
    .describe(
      `Longest content answered, in characters (default ${DEFAULT_SCRAPE_MAX_CHARS}); a longer page is cut and says so. Use format_options only_content first to read less.`,
    ),
};

type ScrapeInput = z.infer<z.ZodObject<typeof scrapeShape>>;

function toScrapeParams(input: ScrapeInput): ScrapeParams {
  // Steps and screenshots need the browser; an explicit render_js false is sent and refused by the service.
  const needsBrowser = input.js_scenario !== undefined || input.screenshot !== undefined;
  const renderJs = input.render_js ?? (needsBrowser ? true : undefined);
  return {
    url: input.url,
    format: input.format ?? 'markdown',
    ...(input.format_options ? { format_options: input.format_options } : {}),
    ...(renderJs !== undefined ? { render_js: renderJs } : {}),
    // The service checks each step and names the index of one it does not understand.
    ...(input.js_scenario ? { js_scenario: input.js_scenario as unknown as ScrapeScenarioStep[] } : {}),
    ...(input.screenshot ? { screenshots: { [SCREENSHOT_NAME]: input.screenshot } } : {}),
    ...(input.session ? { session: input.session } : {}),
    ...(input.country ? { country: input.country } : {}),
    ...(input.wait_for_selector ? { wait_for_selector: input.wait_for_selector } : {}),
    ...(input.js ? { js: input.js } : {}),
    ...(input.timeout !== undefined ? { timeout: input.timeout } : {}),
  };
}

const credits = (n: number) => `${n} credit${n === 1 ? '' : 's'}`;

function cut(text: string, maxChars: number): { text: string; cut: boolean } {
  return text.length <= maxChars ? { text, cut: false } : { text: text.slice(0, maxChars), cut: true };
}

/** The content first (what the model asked for), then one short block of facts about it. */
function contentResult(scrape: ScrapeResult, maxChars: number): CallToolResult {
  const { result } = scrape;
  const facts = [
    `Scraped ${result.url} (HTTP ${result.status_code}), ${scrape.config.format} of ${result.response_headers['content-type'] ?? 'a page without a content type'}, ${credits(scrape.context.cost.total)}`,
    `Log: ${result.log_url} (log_uuid ${scrape.uuid})`,
  ];
  if (scrape.context.proxy.country)
    facts.push(`Fetched through the ${scrape.context.proxy.country} egress proxy`);
  if (result.format === 'binary') {
    return {
      content: [
        {
          type: 'text',
          text: `The page is not text (${result.response_headers['content-type'] ?? 'binary'}, ${result.size} bytes): nothing to read. Use the screenshot tool to look at it.`,
        },
        { type: 'text', text: facts.join('\n') },
      ],
    };
  }
  const shown = cut(result.content, maxChars);
  if (shown.cut)
    facts.unshift(
      `The content was cut at ${maxChars} of ${result.content.length} characters: raise max_chars, or use format_options only_content.`,
    );
  const evaluation = result.browser_data.javascript_evaluation_result;
  if (evaluation !== undefined && evaluation !== null)
    facts.push(`js returned: ${JSON.stringify(evaluation)}`);
  return {
    content: [
      { type: 'text', text: shown.text === '' ? '(the page is empty)' : shown.text },
      { type: 'text', text: facts.join('\n') },
    ],
  };
}

/** A target's 4xx/5xx: a tool error naming the code and status, with the start of the page it answered. */
function upstreamErrorResult(error: UpstreamHttpError): CallToolResult {
  const { result } = error.scrape;
  const page = cut(result.content, ERROR_PAGE_CHARS);
  const text = [
    `${error.code}: the target answered HTTP ${error.upstreamStatus}${result.reason ? ` ${result.reason}` : ''} for ${result.url}.`,
    `Log: ${result.log_url}`,
    ...(page.text.trim() === '' ? [] : [`Its page${page.cut ? ' (start)' : ''}:`, page.text]),
  ].join('\n');
  return { content: [{ type: 'text', text }], isError: true };
}

export function registerScrapeTool(server: McpServer, client: SnapwireClient): void {
  server.registerTool(
    'scrape',
    {
      title: 'Read a web page',
      description:
        "Fetch a URL and return its content as text: Markdown by default (links absolute, tables kept), or plain text, cleaned HTML, the raw body or JSON. Use it to read an article, documentation, a listing or an API answer. Without render_js it is one fast HTTP request; set render_js for pages built by JavaScript. js_scenario clicks, fills and waits on the page first; screenshot adds an image of it; session keeps cookies (a login) across calls. A target's HTTP error (404, 500) and a failed scrape come back as tool errors naming an ERR:: code.",
      inputSchema: scrapeShape,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async (input, extra): Promise<CallToolResult> => {
      try {
        const scrape = await client.scrape(toScrapeParams(input), { signal: extra.signal });
        const answer = contentResult(scrape, input.max_chars ?? DEFAULT_SCRAPE_MAX_CHARS);
        const shot = scrape.result.screenshots?.[SCREENSHOT_NAME];
        if (!shot) return answer;
        const { image, contentType } = await client.scrapeScreenshot(shot, { signal: extra.signal });
        const fitted = await downscale(image, contentType, SCREENSHOT_MAX_WIDTH);
        const about = `Screenshot (${input.screenshot}): ${contentType}, ${image.length} bytes${fitted.resized ? `, shown shrunk to ${fitted.width}x${fitted.height}` : `, ${fitted.width}x${fitted.height}`}; full size at ${shot.url} (add ?key=YOUR_KEY)`;
        return {
          content: [
            ...answer.content,
            { type: 'image', data: fitted.data.toString('base64'), mimeType: fitted.mimeType },
            { type: 'text', text: about },
          ],
        };
      } catch (error) {
        if (error instanceof UpstreamHttpError) return upstreamErrorResult(error);
        return errorResult(error);
      }
    },
  );
}
