import fs from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { SnapwireClient, type ScreenshotParams } from '@snapwire/sdk';
import { fileStemFor } from '../batch/file-names.js';
import { addConnectionOptions, explainCallFailure, resolveConnection } from '../connection.js';

import { loadServer } from '../server-package.js';

interface CompareFlags {
  baseline: string;
  threshold?: number;
  update?: boolean;
  diffDir?: string;
  capture?: string;
  resolution?: string;
  renderingWait?: number;
  waitForSelector?: string;
  timeout?: number;
  host?: string;
  key?: string;
}

/** What became of one page. `trouble`: it could not be checked (capture or comparison failed). */
type PageOutcome = 'unchanged' | 'changed' | 'new' | 'updated' | 'trouble';

/**
 * Exit codes, as diff(1) has them: 0 nothing changed past the threshold, 1 a page changed, 2 a page could
 * not be checked (its capture or comparison failed), so that CI tells a regression from an outage.
 */
export const EXIT_CHANGED = 1;
export const EXIT_TROUBLE = 2;

const share = (value: string) => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidArgumentError(`--threshold takes a share from 0 to 1 (0.001 = 0.1 %); got "${value}"`);
  }
  return n;
};
const wholeNumber = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} takes a whole number; got "${value}"`);
  return Number(value);
};

export function registerCompareCommand(program: Command): void {
  const command = program
    .command('compare <urls...>')
    .description(
      'visual regression: capture each URL (png) and compare it with its baseline image in --baseline DIR',
    )
    .requiredOption('--baseline <dir>', 'folder of baseline images, <page>.png (a missing one is written)')
    .option(
      '--threshold <share>',
      'changed-pixel share past which a page has changed (default 0.001 = 0.1 %)',
      share,
    )
    .option('--update', 'write the new captures as the baselines (exit 0)')
    .option('--diff-dir <dir>', 'where to write <page>.diff.png of changed pages (default: <baseline>/diff)')
    .option('--capture <area>', 'viewport, fullpage, vertical, a CSS selector or an XPath')
    .option('--resolution <WxH>', 'viewport size, e.g. 1280x800 (service default 1920x1080)')
    .option(
      '--rendering-wait <ms>',
      'wait after load in ms (service default 1000)',
      wholeNumber('--rendering-wait'),
    )
    .option('--wait-for-selector <selector>', 'CSS selector or XPath that must be visible first')
    .option('--timeout <ms>', 'whole-request budget in ms (service default 60000)', wholeNumber('--timeout'));
  // A usage error is trouble too (2), never the 1 that means "a page changed" to a CI script.
  command.exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_TROUBLE));
  addConnectionOptions(command).action(async (urls: string[], flags: CompareFlags) => {
    const { host, key } = resolveConnection(flags);
    const { compareImages } = await loadServer();
    const client = new SnapwireClient({ host, key });
    const diffDir = flags.diffDir ?? path.join(flags.baseline, 'diff');
    await fs.mkdir(flags.baseline, { recursive: true });
    const outcomes: PageOutcome[] = [];
    for (const url of urls) {
      const name = `${fileStemFor(url)}.png`;
      const baselineFile = path.join(flags.baseline, name);
      const say = (status: string, detail: string) =>
        process.stdout.write(`${status.padEnd(9)} ${detail.padEnd(10)} ${url}  ${baselineFile}\n`);
      let image: Buffer;
      try {
        image = await capture(client, host, url, flags);
      } catch (error) {
        outcomes.push('trouble');
        say('error', '-');
        process.stdout.write(`          ${(error as Error).message}\n`);
        continue;
      }
      const baseline = await fs.readFile(baselineFile).catch(() => undefined);
      if (!baseline) {
        await fs.writeFile(baselineFile, image);
        outcomes.push('new');
        say('new', 'baseline');
        continue;
      }
      let comparison: Awaited<ReturnType<typeof compareImages>>;
      try {
        comparison = await compareImages(baseline, image, {
          ...(flags.threshold !== undefined ? { changeThreshold: flags.threshold } : {}),
        });
      } catch (error) {
        outcomes.push('trouble');
        say('error', '-');
        process.stdout.write(`          ${(error as Error).message}\n`);
        continue;
      }
      const score = comparison.score.toFixed(4);
      const sizes =
        comparison.heightChange !== 0
          ? `, height ${comparison.heightChange > 0 ? '+' : ''}${comparison.heightChange} px`
          : '';
      const facts = `${comparison.regions.length} regions${sizes}`;
      if (comparison.changed) {
        await fs.mkdir(diffDir, { recursive: true });
        const diffFile = path.join(diffDir, name.replace(/\.png$/, '.diff.png'));
        await fs.writeFile(diffFile, comparison.diffPng);
        say(flags.update ? 'updated' : 'changed', score);
        process.stdout.write(`          ${facts}; diff ${diffFile}\n`);
      } else {
        say(flags.update ? 'updated' : 'unchanged', score);
      }
      if (flags.update) {
        await fs.writeFile(baselineFile, image);
        outcomes.push('updated');
      } else {
        outcomes.push(comparison.changed ? 'changed' : 'unchanged');
      }
    }
    const count = (outcome: PageOutcome) => outcomes.filter((o) => o === outcome).length;
    process.stdout.write(
      `${urls.length} pages: ${count('unchanged')} unchanged, ${count('changed')} changed, ${count('new')} new baselines, ${count('updated')} updated, ${count('trouble')} errors\n`,
    );
    if (count('trouble') > 0) process.exitCode = EXIT_TROUBLE;
    else if (count('changed') > 0) process.exitCode = EXIT_CHANGED;
  });
}

/** One png capture through the service; a failure becomes the CLI's one-line explanation. */
async function capture(
  client: SnapwireClient,
  host: string,
  url: string,
  flags: CompareFlags,
): Promise<Buffer> {
  const params: ScreenshotParams & { webhook_name?: undefined } = {
    url,
    format: 'png',
    ...(flags.capture ? { capture: flags.capture } : {}),
    ...(flags.resolution ? { resolution: flags.resolution } : {}),
    ...(flags.renderingWait !== undefined ? { rendering_wait: flags.renderingWait } : {}),
    ...(flags.waitForSelector ? { wait_for_selector: flags.waitForSelector } : {}),
    ...(flags.timeout !== undefined ? { timeout: flags.timeout } : {}),
  };
  try {
    return (await client.screenshot(params)).image;
  } catch (error) {
    throw explained(error, host);
  }
}

/** The CLI's explanation of a failed call (explainCallFailure throws it; here it is one page's error). */
function explained(error: unknown, host: string): unknown {
  try {
    explainCallFailure(error, host);
  } catch (explanation) {
    return explanation;
  }
}
