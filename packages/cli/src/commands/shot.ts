import fs from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  SCREENSHOT_FORMATS,
  SCREENSHOT_OPTIONS,
  SnapwireClient,
  type ScreenshotFormat,
  type ScreenshotOption,
  type ScreenshotParams,
  VISION_DEFICIENCIES,
  type VisionDeficiency,
} from '@snapwire/sdk';
import {
  addConnectionOptions,
  explainCallFailure,
  resolveConnection,
  type ConnectionOptions,
} from '../connection.js';
import {
  addCaptureExtensionOptions,
  captureExtensionParams,
  type CaptureExtensionFlags,
} from '../capture-flags.js';

const wholeNumber = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} takes a whole number; got "${value}"`);
  return Number(value);
};

function optionList(value: string): ScreenshotOption[] {
  const list = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  for (const item of list) {
    if (!(SCREENSHOT_OPTIONS as readonly string[]).includes(item))
      throw new InvalidArgumentError(`unknown option "${item}"; use ${SCREENSHOT_OPTIONS.join(', ')}`);
  }
  return list as ScreenshotOption[];
}

interface ShotOptions extends ConnectionOptions, CaptureExtensionFlags {
  out?: string;
  format?: ScreenshotFormat;
  capture?: string;
  resolution?: string;
  country?: string;
  timeout?: number;
  renderingWait?: number;
  waitForSelector?: string;
  options?: ScreenshotOption[];
  autoScroll?: boolean;
  js?: string;
  jsFile?: string;
  cache?: boolean;
  cacheTtl?: number;
  cacheClear?: boolean;
  visionDeficiency?: VisionDeficiency;
  webhook?: string;
}

export function registerShotCommand(program: Command): void {
  const command = program
    .command('shot <url>')
    .description('take one screenshot through a Snapwire (or Scrapfly) host and save it')
    .option('-o, --out <file>', 'where to save the image or PDF (default: shot.<ext>)')
    .addOption(
      new Option('--format <format>', 'image format (service default jpg), or pdf').choices(
        SCREENSHOT_FORMATS,
      ),
    )
    .option('--capture <area>', 'viewport, fullpage, vertical, a CSS selector or an XPath')
    .option('--resolution <WxH>', 'viewport size, e.g. 1280x800 (service default 1920x1080)')
    .option('--country <spec>', 'egress country: us, us,ca,mx, -gb, us:10,gb:5 (needs operator proxies)')
    .option('--timeout <ms>', 'whole-request budget in ms (service default 60000)', wholeNumber('--timeout'))
    .option(
      '--rendering-wait <ms>',
      'wait after load in ms (service default 1000)',
      wholeNumber('--rendering-wait'),
    )
    .option('--wait-for-selector <selector>', 'CSS selector or XPath that must be visible first')
    .option('--options <list>', `comma list of ${SCREENSHOT_OPTIONS.join(', ')}`, optionList)
    .option('--auto-scroll', 'scroll to the bottom and back first (lazy content)')
    .option('--js <script>', 'JavaScript to run in the page first (sent base64url-encoded)')
    .option('--js-file <file>', 'the same, read from a file')
    .option('--cache', 'serve a stored image of the same request (no cost)')
    .option('--cache-ttl <seconds>', 'how old a cached image may be', wholeNumber('--cache-ttl'))
    .option('--cache-clear', 'render anew and replace the cached image')
    .addOption(
      new Option('--vision-deficiency <kind>', 'emulated vision deficiency').choices(VISION_DEFICIENCIES),
    )
    .option('--webhook <name>', 'asynchronous: deliver to this webhook and print the 201 promise');
  addCaptureExtensionOptions(command);
  addConnectionOptions(command).action(async (url: string, options: ShotOptions) => {
    const { host, key } = resolveConnection(options);
    const js = options.jsFile ? await fs.readFile(options.jsFile, 'utf8') : options.js;
    const params: ScreenshotParams & { webhook_name?: undefined } = {
      url,
      ...(options.format ? { format: options.format } : {}),
      ...(options.capture ? { capture: options.capture } : {}),
      ...(options.resolution ? { resolution: options.resolution } : {}),
      ...(options.country ? { country: options.country } : {}),
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
      ...(options.renderingWait !== undefined ? { rendering_wait: options.renderingWait } : {}),
      ...(options.waitForSelector ? { wait_for_selector: options.waitForSelector } : {}),
      ...(options.options ? { options: options.options } : {}),
      ...(options.autoScroll ? { auto_scroll: true } : {}),
      ...(js ? { js } : {}),
      ...(options.cache ? { cache: true } : {}),
      ...(options.cacheTtl !== undefined ? { cache_ttl: options.cacheTtl } : {}),
      ...(options.cacheClear ? { cache_clear: true } : {}),
      ...(options.visionDeficiency ? { vision_deficiency: options.visionDeficiency } : {}),
      ...captureExtensionParams(options),
    };
    const client = new SnapwireClient({ host, key });
    try {
      if (options.webhook) {
        const accepted = await client.screenshot({ ...params, webhook_name: options.webhook });
        process.stdout.write(`${JSON.stringify(accepted, null, 2)}\n`);
        return;
      }
      const shot = await client.screenshot(params);
      const file = options.out ?? `shot.${shot.extension}`;
      await fs.writeFile(file, shot.image);
      process.stdout.write(
        `${file}: ${shot.image.length} bytes, upstream ${shot.upstreamStatus}, log ${shot.logUuid ?? '-'}\n`,
      );
    } catch (error) {
      explainCallFailure(error, host);
    }
  });
  command.addHelpText(
    'after',
    `\nEnvironment:\n  SNAPWIRE_HOST  API address (now: ${process.env.SNAPWIRE_HOST ?? 'unset, so http://localhost:8080'})\n  SNAPWIRE_KEY   project API key (now: ${process.env.SNAPWIRE_KEY ? 'set' : 'unset'})\n`,
  );
}
