import { Command } from 'commander';
import { registerAdminCommands } from './commands/admin.js';
import { registerBatchCommand } from './commands/batch.js';
import { registerCompareCommand } from './commands/compare.js';
import { registerExtractCommand } from './commands/extract.js';
import { registerCrawlCommand } from './commands/crawl.js';
import { registerListenCommand } from './commands/listen.js';
import { registerMcpCommand } from './commands/mcp.js';
import { registerProjectCommands } from './commands/projects.js';
import { registerScheduleCommands } from './commands/schedules.js';
import { registerMonitorCommands } from './commands/monitors.js';
import { registerScrapeCommand } from './commands/scrape.js';
import { registerServeCommand } from './commands/serve.js';
import { registerShotCommand } from './commands/shot.js';
import { registerTemplateCommands } from './commands/templates.js';
import { reportFailure } from './output.js';
import { CLI_VERSION } from './version.js';

const program = new Command()
  .name('snapwire')
  .description("Snapwire: a self-hosted Screenshot API speaking Scrapfly's wire format")
  .version(CLI_VERSION)
  .addHelpText(
    'after',
    `
Environment:
  SNAPWIRE_HOST      address of the service for shot, batch, compare, schedules, monitors, scrape, extract, templates and mcp (default http://localhost:8080)
  SNAPWIRE_KEY       project API key for shot, batch, compare, schedules, monitors, scrape, extract, templates and mcp
  SNAPWIRE_DATA_DIR  the service's data folder (SQLite store) for projects and admin (default ./data)
  DATABASE_URL       the service's PostgreSQL store for projects and admin (instead of SQLite)`,
  );

registerServeCommand(program);
registerProjectCommands(program);
registerAdminCommands(program);
registerShotCommand(program);
registerListenCommand(program);
registerMcpCommand(program);
registerBatchCommand(program);
registerCompareCommand(program);
registerScheduleCommands(program);
registerMonitorCommands(program);
registerScrapeCommand(program);
registerExtractCommand(program);
registerTemplateCommands(program);
registerCrawlCommand(program);

program.parseAsync(process.argv).catch(reportFailure);
