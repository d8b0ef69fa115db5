// The `extract` tool: structured data out of a web page or a document an agent holds, by a prompt, a saved
// template, rules sent with the call or an auto-extraction model, through the service's Extraction API
// (POST /extraction, docs/compat.md §8). A URL is scraped by the service first (/scrape, no browser).

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  EXTRACTION_MODELS,
  UpstreamHttpError,
  type ExtractParams,
  type ExtractionTemplate,
  type SnapwireClient,
} from '@snapwire/sdk';
import { z } from 'zod';
import { errorResult } from './results.js';

export const extractShape = {
  url: z
    .string()
    .min(1)
    .optional()
    .describe(
      'The page to extract from (http:// or https://): the service fetches it first. With document, the address the document came from (links are made absolute against it).',
    ),
  document: z
    .string()
    .max(5_000_000)
    .optional()
    .describe(
      'The document itself, when you already have it (HTML, JSON, XML, markdown or text): instead of fetching url.',
    ),
  content_type: z
    .string()
    .optional()
    .describe('With document: its media type (default text/html), e.g. application/json or text/markdown.'),
  prompt: z
    .string()
    .max(10_000)
    .optional()
    .describe(
      'What to get, in words, answered by the operator\'s language model: a question ("what is the return policy?") or the JSON you want ("the products as a JSON list of {name, price}").',
    ),
  template: z
    .string()
    .optional()
    .describe('The name of a rules template saved in the project (fast, exact, no language model).'),
  template_rules: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      'A rules template sent with the call: {"selectors": [{"name": "title", "type": "css", "query": "h1::text"}, {"name": "price", "type": "css", "query": ".price", "extractor": {"name": "price"}}]}; types css, xpath, jmespath (JSON), regex; multiple, nested, formatters, extractors.',
    ),
  model: z
    .enum(EXTRACTION_MODELS)
    .optional()
    .describe(
      "An auto-extraction model: the page as a documented JSON shape (product, article, job_posting, ...), by the operator's language model.",
    ),
};

type ExtractInput = z.infer<z.ZodObject<typeof extractShape>>;

const usage = (text: string): CallToolResult => ({ content: [{ type: 'text', text }], isError: true });

const credits = (n: number | undefined) =>
  n === undefined ? 'cost unknown' : `${n} credit${n === 1 ? '' : 's'}`;

/** Which way to extract, or what the call is missing (told to the model so that it can call again). */
function methodOf(
  input: ExtractInput,
): Pick<ExtractParams, 'template' | 'ephemeral_template' | 'prompt' | 'model'> | string {
  const given = (['prompt', 'template', 'template_rules', 'model'] as const).filter(
    (name) => input[name] !== undefined && input[name] !== '',
  );
  if (given.length !== 1) {
    return given.length === 0
      ? 'Say what to extract: give prompt (in words), template (a saved name), template_rules (rules) or model (product, article, ...).'
      : `Give only one of ${given.join(' and ')}.`;
  }
  if (input.prompt) return { prompt: input.prompt };
  if (input.template) return { template: input.template };
  if (input.template_rules) return { ephemeral_template: input.template_rules as ExtractionTemplate };
  return { model: input.model! };
}

export function registerExtractTool(server: McpServer, client: SnapwireClient): void {
  server.registerTool(
    'extract',
    {
      title: 'Extract structured data',
      description:
        'Get structured data (JSON) out of a web page (url) or a document you have (document): by a prompt in words, a saved rules template, rules sent with the call, or an auto-extraction model (product, article, job posting, ...). Use it instead of reading a whole page when you need particular fields. Prompts and models need the language model the operator configured; rules work without one. Failures come back as tool errors naming an ERR:: code.',
      inputSchema: extractShape,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async (input, extra): Promise<CallToolResult> => {
      const method = methodOf(input);
      if (typeof method === 'string') return usage(method);
      if (input.document === undefined && !input.url) {
        return usage('Give url (a page to fetch) or document (the text to extract from).');
      }
      try {
        let source: Pick<ExtractParams, 'body' | 'content_type' | 'url'>;
        if (input.document !== undefined) {
          source = {
            body: input.document,
            content_type: input.content_type ?? 'text/html',
            ...(input.url ? { url: input.url } : {}),
          };
        } else {
          const page = await client.scrape({ url: input.url! }, { signal: extra.signal });
          if (page.result.format !== 'text') {
            return usage(
              `${page.result.url} is not a text document (${page.result.content_type ?? 'binary'}): nothing to extract.`,
            );
          }
          // The content arrives decoded: its media type only, without the page's charset.
          const served = (page.result.content_type ?? 'text/html').split(';')[0]!.trim();
          source = { body: page.result.content, content_type: served, url: page.result.url };
        }
        const result = await client.extract({ ...source, ...method }, { signal: extra.signal });
        const how = method.prompt
          ? 'the prompt'
          : method.template
            ? `the saved template "${method.template}"`
            : method.model
              ? `the ${method.model} model`
              : 'the rules sent';
        const facts = [
          `Extracted from ${source.url ?? `the ${source.content_type} document`} by ${how}: ${result.content_type}, ${credits(result.cost)}${result.data_quality ? `, data quality: ${result.data_quality}` : ''}`,
          `Log uuid: ${result.logUuid ?? 'unknown'}`,
        ];
        const data = typeof result.data === 'string' ? result.data : JSON.stringify(result.data, null, 2);
        return {
          content: [
            { type: 'text', text: data },
            { type: 'text', text: facts.join('\n') },
          ],
        };
      } catch (error) {
        if (error instanceof UpstreamHttpError) {
          return usage(
            `${error.code}: the page answered HTTP ${error.upstreamStatus} for ${input.url}; nothing to extract.`,
          );
        }
        return errorResult(error);
      }
    },
  );
}
