import type { Command } from 'commander';
import type { AuditEntry, Environment, PlanName, Project, ProjectService, Settings } from '@snapwire/server';
import { fail, print } from '../output.js';
import { loadServer } from '../server-package.js';
import { addStoreOptions, auditFromCli, withServiceStore, type StoreFlags } from '../service-store.js';

/** Records a change of a command in the audit log (service-store.ts auditFromCli). */
type Audit = (entry: Omit<AuditEntry, 'actor' | 'sourceAddress'>) => Promise<void>;

// Constants copied from the service so that --help works without loading it (checked by projects.e2e.test.ts).
const PLAN_NAMES = ['UNLIMITED', 'FREE', 'DISCOVERY', 'PRO', 'STARTUP', 'ENTERPRISE'] as const;
const ENVIRONMENTS = ['LIVE', 'TEST'] as const;

/** Opens the service's store (same DATABASE_URL / SNAPWIRE_DATA_DIR), runs `work`, closes it. */
async function withProjects<T>(
  flags: StoreFlags,
  work: (projects: ProjectService, settings: Settings, audit: Audit) => Promise<T>,
): Promise<T> {
  const server = await loadServer();
  return withServiceStore(flags, async (store, settings) => {
    const service = new server.ProjectService(store.db, server.systemClock);
    // The default project always exists; in a store this command just created, make it now.
    const created = await service.ensureDefault(settings.defaultPlan, {
      ...(settings.bootstrapLiveKey ? { LIVE: settings.bootstrapLiveKey } : {}),
      ...(settings.bootstrapTestKey ? { TEST: settings.bootstrapTestKey } : {}),
    });
    if (created) {
      process.stderr.write(
        `Created the "default" project. Its keys (shown once): LIVE ${created.LIVE}  TEST ${created.TEST}\n`,
      );
    }
    return work(service, settings, (entry) => auditFromCli(store, entry));
  });
}

function describeProject(project: Project) {
  return {
    name: project.name,
    plan: project.plan,
    limits: project.limits,
    overrides: project.overrides,
    key_hints: {
      LIVE: project.keyHints.LIVE ? `…${project.keyHints.LIVE}` : null,
      TEST: project.keyHints.TEST ? `…${project.keyHints.TEST}` : null,
    },
    created_at: new Date(project.createdAt).toISOString(),
  };
}

function parsePlan(value: string): PlanName {
  const plan = value.toUpperCase();
  if (!(PLAN_NAMES as readonly string[]).includes(plan))
    fail(`unknown plan "${value}"; plans: ${PLAN_NAMES.join(', ')}`);
  return plan as PlanName;
}

function parseEnv(value: string): Environment {
  const env = value.toUpperCase();
  if (!(ENVIRONMENTS as readonly string[]).includes(env))
    fail(`unknown environment "${value}"; use live or test`);
  return env as Environment;
}

const LIMIT_NAMES = ['monthlyCredits', 'concurrency', 'webhookQueueLimit', 'retentionDays'];

function parseLimit(
  value: string,
  previous: Record<string, number | null> = {},
): Record<string, number | null> {
  const match = /^([A-Za-z]+)=(\d+|default)$/.exec(value);
  if (!match || !LIMIT_NAMES.includes(match[1] as string)) {
    fail(`--limit takes NAME=NUMBER or NAME=default, NAME one of ${LIMIT_NAMES.join(', ')}; got "${value}"`);
  }
  const [, name, amount] = match as unknown as [string, string, string];
  return { ...previous, [name]: amount === 'default' ? null : Number(amount) };
}

export function registerProjectCommands(program: Command): void {
  const projects = program
    .command('projects')
    .description('manage projects, plans and API keys (works on the store directly)');

  addStoreOptions(projects.command('list').description('list projects with their plan, limits and key hints'))
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean } & StoreFlags) => {
      const list = await withProjects(options, (service) => service.list());
      print(options.json, list.map(describeProject), () =>
        list
          .map(
            (p) =>
              `${p.name.padEnd(20)} ${p.plan.padEnd(11)} credits ${p.limits.monthlyCredits}/month, concurrency ${p.limits.concurrency}, keys LIVE …${p.keyHints.LIVE ?? '?'} TEST …${p.keyHints.TEST ?? '?'}`,
          )
          .join('\n'),
      );
    });

  addStoreOptions(
    projects.command('create <name>').description('create a project with a LIVE and a TEST key (shown once)'),
  )
    .option(
      '--plan <plan>',
      `plan: ${PLAN_NAMES.join(', ')} (default: the service's SNAPWIRE_DEFAULT_PLAN, UNLIMITED unless set)`,
    )
    .option('--json', 'print JSON')
    .action(async (name: string, options: { plan?: string; json?: boolean } & StoreFlags) => {
      const given = options.plan === undefined ? undefined : parsePlan(options.plan);
      // Without --plan, the service's own default (the dashboard's form uses the same setting).
      const { project, keys } = await withProjects(options, async (service, settings, audit) => {
        const created = await service.create(name, given ?? settings.defaultPlan);
        await audit({
          action: 'project_created',
          projectId: created.project.id,
          target: created.project.name,
          detail: { plan: created.project.plan, keys: Object.keys(created.keys) },
        });
        return created;
      });
      print(options.json, { ...describeProject(project), keys }, () =>
        [
          `Created project "${project.name}" on plan ${project.plan}. Keys (shown once, keep them):`,
          `  LIVE ${keys.LIVE}`,
          `  TEST ${keys.TEST}`,
        ].join('\n'),
      );
    });

  addStoreOptions(
    projects
      .command('set <name>')
      .description('change the plan or per-project limits (NAME=default returns to the plan value)'),
  )
    .option('--plan <plan>', `plan: ${PLAN_NAMES.join(', ')}`)
    .option('--limit <name=value>', `override a limit (${LIMIT_NAMES.join(', ')}); repeatable`, parseLimit)
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        options: { plan?: string; limit?: Record<string, number | null>; json?: boolean } & StoreFlags,
      ) => {
        if (!options.plan && !options.limit) fail('nothing to change: give --plan and/or --limit');
        const project = await withProjects(options, async (service, _settings, audit) => {
          const changed = await service.update(name, {
            ...(options.plan ? { plan: parsePlan(options.plan) } : {}),
            ...(options.limit ? { overrides: options.limit } : {}),
          });
          await audit({
            action: options.plan && !options.limit ? 'plan_changed' : 'project_updated',
            projectId: changed.id,
            target: changed.name,
            detail: { plan: changed.plan, ...(options.limit ? { limits: options.limit } : {}) },
          });
          return changed;
        });
        print(
          options.json,
          describeProject(project),
          () => `Project "${project.name}": plan ${project.plan}, limits ${JSON.stringify(project.limits)}`,
        );
      },
    );

  addStoreOptions(
    projects
      .command('rotate-key <name>')
      .description('replace the key of one environment; the old key stops working at once'),
  )
    .option('--env <env>', 'live or test', 'live')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { env: string; json?: boolean } & StoreFlags) => {
      const env = parseEnv(options.env);
      const key = await withProjects(options, async (service, _settings, audit) => {
        const rotated = await service.rotateKey(name, env);
        const project = await service.findByName(name);
        await audit({ action: 'key_rotated', projectId: project?.id, target: `${name}/${env}` });
        return rotated;
      });
      print(options.json, { name, env, key }, () => `New ${env} key for "${name}" (shown once): ${key}`);
    });
}
