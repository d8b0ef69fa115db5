import type { Command } from 'commander';
import { print } from '../output.js';
import { loadServer } from '../server-package.js';
import { addStoreOptions, auditFromCli, withServiceStore, type StoreFlags } from '../service-store.js';

export function registerAdminCommands(program: Command): void {
  const admin = program
    .command('admin')
    .description("the dashboard's admin account (works on the store directly)");

  addStoreOptions(
    admin
      .command('reset-password')
      .description("set a new password for the dashboard's admin user and sign out its sessions"),
  )
    .option('--password <password>', 'the new password (12+ characters); default: a generated one')
    .option('--json', 'print JSON')
    .action(async (options: { password?: string; json?: boolean } & StoreFlags) => {
      const server = await loadServer();
      const { password, configured } = await withServiceStore(options, async (store, settings) => {
        const password = await server.resetAdminPassword(store.db, server.systemClock, options.password);
        // Never the password itself.
        await auditFromCli(store, {
          action: 'admin_password_reset',
          target: 'admin',
          detail: { generated: options.password === undefined },
        });
        return { password, configured: settings.adminPassword !== undefined };
      });
      print(options.json, { user: 'admin', password }, () =>
        [
          `New dashboard password for user admin (shown this once): ${password}`,
          ...(configured
            ? ['Note: SNAPWIRE_ADMIN_PASSWORD is set; the service puts that password back at its next start.']
            : []),
        ].join('\n'),
      );
    });
}
