// Flags for the Snapwire capture extensions (README "Snapwire extensions"), shared by `shot` and `batch`.
// Only the shape is checked here; the service validates the values and explains what it refuses.

import { InvalidArgumentError, Option, type Command } from 'commander';
import type { PdfPaper, ScreenshotParams } from '@snapwire/sdk';

/** The extension parameters only (never url or webhook_name). */
export type ExtensionParams = Partial<Omit<ScreenshotParams, 'url' | 'webhook_name'>>;

export const PDF_PAPERS = ['a3', 'a4', 'a5', 'letter', 'legal', 'tabloid'];

export interface CaptureExtensionFlags {
  header?: Record<string, string>;
  cookie?: string[];
  deviceScaleFactor?: number;
  viewportDevice?: string;
  userAgent?: string;
  hideSelectors?: string[];
  click?: string;
  omitBackground?: boolean;
  pdfPaper?: PdfPaper;
  pdfLandscape?: boolean;
  pdfPrintBackground?: boolean;
  timezone?: string;
  geolocation?: string;
}

function addHeader(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`--header takes NAME=VALUE; got "${value}"`);
  return { ...previous, [value.slice(0, at).trim()]: value.slice(at + 1) };
}

const addCookie = (value: string, previous: string[] = []): string[] => {
  if (!/^[^=;\s]+=/.test(value))
    throw new InvalidArgumentError(`--cookie takes name=value[; Domain=…]; got "${value}"`);
  return [...previous, value];
};

function scaleFactor(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 1 || n > 3)
    throw new InvalidArgumentError(`--device-scale-factor takes a number from 1 to 3; got "${value}"`);
  return n;
}

const selectorList = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

function geolocation(value: string): string {
  if (!/^-?\d+(\.\d+)?,-?\d+(\.\d+)?(,\d+(\.\d+)?)?$/.test(value))
    throw new InvalidArgumentError(
      `--geolocation takes lat,lon[,accuracy], e.g. 48.8566,2.3522; got "${value}"`,
    );
  return value;
}

/** Adds the extension flags to a command. */
export function addCaptureExtensionOptions(command: Command): Command {
  return command
    .option('--header <NAME=VALUE>', 'extra request header to the target origin (repeatable)', addHeader)
    .option(
      '--cookie <cookie>',
      'cookie set before navigation: "name=value; Domain=…" (repeatable)',
      addCookie,
    )
    .option(
      '--device-scale-factor <n>',
      'pixel density 1-3: the image is the resolution times this',
      scaleFactor,
    )
    .option('--viewport-device <name>', 'device preset from GET /devices, e.g. "iPhone 15"')
    .option('--user-agent <ua>', 'override the user agent')
    .option('--hide-selectors <list>', 'comma list of CSS selectors hidden before the capture', selectorList)
    .option('--click <selector>', 'CSS selector or XPath clicked once after load')
    .option('--omit-background', 'transparent background (format png or webp)')
    .addOption(
      new Option('--pdf-paper <size>', 'with --format pdf: paper size (default a4)').choices(PDF_PAPERS),
    )
    .option('--pdf-landscape', 'with --format pdf: landscape pages')
    .option('--pdf-print-background', 'with --format pdf: print background colours and images (default)')
    .option('--no-pdf-print-background', 'with --format pdf: leave background colours and images out')
    .option('--timezone <zone>', 'IANA time zone the page sees, e.g. Europe/Paris')
    .option('--geolocation <lat,lon[,accuracy]>', 'position the page sees', geolocation);
}

/** The parsed flags -> SDK parameters (only the ones given). */
export function captureExtensionParams(flags: CaptureExtensionFlags): ExtensionParams {
  const params: ExtensionParams = {};
  if (flags.header && Object.keys(flags.header).length > 0) params.headers = flags.header;
  if (flags.cookie && flags.cookie.length > 0) params.cookies = flags.cookie;
  if (flags.deviceScaleFactor !== undefined) params.device_scale_factor = flags.deviceScaleFactor;
  if (flags.viewportDevice) params.viewport_device = flags.viewportDevice;
  if (flags.userAgent) params.user_agent = flags.userAgent;
  if (flags.hideSelectors && flags.hideSelectors.length > 0) params.hide_selectors = flags.hideSelectors;
  if (flags.click) params.click = flags.click;
  if (flags.omitBackground) params.omit_background = true;
  if (flags.pdfPaper) params.pdf_paper = flags.pdfPaper;
  if (flags.pdfLandscape) params.pdf_landscape = true;
  // Both --pdf-print-background and --no-… are defined, so commander leaves it undefined unless given.
  if (flags.pdfPrintBackground !== undefined) params.pdf_print_background = flags.pdfPrintBackground;
  if (flags.timezone) params.timezone = flags.timezone;
  if (flags.geolocation) params.geolocation = flags.geolocation;
  return params;
}
