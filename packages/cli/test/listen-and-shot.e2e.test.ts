import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startFixtureServer, type FixtureServer } from '../../server/test/helpers/fixture-server.js';
import { decode } from '../../server/test/helpers/images.js';
import { LIVE_KEY, startService, type TestService } from '../../server/test/helpers/service.js';
import { waitUntil } from '../../server/test/helpers/wait-until.js';

const run = promisify(execFile);
// The committed launcher, as `npx snapwire` runs it.
const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'snapwire.js');
const SECRET = 'listen-test-secret-0123456789';

describe('snapwire shot and snapwire listen against a running service', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let listener: ChildProcess;
  let listenerUrl: string;
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-listen-'));

  before(async () => {
    fixtures = await startFixtureServer();
    service = await startService();
    listener = spawn(process.execPath, [CLI, 'listen', '--secret', SECRET, '--out', outDir, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    listenerUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('listener did not start')), 10_000);
      listener.stdout!.on('data', (chunk: Buffer) => {
        const match = /Listening for webhook deliveries at (\S+)/.exec(chunk.toString());
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });
  });
  after(async () => {
    listener?.kill('SIGTERM');
    await service?.close();
    await fixtures?.close();
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('shot saves the image with the extension of its format', async () => {
    const file = path.join(outDir, 'page.png');
    const { stdout } = await run(process.execPath, [
      CLI,
      'shot',
      `${fixtures.origin}/solid`,
      '--format',
      'png',
      '--resolution',
      '800x600',
      '-o',
      file,
      '--host',
      service.baseUrl,
      '--key',
      LIVE_KEY,
    ]);
    assert.match(stdout, /page\.png: \d+ bytes, upstream 200/);
    const bytes = fs.readFileSync(file);
    assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG');
  });

  it('shot explains an API error without a stack trace', async () => {
    await assert.rejects(
      run(process.execPath, [
        CLI,
        'shot',
        'ftp://example.com/',
        '--host',
        service.baseUrl,
        '--key',
        LIVE_KEY,
      ]),
      (error: { stderr: string; code: number }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr, /ERR::SCRAPE::BAD_PROTOCOL \(HTTP 422\): .*only http:\/\/ and https:\/\//);
        assert.doesNotMatch(error.stderr, /at .*\.js:\d+/, 'no stack trace');
        return true;
      },
    );
  });

  it('shot passes every screenshot parameter, reading the host and key from the environment', async () => {
    const file = path.join(outDir, 'all.webp');
    const { stdout } = await run(
      process.execPath,
      [
        CLI,
        'shot',
        `${fixtures.origin}/solid`,
        '-o',
        file,
        '--format',
        'webp',
        '--capture',
        'fullpage',
        '--resolution',
        '640x480',
        '--timeout',
        '20000',
        '--rendering-wait',
        '0',
        '--wait-for-selector',
        '#box',
        '--options',
        'dark_mode,load_images',
        '--auto-scroll',
        '--js',
        'document.title = "x"',
        '--cache',
        '--cache-ttl',
        '60',
        '--cache-clear',
        '--vision-deficiency',
        'deuteranopia',
      ],
      { env: { ...process.env, SNAPWIRE_HOST: service.baseUrl, SNAPWIRE_KEY: LIVE_KEY } },
    );
    // The service refuses unknown parameter names, so a wrongly named one would fail here.
    assert.match(stdout, /all\.webp: \d+ bytes, upstream 200/);
    assert.equal(fs.readFileSync(file).subarray(8, 12).toString('latin1'), 'WEBP');
  });

  it('shot --device-scale-factor 2 saves an image twice the resolution', async () => {
    const file = path.join(outDir, 'retina.png');
    const { stdout } = await run(process.execPath, [
      CLI,
      'shot',
      `${fixtures.origin}/solid`,
      '--format',
      'png',
      '--resolution',
      '400x300',
      '--device-scale-factor',
      '2',
      '--rendering-wait',
      '0',
      '-o',
      file,
      '--host',
      service.baseUrl,
      '--key',
      LIVE_KEY,
    ]);
    assert.match(stdout, /retina\.png: \d+ bytes, upstream 200/);
    const image = await decode(fs.readFileSync(file));
    assert.deepEqual([image.width, image.height], [800, 600]);
  });

  it('shot passes every extension flag; --format pdf saves a PDF', async () => {
    const host = new URL(fixtures.origin).hostname;
    const file = path.join(outDir, 'ext.png');
    const { stdout } = await run(process.execPath, [
      CLI,
      'shot',
      `${fixtures.origin}/solid`,
      '-o',
      file,
      '--format',
      'png',
      '--rendering-wait',
      '0',
      '--header',
      'x-test-one=1',
      '--header',
      'x-test-two=a=b',
      '--cookie',
      `session=abc; Domain=${host}; Path=/`,
      '--cookie',
      'theme=dark',
      '--viewport-device',
      'Pixel 7',
      '--user-agent',
      'snapwire-cli-test',
      '--hide-selectors',
      '.ads,#chat',
      '--click',
      '#box',
      '--omit-background',
      '--timezone',
      'Europe/Paris',
      '--geolocation',
      '48.8566,2.3522',
      '--host',
      service.baseUrl,
      '--key',
      LIVE_KEY,
    ]);
    // The service refuses unknown parameter names, so a wrongly named one would fail here.
    assert.match(stdout, /ext\.png: \d+ bytes, upstream 200/);
    assert.equal(fs.readFileSync(file).subarray(1, 4).toString('latin1'), 'PNG');

    const pdf = path.join(outDir, 'page.pdf');
    const printed = await run(process.execPath, [
      CLI,
      'shot',
      `${fixtures.origin}/solid`,
      '-o',
      pdf,
      '--format',
      'pdf',
      '--pdf-paper',
      'a5',
      '--pdf-landscape',
      '--no-pdf-print-background',
      '--host',
      service.baseUrl,
      '--key',
      LIVE_KEY,
    ]);
    assert.match(printed.stdout, /page\.pdf: \d+ bytes, upstream 200/);
    assert.equal(fs.readFileSync(pdf).subarray(0, 5).toString('latin1'), '%PDF-');

    await assert.rejects(
      run(process.execPath, [CLI, 'shot', `${fixtures.origin}/solid`, '--device-scale-factor', '5']),
      (error: { stderr: string }) => /--device-scale-factor takes a number from 1 to 3/.test(error.stderr),
    );
  });

  it('--help names SNAPWIRE_HOST and SNAPWIRE_KEY', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'shot', '--help']);
    assert.match(stdout, /SNAPWIRE_HOST/);
    assert.match(stdout, /SNAPWIRE_KEY/);
    for (const flag of [
      '--country',
      '--timeout',
      '--rendering-wait',
      '--wait-for-selector',
      '--options',
      '--auto-scroll',
      '--js',
      '--cache',
      '--cache-ttl',
      '--cache-clear',
      '--vision-deficiency',
      '--webhook',
    ])
      assert.match(stdout, new RegExp(`${flag}\\b`), flag);
  });

  it('shot says in one line what is wrong: service unreachable, bad key, refused URL', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const cases: Array<[string[], RegExp]> = [
      [
        ['--host', `http://127.0.0.1:${closed}`, '--key', LIVE_KEY],
        /cannot reach Snapwire at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): is it running/,
      ],
      [['--host', service.baseUrl, '--key', 'scp-live-wrong'], /refused the key \(HTTP 401\)/],
      [
        ['--host', service.baseUrl, '--key', LIVE_KEY, '--format', 'bmp'],
        /option '--format <format>' argument 'bmp' is invalid/,
      ],
    ];
    for (const [flags, message] of cases) {
      const failure = await run(process.execPath, [CLI, 'shot', `${fixtures.origin}/solid`, ...flags]).then(
        () => assert.fail(`shot ${flags.join(' ')} should fail`),
        (error: { code: number; stderr: string }) => error,
      );
      assert.notEqual(failure.code, 0);
      assert.match(failure.stderr, message);
      assert.equal(failure.stderr.trim().split('\n').length, 1, failure.stderr);
    }
    // A URL the egress guard refuses (a private address: refused before any packet is sent).
    const refused = await run(process.execPath, [
      CLI,
      'shot',
      'http://10.0.0.1/',
      '--host',
      service.baseUrl,
      '--key',
      LIVE_KEY,
    ]).then(
      () => assert.fail('a private address must be refused'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr.trim(),
      /^snapwire: ERR::SCRAPE::DOMAIN_NOT_ALLOWED \(HTTP 422\): .+\/docs\/errors#ERR::SCRAPE::DOMAIN_NOT_ALLOWED\)$/,
    );
  });

  it('listen verifies and saves what a webhook delivers', async () => {
    const created = await fetch(`${service.baseUrl}/webhooks?key=${LIVE_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'local', url: listenerUrl, secret: SECRET }),
    });
    assert.equal(created.status, 201);
    const accepted = await (
      await fetch(
        `${service.baseUrl}/screenshot?key=${LIVE_KEY}&webhook_name=local&format=webp&rendering_wait=0&url=${encodeURIComponent(`${fixtures.origin}/solid`)}`,
      )
    ).json();
    const expected = path.join(outDir, `${accepted.job_uuid}.webp`);
    const started = Date.now();
    while (!fs.existsSync(`${accepted.job_uuid}.json`.replace(/^/, `${outDir}/`))) {
      assert.ok(Date.now() - started < 20_000, 'the delivery arrived within 20 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const image = fs.readFileSync(expected);
    assert.equal(image.subarray(8, 12).toString('latin1'), 'WEBP');
    const meta = JSON.parse(fs.readFileSync(path.join(outDir, `${accepted.job_uuid}.json`), 'utf8'));
    assert.equal(JSON.stringify(meta).includes('local'), true);
  });

  it("listen saves the other APIs' deliveries too: an asynchronous scrape arrives as its JSON envelope", async () => {
    const accepted = await fetch(
      `${service.baseUrl}/scrape?key=${LIVE_KEY}&webhook_name=local&url=${encodeURIComponent(`${fixtures.origin}/solid`)}`,
    );
    assert.equal(accepted.status, 201, await accepted.clone().text());
    const sidecar = await waitUntil(
      () =>
        fs
          .readdirSync(outDir)
          .filter((name) => name.endsWith('.meta.json'))
          .map(
            (name) => JSON.parse(fs.readFileSync(path.join(outDir, name), 'utf8')) as Record<string, unknown>,
          )
          .find((meta) => meta.resourceType === 'scrape'),
      { timeoutMs: 20_000, what: 'the scrape delivery saved by listen' },
    );
    const body = JSON.parse(fs.readFileSync(path.join(outDir, String(sidecar.file)), 'utf8')) as {
      result: { status_code: number; content: string };
    };
    assert.equal(body.result.status_code, 200);
    assert.match(body.result.content, /<html|<body|<div/i);
  });
});
