#!/usr/bin/env node
// `npm test`: installs what is missing and builds (scripts/install.sh), then runs every *.test.ts under packages/*/test with Node's own test
// runner through tsx. Each file runs in its own process under a wall-clock limit, so a file that hangs is
// killed and counted as failed instead of stalling the whole run. Two lanes share the two cores: the heavy
// lane runs the files that drive Chromium hard or start several processes, one at a time (two of those side
// by side are not reliable on two cores); the light lane runs, beside it, the files that mostly wait or
// need little CPU (every file not named *.e2e.test.ts, and the e2e files in LIGHT_E2E, measured). The heavy
// lane starts with the files in ALONE (those that kill processes, count throughput or hold deadlines: never
// beside another heavy file); once they are done, the light lane, its own files finished, takes heavy files
// too, so the two cores share the ordinary Chromium files instead of one lane idling for half the run.
// SNAPWIRE_TEST_LANES=1 runs one file at a time (and streams each file's output as it comes, as a run of one
// file does).
// Prints one closing line: "tests: N passed, N failed", after what each failing file said of its failures.
// `npm test -- NAME` runs only files whose path contains NAME.
// `npm test -- --fast` leaves out the *.e2e.test.ts files (those that drive Chromium or start several
// processes): the edit loop's subset, under three minutes on two cores.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
const fast = args.includes('--fast');
const filter = args.filter((arg) => !arg.startsWith('--'));
const unknownFlags = args.filter((arg) => arg.startsWith('--') && arg !== '--fast');
if (unknownFlags.length > 0) {
  console.error(`unknown option ${unknownFlags.join(' ')}: npm test [-- --fast] [-- NAME ...]`);
  process.exit(2);
}
const FILE_LIMIT_MS = Number(process.env.SNAPWIRE_TEST_FILE_LIMIT_MS ?? 15 * 60_000);
const LANES = process.env.SNAPWIRE_TEST_LANES === '1' ? 1 : 2;

// e2e files that may run beside a heavy one: they start no Chromium (a service with `browsers: false`, the
// crawler, the MCP and SDK clients on loopback). Measured one file at a time on 2 cores shared with other
// runs (user+sys of the file's process tree under /usr/bin/time): 8 to 20 s of CPU each, most of it Node and
// tsx starting up, against 40 to 120 s for crawl-restart, the CLI's help test, the monitors and the fleet.
// Paths relative to packages/.
const LIGHT_E2E = new Set([
  'mcp/test/crawl-tools.e2e.test.ts',
  'mcp/test/extract-tool.e2e.test.ts',
  'sdk/test/extraction.e2e.test.ts',
  'server/test/crawl/crawl-faults.e2e.test.ts',
  'server/test/crawl/crawl-limits.e2e.test.ts',
  'server/test/crawl/crawl-pages.e2e.test.ts',
  'server/test/crawl/crawl-politeness.e2e.test.ts',
  'server/test/crawl/crawl-webhooks.e2e.test.ts',
  'server/test/crawl/scrapfly-sdk-crawl.e2e.test.ts',
  'server/test/dashboard/audit-security.e2e.test.ts',
  'server/test/dashboard/crawls.e2e.test.ts',
  'server/test/dashboard/log-kinds.e2e.test.ts',
  'server/test/dashboard/playground-apis.e2e.test.ts',
  'server/test/dashboard/team-access.e2e.test.ts',
  'server/test/dashboard/team.e2e.test.ts',
  'server/test/dashboard/templates.e2e.test.ts',
  'server/test/schedules/crawl-schedules.e2e.test.ts',
  'server/test/schedules/scrape-schedules.e2e.test.ts',
  'server/test/scrape/large-content.e2e.test.ts',
  'server/test/webhooks/async-apis-durable.e2e.test.ts',
  'server/test/webhooks/async-apis.e2e.test.ts',
]);
// Heavy files that only ever run with light files beside them: they SIGKILL services and wait out leases,
// count captures a second, or assert deadlines and watchdogs that a second Chromium file would skew; and the
// longest CPU-bound ones, so the shared part of the run is the ordinary files. Paths relative to packages/.
const ALONE = new Set([
  'cli/test/batch.e2e.test.ts',
  'cli/test/users.e2e.test.ts',
  'server/test/crawl/crawl-restart.e2e.test.ts',
  'server/test/engine/hostile.e2e.test.ts',
  'server/test/engine/load.e2e.test.ts',
  'server/test/engine/queue-fairness.e2e.test.ts',
  'server/test/engine/watchdog.e2e.test.ts',
  'server/test/fleet/fleet.e2e.test.ts',
  'server/test/monitors/monitors.e2e.test.ts',
  'server/test/start/faults.e2e.test.ts',
  'server/test/webhooks/async-crash.e2e.test.ts',
  'server/test/webhooks/crash.e2e.test.ts',
]);
// A renamed file would drop to the heavy lane unnoticed (slower, not wrong): say so.
for (const name of [...LIGHT_E2E, ...ALONE]) {
  if (!fs.existsSync(path.join(root, 'packages', name)))
    console.warn(`scripts/test.mjs: LIGHT_E2E or ALONE names ${name}, which is gone`);
}

function collect(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : collect(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

const files = fs
  .readdirSync(path.join(root, 'packages'))
  .flatMap((pkg) => collect(path.join(root, 'packages', pkg, 'test')))
  .filter((file) => filter.length === 0 || filter.some((part) => file.includes(part)))
  .filter((file) => !fast || !file.endsWith('.e2e.test.ts'))
  .sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

// Install what is missing and build (the same installer as `npm start`; the CLI and the SDK are tested as
// built, the way users run them), and make sure the test PostgreSQL answers.
const setup = spawnSync('bash', [path.join(root, 'scripts/install.sh'), '--for-tests'], {
  stdio: 'inherit',
  cwd: root,
});
if (setup.status !== 0) process.exit(setup.status ?? 1);

const isLight = (file) =>
  !file.endsWith('.e2e.test.ts') || LIGHT_E2E.has(path.relative(path.join(root, 'packages'), file));

function runFile(file, { stream }) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        './scripts/test-setup.mjs',
        '--test',
        '--test-reporter=spec',
        '--test-timeout=600000',
        file,
      ],
      {
        cwd: root,
        env: { ...process.env, NODE_ENV: 'test' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    // With two lanes a file's output is printed in one block when it ends, so the two never interleave.
    let output = '';
    const keep = (chunk) => {
      output += chunk.toString();
      if (stream) process.stdout.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.kill(-child.pid, 'SIGKILL');
    }, FILE_LIMIT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const count = (label) => Number(new RegExp(`ℹ ${label} (\\d+)`).exec(output)?.[1] ?? 0);
      let passed = count('pass');
      let failed = count('fail') + count('cancelled');
      if (timedOut || (code !== 0 && failed === 0)) failed += 1;
      const killed = timedOut
        ? `✖ ${path.relative(root, file)} killed after ${FILE_LIMIT_MS / 1000} s\n`
        : '';
      if (stream) process.stdout.write(killed);
      else process.stdout.write(`\n=== ${path.relative(root, file)}\n${output}${killed}`);
      resolve({
        file,
        passed,
        failed,
        seconds: (Date.now() - started) / 1000,
        digest: failed ? digest(output) : '',
      });
    });
  });
}

// What a failing file said about its failures: the spec reporter's closing "failing tests" section (or the
// output's last lines when it never got there), repeated at the end of the run, where a CI log's tail shows it.
function digest(output) {
  const start = output.lastIndexOf('✖ failing tests:');
  const lines = (start >= 0 ? output.slice(start) : output).trimEnd().split('\n');
  return (start >= 0 ? lines.slice(0, 80) : lines.slice(-40)).join('\n');
}

const runStarted = Date.now();
const results = [];
if (LANES === 1 || files.length === 1) {
  for (const file of files) {
    console.log(`\n=== ${path.relative(root, file)}`);
    results.push(await runFile(file, { stream: true }));
  }
} else {
  const relative = (file) => path.relative(path.join(root, 'packages'), file);
  const alone = files.filter((file) => ALONE.has(relative(file)));
  const heavy = files.filter((file) => !isLight(file) && !ALONE.has(relative(file)));
  const light = files.filter((file) => isLight(file));
  /** Runs the files `next` hands out, one after another, until it hands out none. */
  const drain = async (next) => {
    for (let file = next(); file; file = next()) results.push(await runFile(file, { stream: false }));
  };
  const shared = () => heavy.shift() ?? light.shift();
  const aloneFinished = drain(() => alone.shift());
  await Promise.all([
    aloneFinished.then(() => drain(shared)),
    drain(() => light.shift()).then(() => aloneFinished.then(() => drain(shared))),
  ]);
  results.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}
console.log('\nper file:');
for (const result of results) {
  const mark = result.failed > 0 ? '✖' : '✔';
  console.log(
    `  ${mark} ${path.relative(root, result.file)}: ${result.passed} passed, ${result.failed} failed, ${result.seconds.toFixed(1)} s`,
  );
}
for (const result of results.filter((r) => r.digest)) {
  console.log(`\n--- failures in ${path.relative(root, result.file)}:\n${result.digest}`);
}
const passed = results.reduce((sum, r) => sum + r.passed, 0);
const failed = results.reduce((sum, r) => sum + r.failed, 0);
console.log(
  `\n${files.length} files in ${((Date.now() - runStarted) / 1000).toFixed(0)} s${fast ? ' (--fast)' : ''}`,
);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
