import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

// The SDK and the CLI (with the MCP package it runs for `snapwire mcp`) as a user gets them: packed with `npm pack` (only what `files` lists), installed
// from the tarballs into an empty folder, the client imported from TypeScript and the bin run from there.
describe('the packed SDK and CLI', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-pack-'));
  const app = path.join(work, 'app');
  let packed: Array<{ name: string; filename: string; files: Array<{ path: string }> }>;

  before(async () => {
    const { stdout } = await run(
      'npm',
      [
        'pack',
        '--json',
        '--pack-destination',
        work,
        '-w',
        'packages/sdk',
        '-w',
        'packages/mcp',
        '-w',
        'packages/cli',
      ],
      { cwd: ROOT, timeout: 120_000 },
    );
    packed = JSON.parse(stdout);
    fs.mkdirSync(app);
    fs.writeFileSync(
      path.join(app, 'package.json'),
      JSON.stringify({ name: 'pack-check', private: true, type: 'module' }),
    );
    // commander and the MCP package's dependencies come from the registry (or npm's cache): the tarballs
    // bring everything else.
    await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        ...packed.map((entry) => path.join(work, entry.filename)),
      ],
      { cwd: app, timeout: 180_000 },
    );
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('ships only what users need: the build, the launcher, the README', () => {
    const byName = Object.fromEntries(packed.map((entry) => [entry.name, entry.files.map((f) => f.path)]));
    assert.ok(byName['@snapwire/sdk']?.includes('dist/index.d.ts'));
    assert.ok(byName['@snapwire/cli']?.includes('bin/snapwire.js'));
    assert.ok(byName['@snapwire/mcp']?.includes('dist/index.js'));
    for (const files of Object.values(byName)) {
      assert.ok(!files.some((file) => file.startsWith('src/') || file.startsWith('test/')), files.join(' '));
    }
  });

  it('cites no file it does not ship: every docs/*.md its code and README name is in the package', () => {
    for (const name of ['sdk', 'mcp', 'cli']) {
      const installed = path.join(app, 'node_modules', '@snapwire', name);
      const texts = (dir: string): string[] =>
        fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
          const full = path.join(dir, entry.name);
          // The shipped pages' own links lead to the repository; the package's code and README are checked.
          if (entry.isDirectory()) return ['node_modules', 'docs'].includes(entry.name) ? [] : texts(full);
          return /\.(js|cjs|ts|md)$/.test(entry.name) ? [full] : [];
        });
      const cited = new Set(
        texts(installed).flatMap((file) =>
          [...fs.readFileSync(file, 'utf8').matchAll(/docs\/[A-Za-z0-9_.-]+\.md/g)].map((match) => match[0]),
        ),
      );
      assert.ok(name !== 'sdk' || cited.has('docs/compat.md'), 'the SDK cites docs/compat.md');
      for (const doc of cited)
        assert.ok(fs.existsSync(path.join(installed, doc)), `@snapwire/${name} cites ${doc}`);
    }
  });

  it('type-checks a program importing the client from the installed package', async () => {
    fs.writeFileSync(
      path.join(app, 'shoot.ts'),
      `import { SnapwireClient, BadApiKeyError, type ScreenshotResult } from '@snapwire/sdk';
import { UpstreamHttpClientError, type ScrapeResult } from '@snapwire/sdk';
const client = new SnapwireClient({ host: 'http://127.0.0.1:8080', key: 'scp-live-x' });
export const shot: Promise<ScreenshotResult> = client.screenshot({ url: 'https://example.com', format: 'png' });
export const isKeyError = (error: unknown) => error instanceof BadApiKeyError;
export const page: Promise<ScrapeResult> = client.scrape({ url: 'https://example.com', format: 'markdown' });
export const upstreamStatus = (error: unknown) =>
  error instanceof UpstreamHttpClientError ? error.upstreamStatus : undefined;
`,
    );
    const config = {
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        // Node's types from the workspace (the SDK's declarations use Buffer); the package itself resolves
        // from this folder's node_modules, through its `exports` map.
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        types: ['node'],
      },
      files: ['shoot.ts'],
    };
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify(config));
    await run(process.execPath, [TSC, '-p', app], { cwd: app });
    // The check can fail: a parameter the client does not know is a type error.
    fs.writeFileSync(
      path.join(app, 'shoot.ts'),
      `import { SnapwireClient } from '@snapwire/sdk';
new SnapwireClient({ host: 'http://127.0.0.1:8080', key: 'k' }).screenshot({ url: 'https://example.com', format: 'bmp' });
`,
    );
    await assert.rejects(
      run(process.execPath, [TSC, '-p', app], { cwd: app }),
      (error: { stdout: string }) => {
        assert.match(error.stdout, /"bmp"/);
        return true;
      },
    );
  });

  it('runs the CLI from the installed bin', async () => {
    const bin = path.join(app, 'node_modules', '.bin', 'snapwire');
    const version = await run(bin, ['--version'], { cwd: app });
    assert.equal(
      version.stdout.trim(),
      JSON.parse(fs.readFileSync(path.join(ROOT, 'packages/cli/package.json'), 'utf8')).version,
    );
    const help = await run(bin, ['shot', '--help'], { cwd: app });
    assert.match(help.stdout, /SNAPWIRE_HOST/);
    // Installed alone, the admin commands name the package they need instead of failing obscurely.
    const admin = await run(bin, ['projects', 'list'], { cwd: app }).then(
      () => assert.fail('projects list needs @snapwire/server'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(admin.code, 1);
    assert.equal(
      admin.stderr,
      'snapwire: this command needs the service package: npm install @snapwire/server (next to @snapwire/cli)\n',
    );
  });

  it('has a launcher that names the fix when the build is missing (a fresh clone before its first build)', async () => {
    const unbuilt = path.join(work, 'unbuilt');
    fs.mkdirSync(path.join(unbuilt, 'bin'), { recursive: true });
    fs.copyFileSync(
      path.join(ROOT, 'packages/cli/bin/snapwire.js'),
      path.join(unbuilt, 'bin', 'snapwire.js'),
    );
    fs.writeFileSync(path.join(unbuilt, 'package.json'), JSON.stringify({ type: 'module' }));
    const failure = await run(process.execPath, [path.join(unbuilt, 'bin', 'snapwire.js'), '--help']).then(
      () => assert.fail('without dist/ the launcher must stop'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(failure.code, 1);
    assert.equal(
      failure.stderr,
      'snapwire: the CLI is not built yet (dist/main.js is missing); run: npm run build\n',
    );
  });
});
