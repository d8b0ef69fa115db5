import type { Command } from 'commander';
import {
  ENVIRONMENTS,
  loadSettings,
  migrateToLatest,
  openStore,
  PLAN_NAMES,
  ProjectService,
  systemClock,
  withStartupLock,
  type Environment,
  type PlanName,
  type Project,
} from '@snapwire/server';
import { fail, print } from '../output.js';

/** Opens the store the service uses (same DATABASE_URL / SNAPWIRE_DATA_DIR), runs `work`, closes it. */
async function withProjects<T>(work: (projects: ProjectService) => Promise<T>): Promise<T> {
  const settings = loadSettings();
  const store = await openStore({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir });
  try {
    const service = new ProjectService(store.db, systemClock);
    // The default project always exists; if this command is the first to open the store, make it now
    // (under the same lock as starting nodes, so that a fleet starting meanwhile does not race it).
    const created = await withStartupLock(store, async () => {
      await migrateToLatest(store);
      return service.ensureDefault(settings.defaultPlan, {
        ...(settings.bootstrapLiveKey ? { LIVE: settings.bootstrapLiveKey } : {}),
        ...(settings.bootstrapTestKey ? { TEST: settings.bootstrapTestKey } : {}),
      });
    });
    if (created) {
      process.stderr.write(
        `Created the "default" project. Its keys (shown once): LIVE ${created.LIVE}  TEST ${created.TEST}\n`,
      );
    }
    return await work(service);
  } finally {
    await store.close();
  }
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

  projects
    .command('list')
    .description('list projects with their plan, limits and key hints')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const list = await withProjects((service) => service.list());
      print(options.json, list.map(describeProject), () =>
        list
          .map(
            (p) =>
              `${p.name.padEnd(20)} ${p.plan.padEnd(11)} credits ${p.limits.monthlyCredits}/month, concurrency ${p.limits.concurrency}, keys LIVE …${p.keyHints.LIVE ?? '?'} TEST …${p.keyHints.TEST ?? '?'}`,
          )
          .join('\n'),
      );
    });

  projects
    .command('create <name>')
    .description('create a project with a LIVE and a TEST key (shown once)')
    .option('--plan <plan>', `plan: ${PLAN_NAMES.join(', ')}`, 'FREE')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { plan: string; json?: boolean }) => {
      const plan = parsePlan(options.plan);
      const { project, keys } = await withProjects((service) => service.create(name, plan));
      print(options.json, { ...describeProject(project), keys }, () =>
        [
          `Created project "${project.name}" on plan ${project.plan}. Keys (shown once, keep them):`,
          `  LIVE ${keys.LIVE}`,
          `  TEST ${keys.TEST}`,
        ].join('\n'),
      );
    });

  projects
    .command('set <name>')
    .description('change the plan or per-project limits (NAME=default returns to the plan value)')
    .option('--plan <plan>', `plan: ${PLAN_NAMES.join(', ')}`)
    .option('--limit <name=value>', `override a limit (${LIMIT_NAMES.join(', ')}); repeatable`, parseLimit)
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        options: { plan?: string; limit?: Record<string, number | null>; json?: boolean },
      ) => {
        if (!options.plan && !options.limit) fail('nothing to change: give --plan and/or --limit');
        const project = await withProjects((service) =>
          service.update(name, {
            ...(options.plan ? { plan: parsePlan(options.plan) } : {}),
            ...(options.limit ? { overrides: options.limit } : {}),
          }),
        );
        print(
          options.json,
          describeProject(project),
          () => `Project "${project.name}": plan ${project.plan}, limits ${JSON.stringify(project.limits)}`,
        );
      },
    );

  projects
    .command('rotate-key <name>')
    .description('replace the key of one environment; the old key stops working at once')
    .option('--env <env>', 'live or test', 'live')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { env: string; json?: boolean }) => {
      const env = parseEnv(options.env);
      const key = await withProjects((service) => service.rotateKey(name, env));
      print(options.json, { name, env, key }, () => `New ${env} key for "${name}" (shown once): ${key}`);
    });
}
