// Runs every `// example:` block of packages/sdk/README.md as a user would (its own process, importing
// the built package by name) against a live service with real Chromium. The examples name
// https://example.com; here it points at a loopback fixture page (tests never leave loopback).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startFixtureServer, type FixtureServer } from '../../server/test/helpers/fixture-server.js';
import { startReceiver, type Receiver } from '../../server/test/helpers/receiver.js';
import { LIVE_KEY, startService, type TestService } from '../../server/test/helpers/service.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const README = path.join(here, '..', 'README.md');
// Inside the package, so `@snapwire/sdk` resolves as it does for a user (gitignored).
const WORK = path.join(here, '..', '.test-data', `readme-${process.pid}`);

interface Example {
  name: string;
  language: string;
  code: string;
}

function examples(): Example[] {
  const text = fs.readFileSync(README, 'utf8');
  return [...text.matchAll(/```(ts|js)\n(\/\/ example: ([\w-]+)\n[\s\S]*?)```/g)].map((match) => ({
    language: match[1]!,
    code: match[2]!,
    name: match[3]!,
  }));
}

// What each example must print (one pattern per line it logs).
const EXPECTED: Record<string, RegExp[]> = {
  screenshot: [/^image\/png 200 http:\/\/fixtures\.test:\d+\/ \S+ http:\/\/\S+\/screenshot\/result\/\S+$/m],
  save: [/^shots\/example\.webp \d+ image\/webp$/m, /^true$/m],
  webhooks: [
    /^secret to verify deliveries with: \S{16,}$/m,
    /^done 1$/m,
    /^\[ 200(, 200)* \]$/m,
    /^\[ 'shots' \]$/m,
  ],
  logs: [
    /^\d+ success 200 \d+ http:\/\/\S+\/dashboard\/monitoring\/log\/\S+$/m,
    /^default \d+$/m,
    /^\d+ 1$/m,
  ],
  errors: [/^ERR::SCRAPE::BAD_PROTOCOL 422 false .+/m, /^AbortError$/m],
  scrape: [/^200 1 # Example Domain$/m, /^404 ERR::SCRAPE::BAD_UPSTREAM_RESPONSE$/m],
  extract: [
    /^\{"title":"Blue Widget"\} 1$/m,
    /^\{"title":"Red Lamp"\} title$/m,
    /^404 ERR::EXTRACTION::TEMPLATE_NOT_FOUND$/m,
  ],
  commonjs: [/^default function$/m],
};

describe('packages/sdk/README.md examples, against a live service', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let receiver: Receiver;

  before(async () => {
    fixtures = await startFixtureServer({
      routes: {
        '/': (_req, res) =>
          res
            .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
            .end('<html><body style="background:#0080ff"><h1>Example Domain</h1></body></html>'),
      },
    });
    receiver = await startReceiver();
    service = await startService({}, { 'hooks.test': '127.0.0.1' });
    fs.mkdirSync(WORK, { recursive: true });
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
    await fixtures?.close();
    fs.rmSync(WORK, { recursive: true, force: true });
  });

  it('finds every example the README promises', () => {
    assert.deepEqual(
      examples()
        .map((example) => example.name)
        .sort(),
      Object.keys(EXPECTED).sort(),
    );
  });

  for (const name of Object.keys(EXPECTED)) {
    it(`runs "${name}"`, async () => {
      const example = examples().find((candidate) => candidate.name === name);
      assert.ok(example, `README has the ${name} example`);
      const code = example.code
        .replaceAll('https://hooks.example.com', `http://hooks.test:${new URL(receiver.url).port}`)
        .replaceAll('https://example.com', `http://fixtures.test:${fixtures.port}`)
        .replaceAll("'example.com'", "'fixtures.test'");
      const file = path.join(WORK, `${name}.${example.language === 'js' ? 'cjs' : 'ts'}`);
      fs.writeFileSync(file, code);
      const args = example.language === 'js' ? [file] : ['--import', 'tsx', file];
      const {
        stdout,
        stderr,
        code: exit,
      } = await new Promise<{ stdout: string; stderr: string; code: number }>((resolve) =>
        execFile(
          process.execPath,
          args,
          {
            cwd: WORK,
            timeout: 120_000,
            env: { PATH: process.env.PATH ?? '', SNAPWIRE_HOST: service.baseUrl, SNAPWIRE_KEY: LIVE_KEY },
          },
          (error, out, err) =>
            resolve({
              stdout: out,
              stderr: err,
              code: error ? Number((error as { code?: number }).code ?? 1) : 0,
            }),
        ),
      );
      assert.equal(exit, 0, `${name} exited ${exit}: ${stderr}`);
      for (const pattern of EXPECTED[name]!) assert.match(stdout, pattern, `${name} printed:\n${stdout}`);
    });
  }
});
