import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { SnapwireClient, SnapwireApiError, type ScreenshotFormat } from '@snapwire/sdk';
import { fail } from '../output.js';

export function registerShotCommand(program: Command): void {
  program
    .command('shot <url>')
    .description('take one screenshot through a Snapwire (or Scrapfly) host and save it')
    .option('-o, --out <file>', 'where to save the image (default: shot.<ext>)')
    .option('--format <format>', 'jpg, png, webp or gif', 'jpg')
    .option('--capture <area>', 'viewport, fullpage, a CSS selector or an XPath')
    .option('--resolution <WxH>', 'viewport size, e.g. 1280x800')
    .option('--host <url>', 'API host', process.env.SNAPWIRE_HOST ?? 'http://localhost:8080')
    .option('--key <key>', 'project API key (or SNAPWIRE_KEY)', process.env.SNAPWIRE_KEY)
    .action(
      async (
        url: string,
        options: {
          out?: string;
          format: string;
          capture?: string;
          resolution?: string;
          host: string;
          key?: string;
        },
      ) => {
        if (!options.key) fail('give the project key with --key or SNAPWIRE_KEY');
        const client = new SnapwireClient({ host: options.host, key: options.key });
        try {
          const shot = await client.screenshot({
            url,
            format: options.format as ScreenshotFormat,
            ...(options.capture ? { capture: options.capture } : {}),
            ...(options.resolution ? { resolution: options.resolution } : {}),
          });
          const file = options.out ?? `shot.${shot.extension}`;
          await fs.writeFile(file, shot.image);
          process.stdout.write(
            `${file}: ${shot.image.length} bytes, upstream ${shot.upstreamStatus}, log ${shot.logUuid ?? '-'}\n`,
          );
        } catch (error) {
          if (error instanceof SnapwireApiError) fail(`${error.code}: ${error.reason}`);
          throw error;
        }
      },
    );
}
