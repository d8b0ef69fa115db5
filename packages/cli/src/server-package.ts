// The admin commands and `serve` need the service itself (@snapwire/server, with its native SQLite driver
// and Chromium driver). It is loaded only when such a command runs, so the CLI installed alone (remote
// commands: shot, listen) stays small; without it those commands name the install that fixes it.
import { fail } from './output.js';

export type ServerModule = typeof import('@snapwire/server');

export async function loadServer(): Promise<ServerModule> {
  try {
    return await import('@snapwire/server');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes('@snapwire/server')) {
      fail('this command needs the service package: npm install @snapwire/server (next to @snapwire/cli)');
    }
    throw error;
  }
}
