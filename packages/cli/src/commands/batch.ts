import { Option, type Command } from 'commander';
import {
  SCREENSHOT_FORMATS,
  SCREENSHOT_OPTIONS,
  SnapwireClient,
  type ScreenshotFormat,
  type ScreenshotOption,
  type ScreenshotParams,
  type VisionDeficiency,
} from '@snapwire/sdk';
import { InputError, readUrls } from '../batch/inputs.js';
import { Progress } from '../batch/progress.js';
import { parseFailOnStatus, runBatch, summaryTable } from '../batch/run.js';
import { addConnectionOptions, resolveConnection } from '../connection.js';
import { fail } from '../output.js';
import {
  addCaptureExtensionOptions,
  captureExtensionParams,
  type CaptureExtensionFlags,
} from '../capture-flags.js';

interface BatchFlags extends CaptureExtensionFlags {
  out: string;
  concurrency: string;
  force?: boolean;
  failOnStatus?: string;
  json?: boolean;
  host?: string;
  key?: string;
  format?: string;
  capture?: string;
  resolution?: string;
  renderingWait?: string;
  waitForSelector?: string;
  timeout?: string;
  js?: string;
  options?: string;
  autoScroll?: boolean;
  visionDeficiency?: string;
  country?: string;
  cache?: boolean;
  cacheTtl?: string;
  cacheClear?: boolean;
}

// Throttling is waited out this many times per URL (Retry-After at least, doubling from 1 s up to 30 s
// per wait: about three minutes in all); other failures are reported at once, and a second run
// retries them (resume).
const THROTTLE_RETRIES = 10;
const THROTTLE_MAX_WAIT_MS = 30_000;

function integer(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    fail(`${flag} must be a whole number ${min}-${max}; got "${value}"`);
  return n;
}

function screenshotParams(flags: BatchFlags): Omit<ScreenshotParams, 'url'> {
  const params: Omit<ScreenshotParams, 'url'> = {};
  if (flags.format) params.format = flags.format as ScreenshotFormat;
  if (flags.capture) params.capture = flags.capture;
  if (flags.resolution) params.resolution = flags.resolution;
  const wait = integer(flags.renderingWait, '--rendering-wait', 0, 60_000);
  if (wait !== undefined) params.rendering_wait = wait;
  if (flags.waitForSelector) params.wait_for_selector = flags.waitForSelector;
  const timeout = integer(flags.timeout, '--timeout', 1000, 600_000);
  if (timeout !== undefined) params.timeout = timeout;
  if (flags.js) params.js = flags.js;
  if (flags.options) params.options = flags.options.split(',').map((o) => o.trim()) as ScreenshotOption[];
  if (flags.autoScroll) params.auto_scroll = true;
  if (flags.visionDeficiency) params.vision_deficiency = flags.visionDeficiency as VisionDeficiency;
  if (flags.country) params.country = flags.country;
  if (flags.cache) params.cache = true;
  const ttl = integer(flags.cacheTtl, '--cache-ttl', 1, 31_536_000);
  if (ttl !== undefined) params.cache_ttl = ttl;
  if (flags.cacheClear) params.cache_clear = true;
  return { ...params, ...captureExtensionParams(flags) };
}

export function registerBatchCommand(program: Command): void {
  const command = program
    .command('batch <file>')
    .description(
      'capture many URLs: FILE has one URL per line, or is a sitemap.xml (path or URL); resumable, writes DIR/report.json',
    )
    .requiredOption('-o, --out <dir>', 'folder for the images and report.json')
    .option('-c, --concurrency <n>', 'captures in flight at once', '4')
    .option('--force', 'capture again URLs whose file already exists')
    .option(
      '--fail-on-status <list>',
      'count a page that answered one of these statuses as failed (its image is not kept), e.g. 4xx,5xx or 404,410',
    )
    .option('--json', 'print the report as JSON instead of the summary table')
    .addOption(new Option('--format <format>', 'image format').choices(SCREENSHOT_FORMATS))
    .option('--capture <area>', 'viewport, fullpage, vertical, a CSS selector or an XPath')
    .option('--resolution <WxH>', 'viewport size, e.g. 1280x800')
    .option('--rendering-wait <ms>', 'wait after load before capturing')
    .option('--wait-for-selector <selector>', 'CSS selector or XPath to wait for')
    .option('--timeout <ms>', 'whole-request budget per URL')
    .option('--js <script>', 'JavaScript run in the page before capturing (plain text)')
    .option('--options <list>', `comma list: ${SCREENSHOT_OPTIONS.join(', ')}`)
    .option('--auto-scroll', 'scroll to the bottom and back first')
    .option('--vision-deficiency <kind>', 'deuteranopia, protanopia, tritanopia, achromatopsia, …')
    .option('--country <spec>', 'egress country (operator proxies)')
    .option('--cache', 'serve stored images of identical requests')
    .option('--cache-ttl <seconds>', 'with --cache: how old a stored image may be')
    .option('--cache-clear', 'with --cache: render anew')
    .action(async (file: string, flags: BatchFlags) => {
      const { host, key } = resolveConnection(flags);
      const concurrency = integer(flags.concurrency, '--concurrency', 1, 64)!;
      const params = screenshotParams(flags);
      const failOnStatus =
        flags.failOnStatus === undefined ? undefined : parseFailOnStatus(flags.failOnStatus);
      if (typeof failOnStatus === 'string') fail(failOnStatus);
      let urls: string[];
      try {
        urls = await readUrls(file);
      } catch (error) {
        if (error instanceof InputError) fail(error.message);
        throw error;
      }
      if (urls.length === 0) fail(`${file} holds no URLs`);

      const progress = new Progress(process.stderr);
      const client = new SnapwireClient({
        host,
        key,
        retry: {
          retries: THROTTLE_RETRIES,
          maxDelayMs: THROTTLE_MAX_WAIT_MS,
          retryOn: (error) => error.httpStatus === 429,
          onRetry: ({ delayMs, error }) =>
            progress.note(`throttled (${error.code}), waiting ${Math.ceil(delayMs / 1000)} s`),
        },
      });

      // Ctrl-C: stop starting new captures, let the ones in flight finish, keep the report true.
      const stop = new AbortController();
      const onSignal = () => {
        if (stop.signal.aborted) process.exit(130);
        process.stderr.write('\nstopping: finishing captures in flight (Ctrl-C again to quit now)\n');
        stop.abort();
      };
      process.on('SIGINT', onSignal);
      const report = await runBatch({
        client,
        urls,
        outDir: flags.out,
        concurrency,
        params,
        force: Boolean(flags.force),
        failOnStatus,
        progress,
        signal: stop.signal,
      });
      process.off('SIGINT', onSignal);
      process.stdout.write(
        flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${summaryTable(report, flags.out)}\n`,
      );
      if (report.failed > 0 || report.pending > 0) process.exitCode = 1;
    });
  // Parsed with the others: commander reads every option before running the action.
  addConnectionOptions(command);
  addCaptureExtensionOptions(command);
}
