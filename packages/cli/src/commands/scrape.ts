// `snapwire scrape URL`: one call of the Web Scraping API (/scrape); the content to stdout or a file.
import fs from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  SCRAPE_FORMAT_OPTIONS,
  SCRAPE_FORMATS,
  SCRAPE_METHODS,
  scrapeContent,
  SnapwireClient,
  UpstreamHttpError,
  type ScrapeFormat,
  type ScrapeFormatOption,
  type ScrapeMethod,
  type ScrapeParams,
  type ScrapeResult,
  type ScrapeScenarioStep,
} from '@snapwire/sdk';
import {
  addConnectionOptions,
  explainCallFailure,
  resolveConnection,
  type ConnectionOptions,
} from '../connection.js';
import { fail } from '../output.js';
import { wholeNumber } from '../option-values.js';

function addFormatOption(value: string, previous: ScrapeFormatOption[] = []): ScrapeFormatOption[] {
  const list = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  for (const item of list) {
    if (!(SCRAPE_FORMAT_OPTIONS as readonly string[]).includes(item))
      throw new InvalidArgumentError(
        `unknown format option "${item}"; use ${SCRAPE_FORMAT_OPTIONS.join(', ')}`,
      );
  }
  return [...previous, ...(list as ScrapeFormatOption[])];
}

/** NAME:VALUE as curl writes it (NAME=VALUE too, as `snapwire shot --header` takes it). */
function addHeader(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.search(/[:=]/);
  if (at <= 0) throw new InvalidArgumentError(`--header takes NAME:VALUE; got "${value.slice(0, 40)}"`);
  return { ...previous, [value.slice(0, at).trim().toLowerCase()]: value.slice(at + 1).trimStart() };
}

/** NAME=fullpage|viewport|SELECTOR; a selector may hold `=` itself, so only the first one splits. */
function addScreenshot(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0 || at === value.length - 1)
    throw new InvalidArgumentError(
      `--screenshot takes NAME=fullpage, NAME=viewport or NAME=SELECTOR; got "${value.slice(0, 40)}"`,
    );
  return { ...previous, [value.slice(0, at).trim()]: value.slice(at + 1).trim() };
}

const commaList = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

interface ScrapeOptions extends ConnectionOptions {
  out?: string;
  json?: boolean;
  method?: ScrapeMethod;
  data?: string;
  header?: Record<string, string>;
  format?: ScrapeFormat;
  formatOption?: ScrapeFormatOption[];
  renderJs?: boolean;
  waitForSelector?: string;
  js?: string;
  renderingWait?: number;
  autoScroll?: boolean;
  timeout?: number;
  lang?: string[];
  costBudget?: number;
  tags?: string[];
  correlationId?: string;
  webhook?: string;
  jsScenario?: string;
  screenshot?: Record<string, string>;
  session?: string;
  country?: string;
}

/** The steps of --js-scenario FILE: a JSON list; a file that cannot be read or parsed ends the command. */
async function readScenario(file: string): Promise<ScrapeScenarioStep[]> {
  const text = await fs
    .readFile(file, 'utf8')
    .catch((error: NodeJS.ErrnoException) =>
      fail(`--js-scenario ${file}: cannot read the file (${error.code ?? error.message})`),
    );
  let steps: unknown;
  try {
    steps = JSON.parse(text);
  } catch (error) {
    fail(`--js-scenario ${file}: not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(steps))
    fail(`--js-scenario ${file}: must hold a JSON list of steps, e.g. [{"click": {"selector": "#go"}}]`);
  // Each step is checked by the service, which names the index of one it does not understand.
  return steps as ScrapeScenarioStep[];
}

/** Each `result.screenshots.NAME` image, fetched with the key, saved next to `out` as NAME.EXT. */
async function saveScreenshots(client: SnapwireClient, scrape: ScrapeResult, out: string): Promise<void> {
  for (const [name, shot] of Object.entries(scrape.result.screenshots ?? {})) {
    const file = path.join(path.dirname(out), `${name}.${shot.extension}`);
    const { image } = await client.scrapeScreenshot(shot);
    await fs.writeFile(file, image);
    process.stdout.write(`${file}: ${image.length} bytes, screenshot ${name} (${shot.format})\n`);
  }
}

/** --data VALUE, @FILE (its bytes) or @- (stdin), as curl reads it. */
async function readData(data: string): Promise<string | Buffer> {
  if (!data.startsWith('@')) return data;
  const file = data.slice(1);
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  return fs
    .readFile(file)
    .catch((error: NodeJS.ErrnoException) =>
      fail(`--data ${data}: cannot read ${file} (${error.code ?? error.message})`),
    );
}

export function registerScrapeCommand(program: Command): void {
  const command = program
    .command('scrape <url>')
    .description(
      "scrape one page through a Snapwire (or Scrapfly) host's Web Scraping API; its content to stdout or a file",
    )
    .option('-o, --out <file>', 'write the content to this file instead of stdout')
    .option('--json', 'print the whole answer (the scrape envelope) as JSON instead of the content')
    .addOption(
      new Option('--format <format>', 'content format (service default raw: the page as served)').choices(
        SCRAPE_FORMATS,
      ),
    )
    .option(
      '--format-option <list>',
      `with --format: ${SCRAPE_FORMAT_OPTIONS.join(', ')} (comma list, repeatable)`,
      addFormatOption,
    )
    .addOption(
      new Option('-X, --method <method>', 'HTTP method sent to the target (default GET)').choices(
        SCRAPE_METHODS,
      ),
    )
    .option('-d, --data <body>', 'request body for the target: text, @FILE or @- (stdin)')
    .option('-H, --header <NAME:VALUE>', 'request header for the target (repeatable)', addHeader)
    .option('--render-js', 'load the page in Chromium and answer its rendered DOM (GET only)')
    .option('--wait-for-selector <selector>', 'with --render-js: CSS selector or XPath that must be visible')
    .option(
      '--js <file>',
      'with --render-js: JavaScript file run in the page; its return value is in the --json answer',
    )
    .option(
      '--js-scenario <file>',
      'with --render-js: JSON file with the list of steps run on the page (click, fill, wait_for_selector …)',
    )
    .option(
      '--screenshot <NAME=WHAT>',
      'with --render-js: an image of the page, WHAT fullpage, viewport or a selector (repeatable); with -o saved next to the output file as NAME.jpg (or .png), else listed in the --json answer (result.screenshots.NAME.url, fetched with ?key=)',
      addScreenshot,
    )
    .option('--session <name>', 'keep cookies across scrapes under this name (per project and environment)')
    .option('--country <spec>', 'egress country: us, us,ca,mx, -gb, us:10,gb:5 (routed by operator proxies)')
    .option('--rendering-wait <ms>', 'with --render-js: ms to wait last', wholeNumber('--rendering-wait'))
    .option('--auto-scroll', 'with --render-js: scroll to the bottom and back first (lazy content)')
    .option('--timeout <ms>', 'whole-request budget in ms (service default 60000)', wholeNumber('--timeout'))
    .option('--lang <list>', 'languages sent as Accept-Language, e.g. fr,en', commaList)
    .option(
      '--cost-budget <credits>',
      'refuse the scrape if it would cost more',
      wholeNumber('--cost-budget'),
    )
    .option('--tags <list>', 'comma list of tags kept with the scrape', commaList)
    .option('--correlation-id <id>', 'your id for this scrape, kept with it')
    .option(
      '--webhook <name>',
      "asynchronous: the scrape's envelope goes to this webhook; prints the 201 promise (its context.job.uuid)",
    );
  addConnectionOptions(command).action(async (url: string, options: ScrapeOptions) => {
    const { host, key } = resolveConnection(options);
    if (options.formatOption && !options.format)
      fail('--format-option needs --format (e.g. --format markdown)');
    const js = options.js
      ? await fs
          .readFile(options.js, 'utf8')
          .catch((error: NodeJS.ErrnoException) =>
            fail(`--js ${options.js}: cannot read the file (${error.code ?? error.message})`),
          )
      : undefined;
    const jsScenario = options.jsScenario ? await readScenario(options.jsScenario) : undefined;
    const body = options.data !== undefined ? await readData(options.data) : undefined;
    const method = options.method ?? (body !== undefined ? 'POST' : undefined);
    const params: ScrapeParams = {
      url,
      ...(method ? { method } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(options.header ? { headers: options.header } : {}),
      ...(options.format ? { format: options.format } : {}),
      ...(options.formatOption ? { format_options: options.formatOption } : {}),
      ...(options.renderJs ? { render_js: true } : {}),
      ...(options.waitForSelector ? { wait_for_selector: options.waitForSelector } : {}),
      ...(js ? { js } : {}),
      ...(jsScenario ? { js_scenario: jsScenario } : {}),
      ...(options.screenshot ? { screenshots: options.screenshot } : {}),
      ...(options.session ? { session: options.session } : {}),
      ...(options.country ? { country: options.country } : {}),
      ...(options.renderingWait !== undefined ? { rendering_wait: options.renderingWait } : {}),
      ...(options.autoScroll ? { auto_scroll: true } : {}),
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
      ...(options.lang ? { lang: options.lang } : {}),
      ...(options.costBudget !== undefined ? { cost_budget: options.costBudget } : {}),
      ...(options.tags ? { tags: options.tags } : {}),
      ...(options.correlationId ? { correlation_id: options.correlationId } : {}),
      ...(options.webhook ? { webhook_name: options.webhook } : {}),
    };
    const client = new SnapwireClient({ host, key });
    let scrape: ScrapeResult;
    try {
      scrape = await client.scrape(params);
    } catch (error) {
      if (error instanceof UpstreamHttpError) {
        const { result } = error.scrape;
        fail(
          `the target answered HTTP ${error.upstreamStatus} ${result.reason} for ${result.url} (${error.code}; log ${result.log_url})`,
        );
      }
      explainCallFailure(error, host);
    }
    // The promise of an asynchronous scrape has no content: it is printed whole.
    const output =
      options.json || options.webhook ? `${JSON.stringify(scrape, null, 2)}\n` : scrapeContent(scrape);
    if (options.out) {
      await fs.writeFile(options.out, output);
      const { result } = scrape;
      process.stdout.write(
        `${options.out}: ${Buffer.byteLength(output)} bytes, upstream ${result.status_code}, ${scrape.context.cost.total} credits, log ${result.log_url}\n`,
      );
      await saveScreenshots(client, scrape, options.out).catch((error: unknown) =>
        explainCallFailure(error, host),
      );
    } else {
      process.stdout.write(output);
      // At a terminal, end the text on its own line so that the prompt does not follow it; a pipe gets
      // the content exactly.
      if (process.stdout.isTTY && typeof output === 'string' && !output.endsWith('\n'))
        process.stdout.write('\n');
    }
  });
  command.addHelpText(
    'after',
    `\nEnvironment:\n  SNAPWIRE_HOST  API address (now: ${process.env.SNAPWIRE_HOST ?? 'unset, so http://localhost:8080'})\n  SNAPWIRE_KEY   project API key (now: ${process.env.SNAPWIRE_KEY ? 'set' : 'unset'})\n\nExamples:\n  snapwire scrape https://example.com --format markdown --format-option only_content\n  snapwire scrape https://example.com/search -X POST -d @query.json -H content-type:application/json --json\n  snapwire scrape https://example.com --render-js --wait-for-selector '#app' --js extract.js --json\n  snapwire scrape https://example.com/shop --render-js --js-scenario steps.json --screenshot cart=#cart --session shop -o shop.html\n`,
  );
}
