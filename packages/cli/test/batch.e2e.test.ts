// `snapwire batch` as a user runs it (the built CLI in a subprocess) against a real service with real
// Chromium: throttling waited out, failures reported, a run killed halfway and resumed.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fileStemFor } from '../src/batch/file-names.js';
import { readUrls } from '../src/batch/inputs.js';
import { Progress } from '../src/batch/progress.js';
import { startFixtureServer, type FixtureServer } from '../../server/test/helpers/fixture-server.js';
import { decode } from '../../server/test/helpers/images.js';
import { LIVE_KEY, startService, type TestService } from '../../server/test/helpers/service.js';
import { waitUntil } from '../../server/test/helpers/wait-until.js';

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

/** A loopback port nothing listens on: connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const images = (dir: string) => fs.readdirSync(dir).filter((name) => name.endsWith('.jpg'));

const MB = 1024 * 1024;

/** What the server of a generated sitemap sent before the reader went away (or it finished). */
interface StreamedSitemap {
  bytesSent: number;
  finished: boolean;
  closed: boolean;
}

describe('snapwire batch', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-batch-'));
  // A sitemap on this machine that a remote sitemap index must not make the batch read.
  const privateSitemap = path.join(work, 'private-sitemap.xml');
  let streamed: StreamedSitemap | undefined;

  before(async () => {
    const sitemapIndex = (loc: string) =>
      `<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>${loc}</loc></sitemap></sitemapindex>`;
    fixtures = await startFixtureServer({
      routes: {
        '/index-to-local-path.xml': (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/xml' }).end(sitemapIndex(privateSitemap));
        },
        '/index-to-file-url.xml': (_req, res) => {
          res
            .writeHead(200, { 'content-type': 'application/xml' })
            .end(sitemapIndex(`file://${privateSitemap}`));
        },
        // 92 MB of sitemap, chunked (no Content-Length), written as fast as the reader takes it.
        '/huge-sitemap.xml': (_req, res) => {
          const state: StreamedSitemap = { bytesSent: 0, finished: false, closed: false };
          streamed = state;
          const entry = `<url><loc>http://fixtures.test:${fixtures.port}/solid?${'x'.repeat(2000)}</loc></url>\n`;
          const block = Buffer.from(entry.repeat(32));
          const total = 92 * MB;
          res.writeHead(200, { 'content-type': 'application/xml' });
          res.write('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n');
          res.on('close', () => (state.closed = true));
          const pump = () => {
            while (state.bytesSent < total && !res.destroyed) {
              state.bytesSent += block.length;
              if (!res.write(block)) {
                res.once('drain', pump);
                return;
              }
            }
            if (!res.destroyed) res.end('</urlset>', () => (state.finished = true));
          };
          pump();
        },
        '/sitemap.xml': (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/xml' }).end(
            `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>http://fixtures.test:${fixtures.port}/solid?a=1&amp;b=2</loc></url>
  <url><loc><![CDATA[http://fixtures.test:${fixtures.port}/tall]]></loc></url>
</urlset>`,
          );
        },
      },
    });
    service = await startService();
    // One capture at a time for the project: a batch running three at once is throttled (429).
    await service.snapwire.services.projects.update('default', { overrides: { concurrency: 1 } });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('names files safely and stably from URLs', () => {
    const stem = fileStemFor('https://Example.com/a b/c.html?x=1');
    assert.match(stem, /^example\.com_a_20b_c\.html-[0-9a-f]{10}$/);
    assert.equal(stem, fileStemFor('https://Example.com/a b/c.html?x=1'), 'stable');
    assert.notEqual(stem, fileStemFor('https://Example.com/a b/c.html?x=2'), 'the query counts');
    assert.doesNotMatch(fileStemFor('http://x/../../etc/passwd'), /\/|^\./);
    assert.ok(fileStemFor(`https://example.com/${'a'.repeat(500)}`).length <= 91);
  });

  it('draws a bar with rate and ETA on a terminal, plain lines elsewhere', () => {
    const written: string[] = [];
    const stream = (isTTY: boolean) =>
      ({ isTTY, write: (text: string) => written.push(text) }) as unknown as NodeJS.WriteStream;
    const tty = new Progress(stream(true));
    tty.begin({ done: 0, total: 4, ok: 0, failed: 0, skipped: 0 });
    tty.finished({ done: 1, total: 4, ok: 1, failed: 0, skipped: 0 }, 'ok one', true);
    tty.note('throttled, waiting 2 s');
    tty.end({ done: 4, total: 4, ok: 3, failed: 1, skipped: 0 });
    assert.match(written[0]!, /^\[-{24}\] 0\/4 0% 0\.0\/s ETA -- ok 0 failed 0 skipped 0$/);
    assert.match(
      written[1]!,
      /^\r\x1b\[2K\[#{6}-{18}\] 1\/4 25% \d+\.\d\/s ETA (\d+s|--) ok 1 failed 0 skipped 0$/,
    );
    assert.match(written[2]!, /throttled, waiting 2 s$/);
    assert.match(written[3]!, /\[#{24}\] 4\/4 100% .* ok 3 failed 1 skipped 0\n$/);
    written.length = 0;
    const plain = new Progress(stream(false));
    plain.begin({ done: 0, total: 1, ok: 0, failed: 0, skipped: 0 });
    plain.finished(
      { done: 1, total: 1, ok: 1, failed: 0, skipped: 0 },
      'ok   https://example.com -> a.jpg',
      true,
    );
    plain.end({ done: 1, total: 1, ok: 1, failed: 0, skipped: 0 });
    assert.deepEqual(written, ['ok   https://example.com -> a.jpg\n']);
  });

  it('reads a sitemap by URL (entities and CDATA decoded)', async () => {
    assert.deepEqual(await readUrls(`${fixtures.origin}/sitemap.xml`), [
      `http://fixtures.test:${fixtures.port}/solid?a=1&b=2`,
      `http://fixtures.test:${fixtures.port}/tall`,
    ]);
  });

  it('a remote sitemap index pointing at a local file or a file:// URL is refused; nothing of the file is captured', async () => {
    fs.writeFileSync(
      privateSitemap,
      `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://fixtures.test:${fixtures.port}/solid?from=private-file</loc></url></urlset>`,
    );
    for (const index of ['index-to-local-path.xml', 'index-to-file-url.xml']) {
      const out = path.join(work, `refused-${index}`);
      const run = await runCli([
        'batch',
        `${fixtures.origin}/${index}`,
        '--out',
        out,
        '--host',
        service.baseUrl,
        '--key',
        LIVE_KEY,
      ]);
      assert.equal(run.code, 1, run.stderr);
      assert.match(
        run.stderr,
        /^snapwire: the sitemap index http:\/\/127\.0\.0\.1:\d+\/index-to-\S+ lists "(file:\/\/)?\/\S+private-sitemap\.xml", which is not an http\(s\) URL; a sitemap fetched over HTTP may only point to http\(s\) sitemaps$/m,
      );
      assert.equal(fs.existsSync(out), false, 'nothing captured');
    }
    // A sitemap index on this machine may still point at this machine's files: the user chose it.
    const localIndex = path.join(work, 'local-index.xml');
    fs.writeFileSync(
      localIndex,
      `<sitemapindex><sitemap><loc>${privateSitemap}</loc></sitemap></sitemapindex>`,
    );
    assert.deepEqual(await readUrls(localIndex), [
      `http://fixtures.test:${fixtures.port}/solid?from=private-file`,
    ]);
  });

  it('a chunked sitemap past 50 MB is refused once 50 MB are read, and its connection dropped', async () => {
    await assert.rejects(readUrls(`${fixtures.origin}/huge-sitemap.xml`), (error: Error) => {
      assert.equal(
        error.message,
        `${fixtures.origin}/huge-sitemap.xml is larger than 50 MB, the most a sitemap may hold`,
      );
      return true;
    });
    const state = await waitUntil(() => streamed?.closed && streamed, {
      what: 'the server sees the reader leave',
    });
    assert.equal(state.finished, false, 'the server never got to the end of its 92 MB');
    // What was sent: the 50 MB read plus what the sockets' buffers held when the reader left.
    assert.ok(state.bytesSent < 70 * MB, `sent ${Math.round(state.bytesSent / MB)} MB`);
  });

  it('captures 20 URLs, is killed halfway, resumes: 18 files, two failures reported, exit 1', async () => {
    const refusedUrl = `http://fixtures.test:${await closedPort()}/refused`;
    const timeoutUrl = `http://fixtures.test:${fixtures.port}/never-loads`;
    const urls = Array.from(
      { length: 18 },
      (_, i) => `http://fixtures.test:${fixtures.port}/solid?page=${i + 1}`,
    );
    urls.splice(2, 0, refusedUrl);
    urls.splice(14, 0, timeoutUrl);
    const list = path.join(work, 'urls.txt');
    fs.writeFileSync(list, `# twenty pages\n${urls.join('\n')}\n\n`);
    const out = path.join(work, 'shots');
    const args = [
      'batch',
      list,
      '--out',
      out,
      '--concurrency',
      '3',
      '--rendering-wait',
      '0',
      '--timeout',
      '4000',
      '--resolution',
      '640x480',
      '--host',
      service.baseUrl,
      '--key',
      LIVE_KEY,
    ];

    // First run: killed (SIGKILL, no chance to clean up) once about half the files are there.
    const first = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let firstOutput = '';
    first.stderr.on('data', (chunk: Buffer) => (firstOutput += chunk.toString()));
    const exited = new Promise((resolve) => first.on('exit', resolve));
    await waitUntil(() => fs.existsSync(out) && images(out).length >= 9, {
      timeoutMs: 120_000,
      what: 'half the files',
    });
    first.kill('SIGKILL');
    await exited;
    const afterKill = images(out).length;
    assert.ok(afterKill >= 9 && afterKill < 18, `killed halfway (${afterKill} files)`);
    assert.match(firstOutput, /throttled \(ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED\), waiting \d+ s/);

    // Second run: resumes.
    const second = await runCli(args);
    assert.equal(second.code, 1, second.stderr);
    assert.equal(images(out).length, 18, second.stderr);
    assert.deepEqual(
      fs.readdirSync(out).filter((name) => name.endsWith('.part')),
      [],
      'no partial files',
    );
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    assert.equal(report.total, 20);
    assert.equal(report.failed, 2);
    assert.equal(report.pending, 0);
    assert.equal(report.ok + report.skipped, 18);
    assert.ok(report.skipped >= afterKill, `files of the first run skipped (${report.skipped})`);
    const failures = report.entries.filter((entry: { status: string }) => entry.status === 'failed');
    assert.deepEqual(
      failures.map((entry: { url: string; error_code: string }) => [entry.url, entry.error_code]),
      [
        [refusedUrl, 'ERR::SCRAPE::NETWORK_ERROR'],
        [timeoutUrl, 'ERR::SCRAPE::OPERATION_TIMEOUT'],
      ],
    );
    for (const failure of failures) assert.match(failure.log_url, /\/dashboard\/monitoring\/log\/\S+$/);
    const saved = report.entries.find((entry: { status: string }) => entry.status === 'ok');
    assert.ok(saved, 'the second run captured some');
    assert.equal(saved.file, `${fileStemFor(saved.url)}.jpg`);
    assert.equal(saved.upstream_status, 200);
    assert.match(saved.log_url, /\/dashboard\/monitoring\/log\/\S+$/);

    // Not a terminal: plain lines, then the summary table naming the failures.
    assert.match(second.stderr, /^skip http:\/\/fixtures\.test:\d+\/solid\?page=1 \(/m);
    assert.match(
      second.stderr,
      /^FAIL http:\/\/fixtures\.test:\d+\/never-loads: ERR::SCRAPE::OPERATION_TIMEOUT/m,
    );
    assert.match(second.stdout, /^failed\s+2$/m);
    assert.match(
      second.stdout,
      new RegExp(`ERR::SCRAPE::NETWORK_ERROR\\s+${refusedUrl.replace(/[.?]/g, '\\$&')}`),
    );

    // A third run with --json: everything there is skipped, the failures are tried again.
    const third = await runCli([...args, '--json']);
    assert.equal(third.code, 1);
    const json = JSON.parse(third.stdout);
    assert.equal(json.skipped, 18);
    assert.equal(json.failed, 2);
  });

  it('passes the extension flags: --device-scale-factor 2 doubles the images, --format pdf saves PDFs', async () => {
    const list = path.join(work, 'two.txt');
    fs.writeFileSync(
      list,
      `http://fixtures.test:${fixtures.port}/solid?x=1\nhttp://fixtures.test:${fixtures.port}/solid?x=2\n`,
    );
    const common = ['--rendering-wait', '0', '--host', service.baseUrl, '--key', LIVE_KEY, '--json'];
    const retina = path.join(work, 'retina');
    const shot = await runCli([
      'batch',
      list,
      '--out',
      retina,
      '--format',
      'png',
      '--resolution',
      '300x200',
      '--device-scale-factor',
      '2',
      '--header',
      'x-batch=1',
      '--hide-selectors',
      '.ads',
      ...common,
    ]);
    assert.equal(shot.code, 0, shot.stderr);
    const pngs = fs.readdirSync(retina).filter((name) => name.endsWith('.png'));
    assert.equal(pngs.length, 2);
    for (const name of pngs) {
      const image = await decode(fs.readFileSync(path.join(retina, name)));
      assert.deepEqual([image.width, image.height], [600, 400], name);
    }

    const pdfs = path.join(work, 'pdfs');
    const printed = await runCli([
      'batch',
      list,
      '--out',
      pdfs,
      '--format',
      'pdf',
      '--pdf-paper',
      'a5',
      ...common,
    ]);
    assert.equal(printed.code, 0, printed.stderr);
    const files = fs.readdirSync(pdfs).filter((name) => name.endsWith('.pdf'));
    assert.equal(files.length, 2);
    assert.equal(fs.readFileSync(path.join(pdfs, files[0]!)).subarray(0, 5).toString('latin1'), '%PDF-');
  });

  it('--fail-on-status 4xx,5xx counts a page that answered 404 as failed; without it the 404 page is saved', async () => {
    const list = path.join(work, 'with-404.txt');
    const missing = `http://fixtures.test:${fixtures.port}/status-404`;
    const fine = `http://fixtures.test:${fixtures.port}/solid?status=200`;
    fs.writeFileSync(list, `${fine}\n${missing}\n`);
    const common = [
      '--rendering-wait',
      '0',
      '--resolution',
      '320x240',
      '--host',
      service.baseUrl,
      '--key',
      LIVE_KEY,
    ];
    const entryOf = (out: string, url: string) =>
      JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')).entries.find(
        (entry: { url: string }) => entry.url === url,
      );

    // By default a capture is a success whatever the page answered: the report says what it answered.
    const lenient = path.join(work, 'lenient');
    const saved = await runCli(['batch', list, '--out', lenient, ...common]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.equal(images(lenient).length, 2);
    assert.equal(entryOf(lenient, missing).status, 'ok');
    assert.equal(entryOf(lenient, missing).upstream_status, 404);

    const strict = path.join(work, 'strict');
    const run = await runCli(['batch', list, '--out', strict, '--fail-on-status', '4xx,5xx', ...common]);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(images(strict), [`${fileStemFor(fine)}.jpg`], 'the 404 page is not kept');
    assert.deepEqual(
      fs.readdirSync(strict).filter((name) => name.endsWith('.part')),
      [],
      'no partial files',
    );
    const failed = entryOf(strict, missing);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error_code, 'UPSTREAM_STATUS');
    assert.equal(failed.error, 'the page answered HTTP 404 (--fail-on-status 4xx,5xx)');
    assert.equal(failed.upstream_status, 404);
    assert.match(failed.log_url, /\/dashboard\/monitoring\/log\/\S+$/);
    assert.equal(entryOf(strict, fine).status, 'ok');
    assert.match(
      run.stderr,
      /^FAIL http:\/\/fixtures\.test:\d+\/status-404: UPSTREAM_STATUS: the page answered HTTP 404/m,
    );
    assert.match(run.stdout, /^failed\s+1$/m);
    assert.match(run.stdout, /UPSTREAM_STATUS\s+http:\/\/fixtures\.test:\d+\/status-404$/m);

    // Exact statuses work too, and a rerun tries the refused page again (its file was never written).
    const exact = await runCli([
      'batch',
      list,
      '--out',
      strict,
      '--fail-on-status',
      '410',
      '--json',
      ...common,
    ]);
    assert.equal(exact.code, 0, exact.stderr);
    const report = JSON.parse(exact.stdout);
    assert.deepEqual([report.ok, report.skipped, report.failed], [1, 1, 0]);

    const bad = await runCli(['batch', list, '--out', strict, '--fail-on-status', '4x', ...common]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /snapwire: --fail-on-status takes a comma list .* e\.g\. 4xx,5xx or 404,410; got "4x"/,
    );
  });

  it('explains bad input instead of failing obscurely', async () => {
    const missing = await runCli(['batch', path.join(work, 'nope.txt'), '--out', work, '--key', LIVE_KEY]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /snapwire: cannot read .*nope\.txt: ENOENT/);
    const bad = path.join(work, 'bad.txt');
    fs.writeFileSync(bad, 'example.com\n');
    const notUrl = await runCli(['batch', bad, '--out', work, '--key', LIVE_KEY]);
    assert.match(notUrl.stderr, /snapwire: not an http\(s\) URL: "example\.com"/);
  });
});
