// `snapwire extract` and `snapwire templates` (the committed launcher, as `npx snapwire` runs it) against a
// live service without a browser and a loopback fixture page.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startFixtureServer, type FixtureServer } from '../../server/test/helpers/fixture-server.js';
import { LIVE_KEY, startService, type TestService } from '../../server/test/helpers/service.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'snapwire.js');

const PAGE =
  '<html><body><h1>Blue Widget</h1><p class="price">$19.50</p><a href="/next">next</a></body></html>';
const TEMPLATE = {
  selectors: [
    { name: 'title', type: 'css', query: 'h1::text' },
    { name: 'price', type: 'css', query: '.price', extractor: { name: 'price' } },
    { name: 'next', type: 'css', query: 'a::attr(href)', formatters: [{ name: 'absolute_url' }] },
  ],
};
const PRICE = { amount: 19.5, currency: 'USD', raw: '$19.50' };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('snapwire extract and snapwire templates against a running service', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-extract-'));
  const file = (name: string, content: string) => {
    const at = path.join(dir, name);
    fs.writeFileSync(at, content);
    return at;
  };
  const cli = (args: string[]): Promise<Run> =>
    new Promise((resolve) =>
      execFile(
        process.execPath,
        [CLI, ...args],
        {
          timeout: 60_000,
          env: { PATH: process.env.PATH ?? '', SNAPWIRE_HOST: service.baseUrl, SNAPWIRE_KEY: LIVE_KEY },
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );

  before(async () => {
    fixtures = await startFixtureServer({
      routes: {
        '/item': (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
        },
      },
    });
    service = await startService({}, {}, { browsers: false });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('templates put saves a template file; list and get show it', async () => {
    const put = await cli(['templates', 'put', 'product', file('product.json', JSON.stringify(TEMPLATE))]);
    assert.equal(put.code, 0, put.stderr);
    assert.equal(put.stdout, 'saved product (3 selectors)\n');
    const list = await cli(['templates', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^product {2}3 selectors {2}updated \d{4}-\d\d-\d\dT/);
    const get = await cli(['templates', 'get', 'product']);
    assert.deepEqual(JSON.parse(get.stdout), TEMPLATE);
    const listed = await cli(['templates', '--json', 'list']);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as Array<{ name: string }>).map((saved) => saved.name),
      ['product'],
    );
  });

  it('templates put refuses a malformed rule with its path, and a file that is not JSON', async () => {
    const bad = file(
      'bad.json',
      JSON.stringify({ selectors: [{ name: 'x', type: 'css', query: 'h1', cast: 'money' }] }),
    );
    const refused = await cli(['templates', 'put', 'bad', bad]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^snapwire: ERR::EXTRACTION::INVALID_RULE \(HTTP 400\): .*selectors\[0\]\.cast/,
    );
    const notJson = await cli(['templates', 'put', 'bad', file('bad.txt', 'selectors: h1')]);
    assert.equal(notJson.code, 1);
    assert.match(notJson.stderr, /bad\.txt is not JSON/);
    assert.equal((await cli(['templates', 'get', 'bad'])).code, 1, 'nothing was saved');
  });

  it('extract FILE --template NAME prints the data (media type from the file name, links against --url)', async () => {
    const run = await cli([
      'extract',
      file('item.html', PAGE),
      '--template',
      'product',
      '--url',
      'https://shop.test/p/1',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      title: 'Blue Widget',
      price: PRICE,
      next: 'https://shop.test/next',
    });
  });

  it('extract URL --template NAME: the service scrapes the page, then extracts; links against its address', async () => {
    const url = `${fixtures.origin}/item`;
    const run = await cli(['extract', url, '--template', 'product', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const answer = JSON.parse(run.stdout);
    assert.deepEqual(answer.data, { title: 'Blue Widget', price: PRICE, next: `${fixtures.origin}/next` });
    assert.equal(answer.cost, 1);
    assert.match(answer.logUuid, /^[0-9A-Z]{26}$/);
  });

  it('extract --template-file sends the template with the call; --content-type for another file name', async () => {
    const template = file(
      'title.json',
      JSON.stringify({ selectors: [{ name: 't', type: 'css', query: 'h1::text' }] }),
    );
    const run = await cli([
      'extract',
      file('page.dat', PAGE),
      '--template-file',
      template,
      '--content-type',
      'text/html',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { t: 'Blue Widget' });
    const unknownType = await cli(['extract', file('page.dat', PAGE), '--template-file', template]);
    assert.equal(unknownType.code, 1);
    assert.match(unknownType.stderr, /cannot tell the media type of .*page\.dat.*--content-type/);
  });

  it('extract says what is missing: no method, two methods, an unknown template (404)', async () => {
    const page = file('item2.html', PAGE);
    const none = await cli(['extract', page]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /--template NAME, --template-file FILE, --prompt TEXT or --model KIND/);
    const two = await cli(['extract', page, '--template', 'product', '--prompt', 'price?']);
    assert.match(two.stderr, /only one of/);
    const unknown = await cli(['extract', page, '--template', 'missing']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^snapwire: ERR::EXTRACTION::TEMPLATE_NOT_FOUND \(HTTP 404\): .*"missing"/);
  });

  it('templates delete removes it; extract by its name is then a 404', async () => {
    const deleted = await cli(['templates', 'delete', 'product']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, 'deleted product\n');
    const gone = await cli(['extract', file('item3.html', PAGE), '--template', 'product']);
    assert.match(gone.stderr, /TEMPLATE_NOT_FOUND \(HTTP 404\)/);
    const again = await cli(['templates', 'delete', 'product']);
    assert.equal(again.code, 1);
  });
});
