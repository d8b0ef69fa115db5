// Every command's --help as a user runs it (the built CLI in a subprocess), with secrets in the environment:
// the help may name SNAPWIRE_KEY and the other variables, never print what they hold.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');

// The secret part of each value; the help may show the variables' names, never these.
const KEY = 'scp-live-canary-key-7f3a9c';
const DB_PASSWORD = 'canary-db-password-c4f1';
const CANARIES: Record<string, string> = {
  SNAPWIRE_KEY: KEY,
  SNAPWIRE_ADMIN_PASSWORD: 'canary-admin-password-51d2',
  SNAPWIRE_METRICS_TOKEN: 'canary-metrics-token-0b8e',
  SNAPWIRE_BOOTSTRAP_LIVE_KEY: 'canary-bootstrap-live-key-93aa',
  DATABASE_URL: `postgres://snap:${DB_PASSWORD}@127.0.0.1:5432/test`,
  AWS_SECRET_ACCESS_KEY: 'canary-aws-secret-6e20',
};
const SECRETS = [
  ...Object.entries(CANARIES)
    .filter(([name]) => name !== 'DATABASE_URL')
    .map(([, value]) => value),
  DB_PASSWORD,
];

function help(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, ...args, '--help'],
      { timeout: 30_000, env: { PATH: process.env.PATH ?? '', ...CANARIES } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`snapwire ${args.join(' ')} --help failed: ${stderr}`));
        else resolve(stdout + stderr);
      },
    );
  });
}

/** The names listed under "Commands:" in a help text (help itself left out). */
function subcommands(text: string): string[] {
  const section = text.split(/^Commands:$/m)[1];
  if (!section) return [];
  return [...section.split(/\n\n/)[0]!.matchAll(/^ {2}([a-z][a-z-]*)/gm)]
    .map((match) => match[1]!)
    .filter((name) => name !== 'help');
}

describe('snapwire --help', () => {
  it('never prints a key or another secret from the environment, in any command', async () => {
    const seen: string[] = [];
    const pending: string[][] = [[]];
    // Breadth-first over the command tree (two levels today); bounded by the tree's size.
    while (pending.length > 0 && seen.length < 100) {
      const command = pending.shift()!;
      const text = await help(command);
      seen.push(command.join(' ') || '(top level)');
      for (const secret of SECRETS) {
        assert.ok(!text.includes(secret), `snapwire ${command.join(' ')} --help printed ${secret}:\n${text}`);
      }
      for (const name of subcommands(text)) pending.push([...command, name]);
    }
    // The walk reached every command a user has, so the check above was not vacuous.
    for (const command of [
      'shot',
      'batch',
      'schedules',
      'schedules create',
      'schedules list',
      'monitors',
      'monitors create',
      'monitors approve',
      'extract',
      'templates',
      'templates put',
      'listen',
      'mcp',
      'serve',
      'projects',
      'projects create',
      'admin reset-password',
    ]) {
      assert.ok(seen.includes(command), `${command} was checked (${seen.join(', ')})`);
    }
    // The options that read SNAPWIRE_KEY name it instead.
    for (const command of [['shot'], ['batch'], ['schedules'], ['monitors'], ['extract'], ['templates']]) {
      assert.match(await help(command), /--key <key>\s+project API key \(LIVE or TEST\); env\s+SNAPWIRE_KEY/);
    }
  });
});
