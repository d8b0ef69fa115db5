// `snapwire extract FILE|URL`: one call of the Extraction API (POST /extraction) on a local document, or on
// a page the service scrapes first (/scrape, then /extraction with its content); the data as JSON to stdout.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import {
  EXTRACTION_MODELS,
  SnapwireClient,
  UpstreamHttpError,
  type ExtractionModel,
  type ExtractionTemplate,
  type ExtractParams,
} from '@snapwire/sdk';
import {
  addConnectionOptions,
  explainCallFailure,
  resolveConnection,
  type ConnectionOptions,
} from '../connection.js';
import { wholeNumber } from '../option-values.js';
import { fail } from '../output.js';
import { readTemplateFile } from './template-file.js';

interface ExtractOptions extends ConnectionOptions {
  template?: string;
  templateFile?: string;
  prompt?: string;
  model?: ExtractionModel;
  contentType?: string;
  url?: string;
  timeout?: number;
  json?: boolean;
}

/** Media types by file extension; anything else needs --content-type. */
const TYPES_BY_EXTENSION: Record<string, string> = {
  '.html': 'text/html',
  '.htm': 'text/html',
  '.xhtml': 'application/xhtml+xml',
  '.xml': 'text/xml',
  '.json': 'application/json',
  '.md': 'text/markdown',
  '.txt': 'text/plain',
  '.csv': 'text/csv',
};

const isUrl = (source: string) => /^https?:\/\//i.test(source);

/** The document: a file's bytes, or the page the service scraped (its content and media type). */
async function readSource(
  client: SnapwireClient,
  source: string,
  options: ExtractOptions,
  host: string,
): Promise<{ body: string | Buffer; contentType: string; url: string | undefined }> {
  if (isUrl(source)) {
    try {
      const page = await client.scrape({ url: source });
      if (page.result.format !== 'text') {
        fail(
          `${source} answered ${page.result.content_type ?? 'a binary body'}: extract reads text documents`,
        );
      }
      // The content arrives decoded (UTF-8 here): its media type only, without the page's charset.
      const served = (page.result.content_type ?? 'text/html').split(';')[0]!.trim();
      return { body: page.result.content, contentType: options.contentType ?? served, url: page.result.url };
    } catch (error) {
      if (error instanceof UpstreamHttpError) {
        fail(
          `the page answered HTTP ${error.upstreamStatus} for ${source} (${error.code}); nothing to extract`,
        );
      }
      explainCallFailure(error, host);
    }
  }
  const contentType = options.contentType ?? TYPES_BY_EXTENSION[path.extname(source).toLowerCase()];
  if (!contentType) {
    fail(`cannot tell the media type of ${source} from its name: pass --content-type (e.g. text/html)`);
  }
  const body = await fs
    .readFile(source)
    .catch((error: NodeJS.ErrnoException) => fail(`cannot read ${source} (${error.code ?? error.message})`));
  return { body, contentType, url: options.url };
}

export function registerExtractCommand(program: Command): void {
  const command = program
    .command('extract <source>')
    .description(
      'extract structured data from a document FILE, or from a URL the service scrapes first, by a saved template, a template file, a prompt or a model; the data as JSON',
    )
    .option('--template <name>', 'a template saved in the project (snapwire templates put NAME FILE)')
    .option('--template-file <file>', 'a rules template (JSON) sent with the call')
    .option('--prompt <text>', "a request about the document for the operator's language model")
    .addOption(new Option('--model <kind>', 'an auto-extraction model').choices(EXTRACTION_MODELS))
    .option('--content-type <type>', 'media type of the document (default: from the file name, or as served)')
    .option('--url <address>', "the document's address, to make its links absolute (a FILE only)")
    .option('--timeout <ms>', 'extraction budget in ms (service default 30000)', wholeNumber('--timeout'))
    .option('--json', 'print the whole answer (data, content_type, cost, log) instead of the data');
  addConnectionOptions(command).action(async (source: string, options: ExtractOptions) => {
    const { host, key } = resolveConnection(options);
    const methods = (['template', 'templateFile', 'prompt', 'model'] as const).filter(
      (name) => options[name] !== undefined,
    );
    if (methods.length !== 1) {
      fail(
        methods.length === 0
          ? 'say how to extract: --template NAME, --template-file FILE, --prompt TEXT or --model KIND'
          : 'give only one of --template, --template-file, --prompt and --model',
      );
    }
    if (options.url && isUrl(source)) fail('--url is for a FILE: a URL source is its own address');
    const ephemeral: ExtractionTemplate | undefined = options.templateFile
      ? await readTemplateFile(options.templateFile)
      : undefined;
    const client = new SnapwireClient({ host, key });
    const document = await readSource(client, source, options, host);
    const params: ExtractParams = {
      body: document.body,
      content_type: document.contentType,
      ...(document.url ? { url: document.url } : {}),
      ...(options.template ? { template: options.template } : {}),
      ...(ephemeral ? { ephemeral_template: ephemeral } : {}),
      ...(options.prompt ? { prompt: options.prompt } : {}),
      ...(options.model ? { model: options.model } : {}),
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
    };
    try {
      const result = await client.extract(params);
      process.stdout.write(`${JSON.stringify(options.json ? result : result.data, null, 2)}\n`);
    } catch (error) {
      explainCallFailure(error, host);
    }
  });
  command.addHelpText(
    'after',
    `\nA URL is scraped by the service (/scrape, without a browser) and its content extracted (/extraction):\nboth calls are billed and logged.\n\nExamples:\n  snapwire extract page.html --template product\n  snapwire extract https://example.com/item --template-file product.json --json\n  snapwire extract notes.txt --prompt 'List the dates as JSON'\n`,
  );
}
