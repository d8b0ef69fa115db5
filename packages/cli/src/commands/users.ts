import type { Command } from 'commander';
import { fail, print } from '../output.js';
import { loadServer } from '../server-package.js';
import { addStoreOptions, auditFromCli, withServiceStore, type StoreFlags } from '../service-store.js';

type Flags = StoreFlags & { json?: boolean };

/**
 * `snapwire users …`: the dashboard's users on the service's store (like `snapwire admin`). The command
 * line acts as an owner: it may grant the owner role, and the last owner is kept here too.
 */
export function registerUserCommands(program: Command): void {
  const users = program
    .command('users')
    .description("the dashboard's users, roles and projects (works on the store directly)");

  addStoreOptions(users.command('list').description('list users with their roles and projects'))
    .option('--json', 'print JSON')
    .action(async (options: Flags) => {
      const server = await loadServer();
      const rows = await withServiceStore(options, async (store) => {
        const team = new server.TeamStore(store.db, server.systemClock, store.dialect);
        const projects = await new server.ProjectService(store.db, server.systemClock).list();
        const nameOf = (id: string) => projects.find((p) => p.id === id)?.name ?? id;
        return (await team.members()).map((m) => ({
          user: m.email ?? m.username,
          name: m.name,
          role: m.role,
          projects: m.role === 'owner' || m.role === 'admin' ? ['*'] : m.projectIds.map(nameOf),
        }));
      });
      print(options.json, rows, () =>
        rows.map((r) => `${r.user}\t${r.role}\t${r.projects.join(',')}\t${r.name ?? ''}`).join('\n'),
      );
    });

  addStoreOptions(
    users
      .command('invite <email>')
      .description(
        'make a one-time invitation link (7 days), printed, and mailed when SNAPWIRE_SMTP_URL is set',
      ),
  )
    .requiredOption('--role <role>', 'owner, admin, developer or viewer')
    .option('--projects <names>', 'comma-separated project names (for developers and viewers)', '')
    .option('--json', 'print JSON')
    .action(async (email: string, options: Flags & { role: string; projects: string }) => {
      const server = await loadServer();
      if (!server.isRole(options.role)) fail(`--role must be one of ${server.ROLES.join(', ')}`);
      const role = options.role;
      const result = await withServiceStore(options, async (store, settings) => {
        const projects = new server.ProjectService(store.db, server.systemClock);
        const projectIds: string[] = [];
        for (const name of options.projects
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean)) {
          const project = await projects.findByName(name);
          if (!project) fail(`no project named "${name}"`);
          projectIds.push(project.id);
        }
        const team = new server.TeamStore(store.db, server.systemClock, store.dialect);
        const link = await team.invite({ email, role, projectIds, createdBy: 'cli' });
        await auditFromCli(store, {
          action: 'user_invited',
          target: link.email,
          detail: { role, projects: projectIds.length },
        });
        const url = `${settings.publicUrl}/dashboard/accept?token=${encodeURIComponent(link.token)}`;
        let mailed = false;
        const mailer = server.createMailer(settings);
        if (mailer) {
          await mailer.send({
            to: link.email,
            subject: 'You are invited to Snapwire',
            text: `You are invited to the Snapwire dashboard. Open this link to choose your name and password (it works once, for 7 days):\n\n${url}\n`,
          });
          mailed = true;
        }
        return {
          email: link.email,
          role,
          link: url,
          expires_at: new Date(link.expiresAt).toISOString(),
          mailed,
        };
      });
      print(options.json, result, () =>
        [
          `Invitation for ${result.email} (${result.role}), one-time link (shown this once, until ${result.expires_at}):`,
          result.link,
          ...(result.mailed ? [`Mailed to ${result.email}.`] : []),
        ].join('\n'),
      );
    });

  addStoreOptions(users.command('set-role <user> <role>').description("change a user's role"))
    .option('--json', 'print JSON')
    .action(async (user: string, role: string, options: Flags) => {
      const server = await loadServer();
      if (!server.isRole(role)) fail(`the role must be one of ${server.ROLES.join(', ')}`);
      await withServiceStore(options, async (store) => {
        await new server.TeamStore(store.db, server.systemClock, store.dialect).setRole(user, role, 'owner');
        await auditFromCli(store, { action: 'user_role_changed', target: user, detail: { role } });
      });
      print(options.json, { user, role }, () => `${user} is now ${role}.`);
    });

  addStoreOptions(users.command('remove <user>').description('remove a user and sign out their sessions'))
    .option('--json', 'print JSON')
    .action(async (user: string, options: Flags) => {
      const server = await loadServer();
      await withServiceStore(options, async (store) => {
        await new server.TeamStore(store.db, server.systemClock, store.dialect).remove(user, 'owner');
        await auditFromCli(store, { action: 'user_removed', target: user });
      });
      print(options.json, { user, removed: true }, () => `${user} removed.`);
    });
}
