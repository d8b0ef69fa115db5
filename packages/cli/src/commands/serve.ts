import type { Command } from 'commander';
import { loadServer } from '../server-package.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'run the service (same as npm start, without installing anything); configured by the environment',
    )
    .action(async () => (await loadServer()).runServer());
}
