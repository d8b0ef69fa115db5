import type { Command } from 'commander';
import { runListener } from '@snapwire/sdk';
import { fail } from '../output.js';

/** Every kind of delivery the service sends (docs/compat.md §3): all are saved unless --only narrows them. */
const DELIVERY_TYPES = ['screenshot', 'scrape', 'extraction', 'crawler', 'monitor'] as const;

export function registerListenCommand(program: Command): void {
  program
    .command('listen')
    .description(
      'run a local webhook receiver: verify signatures and save each delivery that arrives (screenshots, scrapes, extractions, crawler events, monitor changes)',
    )
    .requiredOption('--secret <secret...>', 'webhook signing secret (repeat while rotating)')
    .option('--out <dir>', 'folder for received images and their .json metadata', './received')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8787')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option(
      '--only <type...>',
      `save only these resource types (${DELIVERY_TYPES.join(', ')}); others are acknowledged`,
    )
    .action(
      async (options: { secret: string[]; out: string; port: string; host: string; only?: string[] }) => {
        const port = Number(options.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          fail(`--port must be 0-65535; got "${options.port}"`);
        const unknown = (options.only ?? []).filter(
          (type) => !(DELIVERY_TYPES as readonly string[]).includes(type),
        );
        if (unknown.length > 0)
          fail(`--only takes ${DELIVERY_TYPES.join(', ')}; got "${unknown.join(', ')}"`);
        const listener = await runListener({
          port,
          host: options.host,
          secrets: options.secret,
          outDir: options.out,
          resourceTypes: options.only ?? DELIVERY_TYPES,
        });
        process.stdout.write(
          `Listening for webhook deliveries at ${listener.url} (saving to ${options.out}); Ctrl-C stops.\n`,
        );
        const stop = () => void listener.close().then(() => process.exit(0));
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      },
    );
}
