// `snapwire compare` as a user runs it (the built CLI in a subprocess) against a real service with real
// Chromium: a baseline taken, the page edited -> exit 1 and a diff image; unchanged -> exit 0.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fileStemFor } from '../src/batch/file-names.js';
import { startFixtureServer, type FixtureServer } from '../../server/test/helpers/fixture-server.js';
import { decode } from '../../server/test/helpers/images.js';
import { LIVE_KEY, startService, type TestService } from '../../server/test/helpers/service.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 240_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const pricePage = (price: number, box: string) =>
  `<!doctype html><html><body style="margin:0;background:#fff;font-family:sans-serif">
<h1 style="margin:20px">Prices</h1><p style="margin:20px;font-size:24px">Price: ${price} EUR</p>
<div style="position:absolute;left:300px;top:150px;width:80px;height:40px;background:${box}"></div></body></html>`;

describe('snapwire compare', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let page = pricePage(10, '#00aa00');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-compare-'));
  const baseline = path.join(work, 'baseline');
  const diffs = path.join(work, 'diffs');
  let pageUrl: string;
  let otherUrl: string;
  let connection: string[];

  before(async () => {
    fixtures = await startFixtureServer({
      routes: { '/prices': (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page) },
    });
    service = await startService();
    pageUrl = `http://fixtures.test:${fixtures.port}/prices`;
    otherUrl = `http://fixtures.test:${fixtures.port}/solid`;
    connection = [
      '--resolution',
      '640x400',
      '--rendering-wait',
      '0',
      '--host',
      service.baseUrl,
      '--key',
      LIVE_KEY,
    ];
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const baselineOf = (url: string) => path.join(baseline, `${fileStemFor(url)}.png`);
  const compare = (...extra: string[]) =>
    runCli([
      'compare',
      pageUrl,
      otherUrl,
      '--baseline',
      baseline,
      '--diff-dir',
      diffs,
      ...connection,
      ...extra,
    ]);

  it('writes missing baselines and says so (exit 0)', async () => {
    const run = await compare();
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /^new +baseline .*\/prices/m);
    assert.match(run.stdout, /2 new baselines/);
    const image = await decode(fs.readFileSync(baselineOf(pageUrl)));
    assert.deepEqual([image.width, image.height], [640, 400]);
    assert.ok(fs.existsSync(baselineOf(otherUrl)));
  });

  it('exits 0 when nothing changed, with a line per page', async () => {
    const run = await compare();
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.equal(run.stdout.match(/^unchanged 0\.0000 /gm)?.length, 2, run.stdout);
    assert.ok(!fs.existsSync(diffs), 'no diff for unchanged pages');
  });

  it('exits 1 when the page was edited, and writes its diff image', async () => {
    page = pricePage(12, '#cc0000');
    const run = await compare();
    assert.equal(run.code, 1, run.stderr + run.stdout);
    assert.match(run.stdout, /^changed +0\.0\d{3} .*\/prices/m);
    assert.match(run.stdout, /^unchanged 0\.0000 .*\/solid/m);
    const diffFile = path.join(diffs, `${fileStemFor(pageUrl)}.diff.png`);
    assert.ok(run.stdout.includes(diffFile), run.stdout);
    const diff = await decode(fs.readFileSync(diffFile));
    assert.deepEqual(diff.pixel(340, 170), [255, 0, 0], 'the recoloured box is red on the diff');
    // A threshold over the change: not a change.
    const lenient = await compare('--threshold', '0.5');
    assert.equal(lenient.code, 0, lenient.stdout);
  });

  it('--update takes the new captures as the baselines', async () => {
    const update = await compare('--update');
    assert.equal(update.code, 0, update.stderr + update.stdout);
    assert.match(update.stdout, /2 updated/);
    const run = await compare();
    assert.equal(run.code, 0, run.stdout);
  });

  it('exits 2 when a page cannot be captured, and refuses a bad threshold', async () => {
    const run = await runCli([
      'compare',
      `http://fixtures.test:${fixtures.port}/never-loads`,
      '--baseline',
      baseline,
      '--timeout',
      '2000',
      ...connection,
    ]);
    assert.equal(run.code, 2, run.stderr + run.stdout);
    assert.match(run.stdout, /OPERATION_TIMEOUT/);
    const bad = await compare('--threshold', '5');
    assert.equal(bad.code, 2, 'a usage error is not "a page changed"');
    assert.match(bad.stderr, /--threshold takes a share from 0 to 1/);
  });
});
