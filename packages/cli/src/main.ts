#!/usr/bin/env node
import { Command } from 'commander';
import { ProjectError, runServer, SettingsError } from '@snapwire/server';
import { registerBatchCommand } from './commands/batch.js';
import { registerListenCommand } from './commands/listen.js';
import { registerMcpCommand } from './commands/mcp.js';
import { registerProjectCommands } from './commands/projects.js';
import { registerScheduleCommands } from './commands/schedules.js';
import { registerShotCommand } from './commands/shot.js';
import { CliError } from './output.js';

const program = new Command()
  .name('snapwire')
  .description("Snapwire: a self-hosted Screenshot API speaking Scrapfly's wire format")
  .version('0.1.0');

program
  .command('serve')
  .description('run the service (same as npm start, without installing anything)')
  .action(async () => runServer());

registerProjectCommands(program);
registerShotCommand(program);
registerListenCommand(program);
registerMcpCommand(program);
registerBatchCommand(program);
registerScheduleCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CliError || error instanceof ProjectError || error instanceof SettingsError) {
    process.stderr.write(`snapwire: ${error.message}\n`);
  } else {
    process.stderr.write(`snapwire: ${(error as Error).stack ?? String(error)}\n`);
  }
  process.exit(1);
});
