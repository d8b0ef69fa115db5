// `snapwire scrape` (the committed launcher, as `npx snapwire` runs it) against a live service and
// loopback fixture pages.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  startFixtureServer,
  type FixtureServer,
  type Handler,
} from '../../server/test/helpers/fixture-server.js';
import { LIVE_KEY, startService, type TestService } from '../../server/test/helpers/service.js';
import { createWebhook, deliveryOf } from '../../server/test/helpers/async-jobs.js';
import { startReceiver } from '../../server/test/helpers/receiver.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'snapwire.js');
const FIXTURES = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'server',
  'test',
  'fixtures',
);

let echoed: { method: string; headers: Record<string, unknown>; body: string } | undefined;
const routes: Record<string, Handler> = {
  '/echo': (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      echoed = {
        method: req.method ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ got: echoed.body }));
    });
  },
  // A button a js_scenario clicks; the click writes the result into the page.
  '/shop': (_req, res) => {
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(
        '<html><head><title>Shop</title></head><body><button id="go" onclick="document.querySelector(\'#cart\').textContent = \'one lamp\'">Add</button><div id="cart" style="width:200px;height:80px">empty</div></body></html>',
      );
  },
  '/login': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': 'sid=cli123; Path=/' }).end('<p>in</p>');
  },
  '/whoami': (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`cookie: ${req.headers.cookie ?? 'none'}`);
  },
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('snapwire scrape against a running service', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let origin: string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-scrape-'));
  const runs: Run[] = [];

  /** Runs the CLI with the host and key in the environment; every output is kept to check for the key. */
  const scrape = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve) =>
      execFile(
        process.execPath,
        [CLI, 'scrape', ...args],
        {
          timeout: 120_000,
          env: {
            PATH: process.env.PATH ?? '',
            SNAPWIRE_HOST: service.baseUrl,
            SNAPWIRE_KEY: LIVE_KEY,
            ...env,
          },
        },
        (error, stdout, stderr) => {
          const run = { code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr };
          runs.push(run);
          resolve(run);
        },
      ),
    );

  before(async () => {
    fixtures = await startFixtureServer({ routes });
    service = await startService();
    origin = `http://fixtures.test:${fixtures.port}`;
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints the page in markdown, only its main content, to stdout', async () => {
    const run = await scrape([
      `${origin}/scrape-article`,
      '--format',
      'markdown',
      '--format-option',
      'only_content',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /Keepers tended the \[oil lamps\]\(http:\/\/fixtures\.test:\d+\/lamps\?kind=oil\) every night/,
    );
    assert.match(run.stdout, /\| North Point \| 1851 \|/);
    assert.doesNotMatch(run.stdout, /About us|Footer links/, 'navigation and footer left out');
    assert.doesNotMatch(run.stdout, /<p>/);
    assert.equal(run.stderr, '');
  });

  it('renders with Chromium, waits for a selector, runs a --js file, and writes the envelope with --json -o', async () => {
    const script = path.join(dir, 'extract.js');
    fs.writeFileSync(script, "return document.querySelector('#late').id + ':' + document.title;");
    const file = path.join(dir, 'late.json');
    const run = await scrape([
      `${origin}/late`,
      '--render-js',
      '--wait-for-selector',
      '#late',
      '--js',
      script,
      '--rendering-wait',
      '0',
      '--json',
      '-o',
      file,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /late\.json: \d+ bytes, upstream 200, 6 credits, log http:\/\/\S+\/dashboard\/monitoring\/log\/\S+/,
    );
    const envelope = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(envelope.result.success, true);
    assert.match(envelope.result.content, /<div id="late"><\/div>/);
    assert.equal(envelope.result.browser_data.javascript_evaluation_result, 'late:Late');
    assert.equal(envelope.config.render_js, true);
  });

  it('runs a --js-scenario file, saves each --screenshot next to -o, and answers the page after the steps', async () => {
    const steps = path.join(dir, 'steps.json');
    fs.writeFileSync(steps, JSON.stringify([{ click: { selector: '#go' } }, { wait: 10 }]));
    const out = path.join(dir, 'shots', 'shop.html');
    fs.mkdirSync(path.dirname(out));
    const run = await scrape([
      `${origin}/shop`,
      '--render-js',
      '--js-scenario',
      steps,
      '--screenshot',
      'cart=#cart',
      '--screenshot',
      'whole=fullpage',
      '-o',
      out,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(fs.readFileSync(out, 'utf8'), /<div id="cart"[^>]*>one lamp<\/div>/);
    const cart = path.join(dir, 'shots', 'cart.jpg');
    const whole = path.join(dir, 'shots', 'whole.jpg');
    assert.match(run.stdout, /\/shots\/cart\.jpg: \d+ bytes, screenshot cart \(element\)/);
    assert.ok(run.stdout.includes(`${cart}: `), run.stdout);
    assert.match(run.stdout, /whole\.jpg: \d+ bytes, screenshot whole \(fullpage\)/);
    for (const file of [cart, whole]) {
      const image = fs.readFileSync(file);
      assert.deepEqual([...image.subarray(0, 3)], [0xff, 0xd8, 0xff], `${file} is a JPEG`);
    }
    assert.ok(
      fs.readFileSync(whole).length > fs.readFileSync(cart).length,
      'the full page is the larger image',
    );
  });

  it('a missing or malformed --js-scenario file exits 1 naming the file, before any call', async () => {
    const missing = path.join(dir, 'nowhere.json');
    const gone = await scrape([`${origin}/shop`, '--render-js', '--js-scenario', missing]);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, `snapwire: --js-scenario ${missing}: cannot read the file (ENOENT)\n`);
    const broken = path.join(dir, 'broken.json');
    fs.writeFileSync(broken, '[{"click": ');
    const bad = await scrape([`${origin}/shop`, '--render-js', '--js-scenario', broken]);
    assert.equal(bad.code, 1);
    assert.ok(bad.stderr.startsWith(`snapwire: --js-scenario ${broken}: not valid JSON (`), bad.stderr);
    const object = path.join(dir, 'object.json');
    fs.writeFileSync(object, '{"click": {"selector": "#go"}}');
    const notList = await scrape([`${origin}/shop`, '--render-js', '--js-scenario', object]);
    assert.equal(notList.code, 1);
    assert.match(notList.stderr, /object\.json: must hold a JSON list of steps/);
    const noName = await scrape([`${origin}/shop`, '--render-js', '--screenshot', 'fullpage']);
    assert.equal(noName.code, 1);
    assert.match(noName.stderr, /--screenshot takes NAME=fullpage/);
  });

  it('--session keeps the cookies the target set for the next scrape of that session only', async () => {
    const login = await scrape([`${origin}/login`, '--session', 'cli-shop']);
    assert.equal(login.code, 0, login.stderr);
    const again = await scrape([`${origin}/whoami`, '--session', 'cli-shop']);
    assert.equal(again.stdout, 'cookie: sid=cli123');
    const other = await scrape([`${origin}/whoami`, '--session', 'cli-other']);
    assert.equal(other.stdout, 'cookie: none');
  });

  it('POSTs --data @file with --header NAME:VALUE to the target', async () => {
    const body = path.join(dir, 'query.json');
    fs.writeFileSync(body, '{"q":"lamps"}');
    const run = await scrape([
      `${origin}/echo`,
      '--method',
      'POST',
      '--data',
      `@${body}`,
      '--header',
      'content-type: application/json',
      '-H',
      'cookie:session=abc; theme=dark',
      '--json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).config.method, 'POST');
    assert.equal(echoed?.method, 'POST');
    assert.equal(echoed?.body, '{"q":"lamps"}');
    assert.equal(echoed?.headers['content-type'], 'application/json');
    assert.equal(echoed?.headers.cookie, 'session=abc; theme=dark');
  });

  it('writes a binary page as its bytes with -o', async () => {
    const file = path.join(dir, 'pixel.png');
    const run = await scrape([`${origin}/image.png`, '-o', file]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(fs.readFileSync(file), fs.readFileSync(path.join(FIXTURES, 'pixel.png')));
  });

  it('an upstream 404 exits 1 with one clear line, no stack trace', async () => {
    const run = await scrape([`${origin}/status-404`, '--format', 'markdown']);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(
      run.stderr,
      /^snapwire: the target answered HTTP 404 Not Found for http:\/\/fixtures\.test:\d+\/status-404 \(ERR::SCRAPE::BAD_UPSTREAM_RESPONSE; log http:\/\/\S+\/dashboard\/monitoring\/log\/\S+\)\n$/,
    );
  });

  it('explains a refused parameter and a failed scrape by their catalogue codes', async () => {
    const refused = await scrape([`${origin}/scrape-article`, '--timeout', '5']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^snapwire: ERR::SCRAPE::CONFIG_ERROR \(HTTP 400\): .*timeout/);
    const binary = await scrape([`${origin}/image.png`, '--format', 'markdown']);
    assert.equal(binary.code, 1);
    assert.match(binary.stderr, /^snapwire: ERR::SCRAPE::FORMAT_NOT_SUPPORTED \(HTTP 422\): /);
    assert.doesNotMatch(binary.stderr, /at .*\.js:\d+/, 'no stack trace');
  });

  it('--webhook queues the scrape, prints the promise, and the webhook receives the envelope', async () => {
    const receiver = await startReceiver();
    try {
      await createWebhook(service.baseUrl, 'cli-pages', receiver.url);
      const run = await scrape([`${origin}/scrape-article`, '--format', 'text', '--webhook', 'cli-pages']);
      assert.equal(run.code, 0, run.stderr);
      const promise = JSON.parse(run.stdout);
      assert.equal(promise.context.webhook.name, 'cli-pages');
      assert.equal(promise.result.content, '');
      const delivery = await deliveryOf(receiver, promise.context.job.uuid);
      assert.match(JSON.parse(delivery.body.toString('utf8')).result.content, /Lighthouse keepers/);
    } finally {
      await receiver.close();
    }
  });

  it('takes the key from --key, names the fix without one, and never prints a key', async () => {
    const withFlag = await scrape([`${origin}/data.json`, '--key', LIVE_KEY], { SNAPWIRE_KEY: '' });
    assert.equal(withFlag.code, 0, withFlag.stderr);
    assert.equal(withFlag.stdout, '{"hello":"world"}');
    const without = await scrape([`${origin}/data.json`], { SNAPWIRE_KEY: '' });
    assert.equal(without.code, 1);
    assert.match(without.stderr, /no API key: pass --key KEY or set SNAPWIRE_KEY/);
    const help = await scrape(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /SNAPWIRE_KEY +project API key \(now: set\)/);
    for (const run of runs) {
      assert.ok(!run.stdout.includes(LIVE_KEY) && !run.stderr.includes(LIVE_KEY), 'a key was printed');
    }
  });
});
