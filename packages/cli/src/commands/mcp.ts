import type { Command } from 'commander';
import { runStdioServer } from '@snapwire/mcp';
import { fromEnv } from '@snapwire/sdk';
import { fail } from '../output.js';

export function registerMcpCommand(program: Command): void {
  program
    .command('mcp')
    .description(
      'run the MCP server over stdio for AI agents (Claude, Cursor, VS Code); reads SNAPWIRE_HOST and SNAPWIRE_KEY',
    )
    .option('--max-width <px>', 'default width screenshots are shrunk to for the model', '1280')
    .action(async (options: { maxWidth: string }) => {
      const maxWidth = Number(options.maxWidth);
      if (!Number.isInteger(maxWidth) || maxWidth < 64 || maxWidth > 7680)
        fail(`--max-width must be 64-7680; got "${options.maxWidth}"`);
      if (!process.env.SNAPWIRE_KEY)
        fail('set SNAPWIRE_KEY (and SNAPWIRE_HOST) in the MCP client configuration');
      // Throttling is waited out; anything else (a page that timed out, …) goes back to the model at once,
      // which can decide to try again with other parameters.
      const client = fromEnv({ retry: { retries: 3, retryOn: (error) => error.httpStatus === 429 } });
      await runStdioServer(client, { defaultMaxWidth: maxWidth });
      process.stderr.write(
        `snapwire mcp: serving ${process.env.SNAPWIRE_HOST ?? 'http://localhost:8080'} on stdio\n`,
      );
    });
}
