#!/usr/bin/env node
// `npm test`: every *.test.ts under packages/*/test, run by Node's own test runner through tsx.
// Node 20 has no glob support in `node --test`, so the files are listed here. Files run one at a time:
// most suites drive a real Chromium, and two cores do not run two of those side by side reliably.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const filter = process.argv.slice(2);

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
  .sort();

if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

// The CLI and the SDK are tested as built (the way users run them), so build first; this also type-checks.
const build = spawnSync(
  process.execPath,
  [
    path.join(root, 'node_modules/typescript/bin/tsc'),
    '-b',
    'packages/sdk',
    'packages/server',
    'packages/cli',
  ],
  {
    stdio: 'inherit',
    cwd: root,
  },
);
if (build.status !== 0) {
  console.error('build failed');
  process.exit(build.status ?? 1);
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=300000', ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
