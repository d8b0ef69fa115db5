// Guard rails the compiler does not give: promises are never dropped by accident, and imports follow the
// one-way flow of docs/architecture.md (HTTP faces -> jobs -> lower rooms -> store). `npm run lint`.
import tseslint from 'typescript-eslint';

const server = 'packages/server/src';
/** Rooms below jobs/: they are used by jobs/ and never use it. */
const BELOW_JOBS = [
  'accounts',
  'audit',
  'config',
  'egress',
  'engine',
  'logs',
  'metrics',
  'queue',
  'request',
  'results',
  'retention',
  'store',
  'webhooks',
];
/** Rooms that keep data: they never know about HTTP. */
const STORAGE = ['store', 'results', 'logs', 'queue', 'retention', 'audit'];

const NOT_JOBS = {
  group: ['**/jobs/*', '**/jobs/**'],
  message: 'Nothing below jobs/ imports jobs/: move the shared shape down (e.g. engine/capture-spec.ts).',
};
const NOT_HTTP = {
  group: ['**/http/*', '**/http/**', '**/dashboard/*', '**/dashboard/**'],
  message: 'Only the faces (http/, dashboard/) speak HTTP: return data or throw a catalogue error.',
};

const restrict = (patterns) => ({
  '@typescript-eslint/no-restricted-imports': ['error', { patterns }],
});

/** Files at the root of src/ that everything may use: they use no room (types aside). */
const ROOT_LEAVES = [
  'brand',
  'clock',
  'errors',
  'fault-advice',
  'listen-addresses',
  'logger',
  'scrapfly-headers',
];

/**
 * One owner per table (issue 19.3): each table is read and written only by the room (or file) that owns
 * it; any other room asks the owner through a named function. A path ending in `.ts` is one file, else a
 * room (folder) under packages/server/src. The map, with why, is in docs/architecture.md ("Who owns which
 * table"). Migrations (store/migrations/) create every table and are left out.
 */
export const TABLE_OWNERS = {
  projects: ['accounts'],
  api_keys: ['accounts'],
  credit_usage: ['accounts'],
  concurrency_leases: ['accounts'],
  fleet_locks: ['store'],
  screenshot_logs: ['logs'],
  jobs: ['queue'],
  webhooks: ['webhooks'],
  webhook_attempts: ['webhooks'],
  project_events: ['webhooks'],
  screenshot_cache: ['results'],
  scrape_sessions: ['scrape'],
  extraction_templates: ['extraction'],
  crawls: ['crawler'],
  crawl_urls: ['crawler'],
  schedules: ['schedules'],
  schedule_runs: ['schedules/runs.ts'],
  monitors: ['monitors'],
  monitor_runs: ['monitors'],
  audit_log: ['audit'],
  dashboard_memberships: ['team'],
  dashboard_links: ['team'],
  // Two owners on purpose: the sign-in (dashboard/auth.ts: passwords, the admin, sessions) and the team
  // room, whose changes to a user (role, removal, new password) end that user's sessions in the same
  // transaction as the change. The admin password reset (admin/) goes through dashboard/auth.ts.
  dashboard_users: ['dashboard/auth.ts', 'team'],
  dashboard_sessions: ['dashboard/auth.ts', 'team'],
  dashboard_login_attempts: ['dashboard/auth.ts'],
  dashboard_two_factor: ['dashboard/two-factor.ts'],
  dashboard_recovery_codes: ['dashboard/two-factor.ts'],
  dashboard_sign_in_challenges: ['dashboard/two-factor.ts'],
};

/**
 * Source files over 400 lines of code (blank lines and comments not counted) on purpose (issue 19.4): each
 * is one coherent thing, and its first comment says why, starting "Over 400 lines as one coherent thing".
 * Any other file over 400 fails max-lines below; test/lint/file-length.test.ts holds both to it.
 */
export const LONG_FILES = [
  'packages/sdk/src/client.ts',
  'packages/sdk/src/wire.ts',
  'packages/server/src/config/settings.ts',
  'packages/server/src/crawler/crawl-store.ts',
  'packages/server/src/crawler/crawl-worker.ts',
  'packages/server/src/dashboard/pages/webhook.ts',
  'packages/server/src/egress/http-client.ts',
  'packages/server/src/engine/js-scenario.ts',
  'packages/server/src/http/routes/crawl.ts',
  'packages/server/src/http/routes/monitors.ts',
  'packages/server/src/http/routes/schedules.ts',
  'packages/server/src/monitors/runner.ts',
  'packages/server/src/request/scrape-request.ts',
  'packages/server/src/scrape/scrape-service.ts',
  'packages/server/src/snapwire.ts',
];

/** Kysely calls that name a table: a statement's own table, and the tables it joins. */
const TABLE_CALLS = new Set([
  'selectFrom',
  'insertInto',
  'updateTable',
  'deleteFrom',
  'replaceInto',
  'mergeInto',
  'innerJoin',
  'leftJoin',
  'rightJoin',
  'fullJoin',
  'innerJoinLateral',
  'leftJoinLateral',
]);

function owns(owner, file) {
  return owner.endsWith('.ts') ? file === owner : file.startsWith(`${owner}/`);
}

const tableOwnerRule = {
  meta: {
    type: 'problem',
    docs: { description: 'A room queries only the tables it owns (TABLE_OWNERS in eslint.config.js).' },
    schema: [],
  },
  create(context) {
    const normalized = context.filename.replaceAll('\\', '/');
    const at = normalized.lastIndexOf(`${server}/`);
    if (at < 0) return {};
    const file = normalized.slice(at + server.length + 1);
    const check = (node, table) => {
      const owners = TABLE_OWNERS[table];
      if (!owners || owners.some((owner) => owns(owner, file))) return;
      context.report({
        node,
        message: `${file} queries the table "${table}", owned by ${owners.join(', ')}: call a named function of the owner instead (docs/architecture.md, "Who owns which table").`,
      });
    };
    const tablesOf = (argument) => {
      if (!argument) return [];
      if (argument.type === 'Literal' && typeof argument.value === 'string') return [argument.value];
      if (argument.type === 'TemplateLiteral' && argument.expressions.length === 0)
        return [argument.quasis[0].value.cooked];
      if (argument.type === 'ArrayExpression') return argument.elements.flatMap(tablesOf);
      return [];
    };
    return {
      CallExpression(node) {
        const callee = node.callee;
        if (callee.type !== 'MemberExpression' || callee.property.type !== 'Identifier') return;
        if (!TABLE_CALLS.has(callee.property.name)) return;
        for (const named of tablesOf(node.arguments[0])) check(callee.property, named.trim().split(/\s+/)[0]);
      },
      // Raw SQL: sql`... from jobs ...`
      TaggedTemplateExpression(node) {
        if (node.tag.type !== 'Identifier' || node.tag.name !== 'sql') return;
        const text = node.quasi.quasis.map((quasi) => quasi.value.cooked).join(' ');
        for (const match of text.matchAll(/\b(?:from|into|update|join)\s+"?([a-z_]+)"?/gi)) {
          check(node, match[1].toLowerCase());
        }
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**'] },
  {
    files: ['packages/*/src/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      // A promise nobody awaits loses its error: await it, return it, or mark it `void` on purpose.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
    },
  },
  {
    // The tests, benchmarks and scripts: an assertion on a promise that nobody awaits passes without
    // checking anything. node:test's test()/describe() are awaited by the runner.
    files: ['packages/*/test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: './tsconfig.lint.json', tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
    },
  },
  {
    // HTTP faces (API routes and dashboard pages) reach data through services, never through store/
    // (row types may be named: they carry no access).
    files: [`${server}/http/**/*.ts`, `${server}/dashboard/pages/**/*.ts`],
    rules: restrict([
      {
        group: ['**/store/*', '**/store/**'],
        allowTypeImports: true,
        message: 'Routes never touch the store: call a service (src/services.ts).',
      },
    ]),
  },
  {
    files: BELOW_JOBS.map((room) => `${server}/${room}/**/*.ts`),
    rules: restrict([
      {
        group: ['**/jobs/*', '**/jobs/**'],
        message:
          'Nothing below jobs/ imports jobs/: move the shared shape down (e.g. engine/capture-spec.ts).',
      },
    ]),
  },
  {
    // The egress room is below the engine: the engine uses its proxies, never the other way round.
    // (Restating the jobs/ rule: a later block replaces an earlier one's patterns for the same files.)
    files: [`${server}/egress/**/*.ts`],
    rules: restrict([
      {
        group: ['**/jobs/*', '**/jobs/**'],
        message:
          'Nothing below jobs/ imports jobs/: move the shared shape down (e.g. engine/capture-spec.ts).',
      },
      {
        group: ['**/engine/*', '**/engine/**'],
        message: 'egress/ never imports engine/: the engine uses the egress proxies, not the reverse.',
      },
    ]),
  },
  {
    // The request room holds the wire contracts (parsers of what callers send), shared by the HTTP
    // routes, the dashboard's playground, schedules and the worker: below all of them.
    files: [`${server}/request/**/*.ts`],
    rules: restrict([NOT_JOBS, NOT_HTTP]),
  },
  {
    // The extraction room (rules engine, model client) serves every face and the scrape and crawl rooms:
    // it returns data or throws catalogue errors, and never knows HTTP or jobs/.
    files: [`${server}/extraction/**/*.ts`],
    rules: restrict([NOT_JOBS, NOT_HTTP]),
  },
  {
    // The compare room (image and text comparison for visual change monitoring) is a pure library: it
    // returns data or throws catalogue errors, and never knows HTTP or jobs/.
    files: [`${server}/compare/**/*.ts`],
    rules: restrict([NOT_JOBS, NOT_HTTP]),
  },
  {
    // The monitors room (store, runner, events) runs captures through jobs/ for the API and the dashboard:
    // data or catalogue errors, never HTTP.
    files: [`${server}/monitors/**/*.ts`],
    rules: restrict([NOT_HTTP]),
  },
  {
    // The crawler room (frontier store, worker, crawl service) serves the HTTP faces: data or catalogue
    // errors, never HTTP, never jobs/.
    files: [`${server}/crawler/**/*.ts`],
    rules: restrict([NOT_JOBS, NOT_HTTP]),
  },
  {
    // jobs/ runs requests for every face (API, dashboard, scheduler): it never knows which one called.
    files: [`${server}/jobs/**/*.ts`],
    rules: restrict([NOT_HTTP]),
  },
  {
    // The engine drives Chromium and knows nothing else: it takes a CaptureSpec and the egress verdicts,
    // and throws catalogue errors. Everything else reaches it, never the reverse.
    files: [`${server}/engine/**/*.ts`],
    rules: restrict([
      {
        group: ['../*', '../*/**', '!../errors.js', '!../egress', '!../egress/verdicts.js'],
        message: 'engine/ imports only ../errors.js and ../egress/verdicts.js (see docs/architecture.md).',
      },
    ]),
  },
  {
    // The dashboard calls services like the API routes do; it never reaches into a route's module.
    files: [`${server}/dashboard/**/*.ts`],
    rules: restrict([
      {
        group: ['**/http/routes/*', '**/http/routes/**'],
        message: 'The dashboard never imports http/routes/: move what both need to a room both use.',
      },
    ]),
  },
  {
    files: ROOT_LEAVES.map((name) => `${server}/${name}.ts`),
    rules: restrict([
      {
        group: ['./*/*', './*/**'],
        allowTypeImports: true,
        message:
          'A root file everything uses imports no room (only its types): it would tie the rooms together.',
      },
    ]),
  },
  {
    // No source file over 400 lines of code unless it is one coherent thing that says why (LONG_FILES).
    files: ['packages/*/src/**/*.ts'],
    ignores: LONG_FILES,
    rules: { 'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }] },
  },
  {
    // Time decisions (expiry, retries, windows) read the injected clock so tests can move it; durations
    // use startStopwatch() (monotonic). Left out: the rooms that run a request under a real-time deadline
    // (engine/deadline.ts), which the injected clock must not stretch or cut.
    files: [`${server}/**/*.ts`],
    ignores: [
      `${server}/clock.ts`,
      ...['engine', 'egress', 'jobs', 'scrape', 'extraction'].map((room) => `${server}/${room}/**`),
    ],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'Date',
          property: 'now',
          message:
            'Use the injected clock (services.clock / a Clock) for time decisions, startStopwatch() from clock.ts for durations.',
        },
      ],
    },
  },
  {
    files: STORAGE.map((room) => `${server}/${room}/**/*.ts`),
    rules: restrict([
      {
        group: ['**/jobs/*', '**/jobs/**'],
        message:
          'Nothing below jobs/ imports jobs/: move the shared shape down (e.g. engine/capture-spec.ts).',
      },
      {
        group: [
          '**/http/*',
          '**/http/**',
          '**/dashboard/*',
          '**/dashboard/**',
          'fastify',
          'fastify-*',
          '@fastify/*',
        ],
        message: 'Storage never imports HTTP: return data, let the faces speak HTTP.',
      },
    ]),
  },
  {
    // One owner per table: a room reaches another room's table through the owner's named functions.
    files: [`${server}/**/*.ts`],
    ignores: [`${server}/store/migrations/**`],
    plugins: { snapwire: { rules: { 'table-owner': tableOwnerRule } } },
    rules: { 'snapwire/table-owner': 'error' },
  },
);
