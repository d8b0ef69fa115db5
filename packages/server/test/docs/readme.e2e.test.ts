import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { NOT_SERVED_DOC, NOT_SERVED_PRODUCTS } from '../../src/http/not-found.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The ```sh blocks of one README section (from its "## " heading to the next). */
function shellBlocks(heading: string): string[] {
  const start = README.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README has a "## ${heading}" section`);
  const end = README.indexOf('\n## ', start + 1);
  const section = README.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

// Every shell line of the README's quick start, run as written against a service this test starts. What a
// reader's machine has and this test must not touch is substituted: the service's address (the test picks
// a free port), the key the banner printed, and example.com (tests only contact loopback: a local page).
describe('the README quick start, executed', () => {
  let fixtures: FixtureServer;
  let service: TestService;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-readme-'));

  before(async () => {
    fixtures = await startFixtureServer();
    service = await startService();
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('runs every shell line of the quick start', async () => {
    const page = `http://fixtures.test:${fixtures.port}/solid`;
    const lines = shellBlocks('Quick start')
      .join('\n')
      .split('\n')
      .filter((line) => line.trim() !== '');
    // `npm start` is what this test replaced by starting the service itself.
    const commands = lines.filter((line) => !/^npm (start|test)\b/.test(line.trim()));
    assert.ok(commands.length >= 4, `the quick start has its commands: ${commands.join(' | ')}`);
    const script = commands
      .map((line) =>
        line
          .replaceAll('http://localhost:8080', service.baseUrl)
          .replaceAll('https%3A%2F%2Fexample.com', encodeURIComponent(page))
          .replaceAll('https://example.com', page)
          .replaceAll('scp-live-…', LIVE_KEY),
      )
      .join('\n');
    // `npx snapwire` in the clone runs the workspace's bin; outside the clone (this temp folder) the same
    // launcher is called directly, so that npx never looks anything up in the registry.
    const launcher = path.join(ROOT, 'packages', 'cli', 'bin', 'snapwire.js');
    const prelude = `set -euo pipefail\nnpx() { if [ "$1" = snapwire ]; then shift; node ${JSON.stringify(launcher)} "$@"; else echo "unexpected npx $*" >&2; return 1; fi; }\n`;
    const { stdout, stderr } = await run('bash', ['-c', prelude + script.replaceAll('curl ', 'curl -sS ')], {
      cwd: work,
      // The second terminal of the quick start: the same data folder as the service, nothing else set.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: os.homedir(),
        SNAPWIRE_DATA_DIR: service.dataDir,
        // Stands in for the CLI's default http://localhost:8080: the test's service is on a free port.
        SNAPWIRE_HOST: service.baseUrl,
      },
      timeout: 120_000,
    });
    assert.equal(fs.readFileSync(path.join(work, 'shot.jpg')).subarray(0, 3).toString('hex'), 'ffd8ff');
    assert.equal(fs.readFileSync(path.join(work, 'shot.png')).subarray(1, 4).toString('latin1'), 'PNG');
    assert.match(stdout, /"name": "other"/);
    assert.match(stdout, /^other\s+UNLIMITED/m, 'projects list shows the new project, on the default plan');
    assert.match(stderr, new RegExp(`store: SQLite ${service.dataDir}/snapwire\\.db`));
  });

  it('`npx snapwire` resolves to the CLI in the clone, without the registry', async () => {
    const { stdout } = await run('npx', ['--no-install', 'snapwire', '--help'], {
      cwd: ROOT,
      timeout: 60_000,
    });
    assert.match(stdout, /Usage: snapwire/);
    assert.match(stdout, /SNAPWIRE_HOST/);
  });
});

describe('the README section "What Snapwire does not do"', () => {
  it('is where the 404 of a route Snapwire does not serve points, and names every product it names', () => {
    const [file, anchor] = NOT_SERVED_DOC.split('#');
    assert.equal(file, 'README.md');
    // GitHub's anchor of a heading: lower case, spaces to dashes.
    const heading = README.split('\n').find((line) => /^## /.test(line) && slug(line) === anchor);
    assert.ok(heading, `README has the heading of #${anchor}`);
    const start = README.indexOf(heading);
    const section = README.slice(start, README.indexOf('\n## ', start + 1));
    for (const { product, prefixes } of NOT_SERVED_PRODUCTS) {
      assert.ok(section.includes(product), `the section names ${product}`);
      for (const prefix of prefixes) assert.ok(section.includes(`\`${prefix}`), `it lists ${prefix}`);
    }
    for (const other of ['Proxy Saver', 'Anti-bot bypass', 'Residential']) {
      assert.ok(section.includes(other), `the section names ${other}`);
    }
  });
});

function slug(heading: string): string {
  return heading
    .replace(/^#+\s*/, '')
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
}
