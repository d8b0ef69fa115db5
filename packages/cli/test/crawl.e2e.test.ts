// `snapwire crawl` (the committed launcher, as `npx snapwire` runs it) against a live service and a generated
// loopback site: files per page, the WARC, resuming, and the URL list without --out.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LIVE_KEY, startService, type TestService } from '../../server/test/helpers/service.js';
import { PAGES, startSite, type Site } from '../../server/test/crawl/site.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'snapwire.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('snapwire crawl against a running service', () => {
  let service: TestService;
  let site: Site;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-crawl-cli-'));

  const crawl = (args: string[]): Promise<Run> =>
    new Promise((resolve) =>
      execFile(
        process.execPath,
        [CLI, 'crawl', ...args],
        {
          timeout: 120_000,
          env: { PATH: process.env.PATH ?? '', SNAPWIRE_HOST: service.baseUrl, SNAPWIRE_KEY: LIVE_KEY },
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );

  before(async () => {
    site = await startSite();
    service = await startService({}, { 'site.test': '127.0.0.1' }, { browsers: false });
  });
  after(async () => {
    await service?.close();
    await site?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes one markdown file a page and the WARC, and resumes without fetching what it has', async () => {
    const out = path.join(dir, 'section-3');
    const run = await crawl([`${site.origin}/section/3/`, '--out', out, '--format', 'markdown']);
    assert.equal(run.code, 0, run.stderr);
    const pages = path.join(out, `site.test_${site.port}`, 'section', '3');
    assert.match(fs.readFileSync(path.join(pages, 'index.md'), 'utf8'), /^# Section 3/);
    assert.match(fs.readFileSync(path.join(pages, 'page', '7.md'), 'utf8'), /^# Section 3 page 7/);
    assert.equal(fs.readdirSync(path.join(pages, 'page')).length, PAGES);
    assert.deepEqual([...fs.readFileSync(path.join(out, 'crawl.warc.gz')).subarray(0, 2)], [0x1f, 0x8b]);
    assert.match(
      run.stdout,
      new RegExp(
        `^${PAGES + 1} pages written to ${out}, WARC .*crawl\\.warc\\.gz; DONE no_more_urls, ${PAGES + 1} credits`,
      ),
    );
    const uuid = /crawl (\S+) started/.exec(run.stderr)?.[1];
    assert.ok(uuid, run.stderr);
    assert.match(run.stderr, new RegExp(`pages ${PAGES + 1} visited, 0 failed, 0 queued`));

    fs.rmSync(path.join(pages, 'page', '7.md'));
    const again = await crawl([`${site.origin}/section/3/`, '--out', out, '--resume', uuid, '--no-warc']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`^1 pages written to ${out} \\(${PAGES} already there\\); DONE`));
    assert.match(fs.readFileSync(path.join(pages, 'page', '7.md'), 'utf8'), /^# Section 3 page 7/);
  });

  it('prints the visited URLs without --out, and says why a crawl failed', async () => {
    const run = await crawl([`${site.origin}/`, '--limit', '5']);
    assert.equal(run.code, 0, run.stderr);
    const urls = run.stdout.trim().split('\n');
    assert.equal(urls.length, 5);
    assert.ok(urls.every((url) => url.startsWith(`${site.origin}/`)));
    const failed = await crawl([`${site.origin}/nowhere`]);
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /the crawl ended without success: seed_url_failed/);
    const refused = await crawl([`${site.origin}/`, '--exclude', '/a/*', '--include', '/b/*']);
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /ERR::CRAWLER::CONFIG_ERROR \(HTTP 400\): exclude_paths and include_only_paths cannot be used together/,
    );
  });
});
