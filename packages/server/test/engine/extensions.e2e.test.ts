import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { SnapwireClient } from '@snapwire/sdk';
import { curlOf } from '../../src/dashboard/curl.js';
import { cacheKeyOf, parseScreenshotRequest } from '../../src/request/screenshot-request.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { waitUntil } from '../helpers/wait-until.js';
import { assertColor, expectImage, near, shoot, type RGB } from './support.js';

/**
 * Snapwire's capture extensions (headers, cookies, device scale, device presets, user agent, hidden
 * selectors, click, transparent background, PDF, time zone, geolocation), each judged on what a user
 * checks: the pixels, the PDF's bytes, and what a receiving fixture got.
 */

interface Recorded {
  path: string;
  headers: http.IncomingHttpHeaders;
}

interface RecordingSite {
  port: number;
  received: Recorded[];
  close(): Promise<void>;
}

/** An HTTP site on loopback that records every request (path and headers) and serves the given pages. */
async function startRecordingSite(pages: Record<string, (origin: string) => string | { redirect: string }>) {
  const received: Recorded[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    received.push({ path, headers: req.headers });
    const page = pages[path];
    if (!page) {
      if (path.endsWith('.png')) {
        res.writeHead(200, { 'content-type': 'image/png' }).end(PIXEL);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const body = page(`http://${req.headers.host}`);
    if (typeof body === 'object') res.writeHead(302, { location: body.redirect }).end();
    else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const site: RecordingSite = {
    port: (server.address() as AddressInfo).port,
    received,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return site;
}

const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

const SECRET = 'Bearer s3cret-token-4f9a';
const COOKIE_SECRET = 'c00kie-secret-77b1';
const GREENISH: RGB = [0, 192, 0];

/** Every pixel's colour of an image (alpha dropped), to say what is and is not anywhere in it. */
async function colours(bytes: Buffer): Promise<{ has(color: RGB): boolean }> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    has(color) {
      for (let offset = 0; offset < data.length; offset += info.channels) {
        const pixel: RGB = [data[offset] ?? 0, data[offset + 1] ?? 0, data[offset + 2] ?? 0];
        if (near(pixel, color, 30)) return true;
      }
      return false;
    },
  };
}

describe('capture extensions: logged-in pages, retina, devices, hidden elements, click, transparency, PDF', () => {
  let service: TestService;
  let site: RecordingSite;
  let other: RecordingSite;
  let receiver: Receiver;
  let target: (path: string) => string;

  before(async () => {
    other = await startRecordingSite({
      '/landing': () => '<html><body style="margin:0;background:#fff">landed elsewhere</body></html>',
    });
    site = await startRecordingSite({
      '/login-only': () => `<html><body style="margin:0;background:#fff">
        <script>document.cookie = 'theme=dark; path=/';</script>
        <img src="/own.png">
        <img src="http://other.test:${other.port}/cross-site.png">
        <!-- Asked for by the script after the cookie is set: as a plain <img>, Chromium's preload scanner
             may fetch it before the script above runs, without the cookie. -->
        <script>document.body.appendChild(new Image()).src = 'http://site.test:${other.port}/cross-port.png';</script>
        <iframe src="http://site.test:${other.port}/frame"></iframe>
        <script>fetch('http://other.test:${other.port}/xhr', { credentials: 'include' }).catch(() => {});</script>
        <script>new Worker(URL.createObjectURL(new Blob([
          "fetch('http://site.test:${other.port}/worker-fetch', { credentials: 'include' }).catch(() => {});"
        ], { type: 'text/javascript' })));</script>
        </body></html>`,
      // No cookie of the page's own: the Cookie header towards the other port would carry only ours.
      '/bare': () => `<html><body style="margin:0;background:#fff">
        <img src="http://site.test:${other.port}/bare-cross-port.png"></body></html>`,
      '/go-away': () => ({ redirect: `http://other.test:${other.port}/landing` }),
      '/line': () =>
        '<html><body style="margin:0;background:#fff"><div style="position:absolute;left:0;top:10px;width:100%;height:1px;background:#000"></div></body></html>',
      '/tall-bands': () =>
        '<html><body style="margin:0"><div style="height:5000px;background:#ff0000"></div><div style="height:5000px;background:#0000ff"></div></body></html>',
      '/responsive': () => `<html><head><meta name="viewport" content="width=device-width,initial-scale=1">
        <style>body{margin:0;background:#ff0000}@media (max-width:500px){body{background:#00c000}}</style>
        </head><body>responsive</body></html>`,
      '/widgets': () => `<html><head><style>
        body{margin:0;background:#fff}
        #chat{position:fixed;right:0;bottom:0;width:100px;height:100px;background:#0000ff}
        .late{position:absolute;left:0;top:0;width:100px;height:100px;background:#ff0000}
        #keep{position:absolute;left:150px;top:0;width:50px;height:50px;background:#00c000}
        </style></head><body><div id="chat"></div><div id="keep"></div>
        <script>setTimeout(() => { const d = document.createElement('div'); d.className = 'late'; document.body.appendChild(d); }, 300);</script>
        </body></html>`,
      '/panel': () => `<html><head><style>
        body{margin:0;background:#fff}
        #panel{display:none;position:absolute;left:0;top:100px;width:200px;height:100px;background:#00c000}
        #open{position:absolute;left:0;top:0;width:100px;height:40px}
        </style></head><body><button id="open">open</button><div id="panel"></div>
        <script>document.getElementById('open').addEventListener('click', (event) => {
          if (event.isTrusted) setTimeout(() => { document.getElementById('panel').style.display = 'block'; }, 200);
        });</script></body></html>`,
      '/transparent': () =>
        '<html><head><style>html,body{margin:0;background:transparent}</style></head><body><div style="width:100px;height:100px;background:#ff0000"></div></body></html>',
      '/document': () =>
        '<html><head><title>doc</title></head><body style="background:#eef"><h1>Snapwire PDF fixture</h1><p>Quarterly figures, page one.</p></body></html>',
      '/emulated': () => `<html><body style="margin:0;background:#fff">
        <div id="ua" style="position:absolute;left:0;top:0;width:100px;height:100px;background:#ff0000"></div>
        <div id="tz" style="position:absolute;left:100px;top:0;width:100px;height:100px;background:#ff0000"></div>
        <div id="geo" style="position:absolute;left:200px;top:0;width:100px;height:100px;background:#ff0000"></div>
        <script>
          const green = '#00c000';
          if (navigator.userAgent === 'SnapwireTest/1.0') document.getElementById('ua').style.background = green;
          if (Intl.DateTimeFormat().resolvedOptions().timeZone === 'Asia/Tokyo') document.getElementById('tz').style.background = green;
          navigator.geolocation.getCurrentPosition(
            (p) => { document.getElementById('geo').style.background = Math.abs(p.coords.latitude - 35.6762) < 1e-6 && Math.abs(p.coords.longitude - 139.6503) < 1e-6 ? green : '#0000ff'; },
            () => { document.getElementById('geo').style.background = '#000000'; });
        </script></body></html>`,
    });
    receiver = await startReceiver('127.0.0.1');
    service = await startService(
      { SNAPWIRE_QUEUE_POLL: '100ms' },
      { 'site.test': '127.0.0.1', 'other.test': '127.0.0.1' },
    );
    target = (path: string) => `http://site.test:${site.port}${path}`;
  });
  after(async () => {
    await service?.close();
    await site?.close();
    await other?.close();
    await receiver?.close();
  });

  const received = (from: RecordingSite, path: string) => from.received.filter((r) => r.path === path);

  it("sends headers and cookies to the target's own origin only: never cross-site, cross-port, or after a redirect away", async () => {
    // A cookie of the page's own (set by a script) still goes wherever the page's cookies go.
    const shot = await shoot(service, {
      url: target('/login-only'),
      'headers[authorization]': SECRET,
      'headers[x-tenant]': 'acme',
      cookies: `session=${COOKIE_SECRET}; Path=/; HttpOnly`,
      rendering_wait: '300',
      format: 'png',
    });
    expectImage(shot);
    const [page] = received(site, '/login-only');
    assert.equal(page?.headers.authorization, SECRET, 'the target page got the header');
    assert.equal(page?.headers['x-tenant'], 'acme');
    assert.equal(page?.headers.cookie, `session=${COOKIE_SECRET}`, 'the target page got the cookie');
    const [own] = received(site, '/own.png');
    assert.equal(own?.headers.authorization, SECRET, 'a subresource of the same origin gets the header too');
    assert.match(String(own?.headers.cookie), new RegExp(`session=${COOKIE_SECRET}`));

    const crossSite = await waitUntil(
      () =>
        ['/cross-site.png', '/xhr'].every((path) => received(other, path).length > 0) &&
        received(other, '/cross-port.png').length > 0 &&
        received(other, '/worker-fetch').length > 0 &&
        received(other, '/frame').length > 0,
      { what: 'the page loaded its cross-origin resources' },
    );
    assert.ok(crossSite);
    for (const request of other.received) {
      assert.equal(request.headers.authorization, undefined, `${request.path}: no header on another origin`);
      assert.equal(request.headers['x-tenant'], undefined, `${request.path}: no header on another origin`);
      assert.ok(
        !String(request.headers.cookie ?? '').includes(COOKIE_SECRET),
        `${request.path}: no cookie on another origin (the same host on another port included)`,
      );
    }

    const [crossPort] = received(other, '/cross-port.png');
    assert.equal(
      crossPort?.headers.cookie,
      'theme=dark',
      "the page's own cookie still goes there; ours does not",
    );

    // A page without cookies of its own: nothing of ours goes to the other port either.
    const bare = await shoot(service, {
      url: target('/bare'),
      cookies: `session=${COOKIE_SECRET}; Path=/; HttpOnly`,
      rendering_wait: '100',
      format: 'png',
    });
    expectImage(bare);
    assert.equal(received(site, '/bare')[0]?.headers.cookie, `session=${COOKIE_SECRET}`);
    const bareCrossPort = await waitUntil(() => received(other, '/bare-cross-port.png')[0], {
      what: 'the bare page loaded its image from the other port',
    });
    assert.ok(
      !String(bareCrossPort.headers.cookie ?? '').includes(COOKIE_SECRET),
      'no cookie on the other port',
    );

    // A redirect to another origin: the next hop goes without them.
    other.received.length = 0;
    expectImage(
      await shoot(service, {
        url: target('/go-away'),
        'headers[authorization]': SECRET,
        cookies: `session=${COOKIE_SECRET}`,
      }),
    );
    const [goAway] = received(site, '/go-away');
    assert.equal(goAway?.headers.authorization, SECRET);
    const [landing] = received(other, '/landing');
    assert.ok(landing, 'the redirect was followed');
    assert.equal(landing.headers.authorization, undefined, 'no header after a redirect to another origin');
    assert.equal(landing.headers.cookie, undefined, 'no cookie after a redirect to another site');
  });

  it('device_scale_factor=2 doubles both dimensions and draws a 1 px line 2 px thick', async () => {
    const plain = expectImage(
      await shoot(service, { url: target('/line'), resolution: '200x150', format: 'png' }),
    );
    assert.deepEqual([plain.width, plain.height], [200, 150]);
    assertColor(plain, 50, 10, [0, 0, 0], 'the line at scale 1', 10);
    assertColor(plain, 50, 11, [255, 255, 255], 'below the line at scale 1', 10);

    const retina = expectImage(
      await shoot(service, {
        url: target('/line'),
        resolution: '200x150',
        device_scale_factor: '2',
        format: 'png',
      }),
    );
    assert.deepEqual([retina.width, retina.height], [400, 300]);
    assertColor(retina, 100, 19, [255, 255, 255], 'above the line', 10);
    assertColor(retina, 100, 20, [0, 0, 0], 'first row of the line', 10);
    assertColor(retina, 100, 21, [0, 0, 0], 'second row of the line', 10);
    assertColor(retina, 100, 22, [255, 255, 255], 'below the line', 10);

    const tall = expectImage(
      await shoot(service, {
        url: target('/line'),
        resolution: '200x150',
        device_scale_factor: '2',
        capture: 'fullpage',
        format: 'png',
      }),
    );
    assert.deepEqual([tall.width, tall.height], [400, 300], 'fullpage at scale 2 too');

    // Taller than one capture holds at scale 2 (20,000 image px): sections at scale, stitched without seams.
    const bands = expectImage(
      await shoot(service, {
        url: target('/tall-bands'),
        resolution: '200x150',
        device_scale_factor: '2',
        capture: 'fullpage',
        format: 'png',
      }),
    );
    assert.deepEqual([bands.width, bands.height], [400, 20_000]);
    for (const y of [0, 8191, 8192, 9998]) assertColor(bands, 200, y, [255, 0, 0], `red band at ${y}`, 10);
    for (const y of [10_001, 16_383, 16_384, 19_999])
      assertColor(bands, 200, y, [0, 0, 255], `blue band at ${y}`, 10);
  });

  it("a phone preset renders the page's mobile layout at the phone's size and density", async () => {
    const desktop = expectImage(await shoot(service, { url: target('/responsive'), format: 'png' }));
    assertColor(desktop, 10, 10, [255, 0, 0], 'the desktop layout is red');
    const shot = await shoot(service, {
      url: target('/responsive'),
      viewport_device: 'iPhone 15',
      format: 'png',
    });
    const phone = expectImage(shot);
    assert.deepEqual([phone.width, phone.height], [393 * 3, 659 * 3], 'the iPhone 15 viewport at 3x');
    assertColor(phone, 100, 100, GREENISH, 'the mobile media query painted it green');
    const [page] = received(site, '/responsive').slice(-1);
    assert.match(String(page?.headers['user-agent']), /iPhone/, "the device's user agent was sent");
  });

  it('hides hide_selectors, also elements added later by scripts', async () => {
    const params = { url: target('/widgets'), rendering_wait: '800', format: 'png', resolution: '400x300' };
    const plain = await shoot(service, params);
    const before = await colours(plain.bytes);
    assert.ok(
      before.has([0, 0, 255]) && before.has([255, 0, 0]),
      'without it the chat and the late box show',
    );
    const hidden = await shoot(service, { ...params, hide_selectors: '#chat, .late' });
    const after = await colours(expectImage(hidden) && hidden.bytes);
    assert.ok(!after.has([0, 0, 255]), 'the chat widget colour is absent');
    assert.ok(!after.has([255, 0, 0]), 'the element added later is hidden too');
    assert.ok(after.has(GREENISH), 'the rest of the page is there');
  });

  it('click reveals a panel that appears in the image (CSS and XPath), after which rendering_wait runs', async () => {
    const params = { url: target('/panel'), rendering_wait: '700', format: 'png', resolution: '400x300' };
    const plain = expectImage(await shoot(service, params));
    assertColor(plain, 100, 150, [255, 255, 255], 'no panel without a click');
    for (const click of ['#open', "//button[@id='open']"]) {
      const clicked = expectImage(await shoot(service, { ...params, click }));
      assertColor(clicked, 100, 150, GREENISH, `the panel opened by a trusted click on ${click}`);
    }
    const missing = await shoot(service, { ...params, click: '#nope' });
    assert.equal(missing.response.status, 422);
    assert.equal(missing.json?.code, 'ERR::SCRAPE::DOM_SELECTOR_NOT_FOUND');
  });

  it('omit_background gives a PNG with alpha 0 where the page paints nothing', async () => {
    const shot = await shoot(service, {
      url: target('/transparent'),
      omit_background: 'true',
      format: 'png',
      resolution: '300x200',
    });
    expectImage(shot);
    const { data, info } = await sharp(shot.bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) =>
      Array.from(data.subarray((y * info.width + x) * 4, (y * info.width + x) * 4 + 4));
    assert.equal(info.channels, 4);
    assert.equal(at(200, 150)[3], 0, 'a background pixel is fully transparent');
    assert.deepEqual(at(50, 50), [255, 0, 0, 255], 'the painted box is opaque red');
    const opaque = await shoot(service, {
      url: target('/transparent'),
      format: 'png',
      resolution: '300x200',
    });
    const plain = await sharp(opaque.bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    assert.equal(
      plain.data[(150 * plain.info.width + 200) * 4 + 3],
      255,
      'without it the background is white',
    );
  });

  it("format=pdf answers a PDF of the requested paper with the page's text", async () => {
    const cases: { params: Record<string, string>; size: number[] }[] = [
      { params: { pdf_paper: 'letter' }, size: [612, 792] },
      { params: { pdf_paper: 'a4', pdf_landscape: 'true' }, size: [841.89, 595.28] },
      { params: {}, size: [595.28, 841.89] },
    ];
    for (const { params, size } of cases) {
      const shot = await shoot(service, { url: target('/document'), format: 'pdf', ...params });
      assert.equal(shot.response.status, 200, shot.bytes.toString('utf8').slice(0, 300));
      assert.equal(shot.response.headers.get('content-type'), 'application/pdf');
      assert.equal(shot.response.headers.get('x-scrapfly-api-cost'), '60', 'a PDF costs what an image costs');
      assert.equal(shot.bytes.subarray(0, 5).toString('latin1'), '%PDF-');
      const pdf = await getDocument({ data: new Uint8Array(shot.bytes), useSystemFonts: false }).promise;
      const page = await pdf.getPage(1);
      const [, , width = 0, height = 0] = page.view;
      assert.ok(
        Math.abs(width - (size[0] ?? 0)) < 1.5 && Math.abs(height - (size[1] ?? 0)) < 1.5,
        `${JSON.stringify(params)}: page is ${width}x${height} pt, expected ${size.join('x')}`,
      );
      const text = (await page.getTextContent()).items
        .map((item) => ('str' in item ? item.str : ''))
        .join(' ');
      assert.match(text, /Snapwire PDF fixture/);
      assert.match(text, /Quarterly figures, page one\./);
      await pdf.destroy();
    }
  });

  it('user_agent, timezone and geolocation are what the page sees', async () => {
    const shot = await shoot(service, {
      // 127.0.0.1 is a secure context, which the Geolocation API needs.
      url: `http://127.0.0.1:${site.port}/emulated`,
      user_agent: 'SnapwireTest/1.0',
      timezone: 'Asia/Tokyo',
      geolocation: '35.6762,139.6503,10',
      rendering_wait: '300',
      format: 'png',
      resolution: '400x200',
    });
    const image = expectImage(shot);
    assertColor(image, 50, 50, GREENISH, 'navigator.userAgent is the given one');
    assertColor(image, 150, 50, GREENISH, 'the time zone is Asia/Tokyo');
    assertColor(image, 250, 50, GREENISH, 'the position is the given one');
    const [page] = received(site, '/emulated').slice(-1);
    assert.equal(page?.headers['user-agent'], 'SnapwireTest/1.0', 'and the server got it');
  });

  it('refuses bad values by name with catalogue errors that say what to fix', async () => {
    const url = target('/line');
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ 'headers[host]': 'evil.test' }, /"host" cannot be set.*egress guard/],
      [{ 'headers[proxy-authorization]': 'x' }, /proxy-\* headers/],
      [{ 'headers[connection]': 'close' }, /hop-by-hop/],
      [{ 'headers[cookie]': 'a=b' }, /use the cookies parameter/],
      [{ 'headers[bad name]': 'x' }, /not valid/],
      [{ cookies: 'a=b; Domain=other.test' }, /another site than the target site\.test/],
      [{ cookies: 'novalue' }, /must start with name=value/],
      [{ cookies: 'a=b; Colour=blue' }, /unknown attribute "Colour"/],
      [{ device_scale_factor: '4' }, /from 1 to 3/],
      [
        { device_scale_factor: '3', resolution: '7680x4320' },
        /lower the resolution or the device_scale_factor/,
      ],
      [{ viewport_device: 'Nokia 3310' }, /GET \/devices/],
      [{ pdf_paper: 'a4' }, /only apply with format=pdf/],
      [{ format: 'pdf', pdf_paper: 'napkin' }, /use one of: a3, a4/],
      [{ format: 'pdf', capture: 'fullpage' }, /does not apply with format=pdf/],
      [{ omit_background: 'true' }, /format=png or format=webp/],
      [{ timezone: 'Mars/Olympus' }, /not an IANA time zone/],
      [{ geolocation: '91,0' }, /latitude -90\.\.90/],
      [{ unknown_thing: '1' }, /Unknown parameter "unknown_thing"/],
    ];
    for (const [params, reason] of cases) {
      const shot = await shoot(service, { url, ...params });
      assert.equal(shot.response.status, 400, JSON.stringify(params));
      assert.equal(shot.json?.code, 'ERR::SCRAPE::CONFIG_ERROR');
      assert.match(String(shot.json?.reason), reason, JSON.stringify(params));
    }
    const secret = await shoot(service, { url, 'headers[x-ok]': 'line\nbreak-secret' });
    assert.equal(secret.response.status, 400);
    assert.ok(!secret.bytes.toString('utf8').includes('break-secret'), 'a refused value is never echoed');
    const invalid = await shoot(service, { url, hide_selectors: 'div[' });
    assert.equal(invalid.json?.code, 'ERR::SCRAPE::DOM_SELECTOR_INVALID');
  });

  it("the SDK's typed parameters reach the capture (headers, cookies, scale, hidden selectors)", async () => {
    const client = new SnapwireClient({ host: service.baseUrl, key: LIVE_KEY });
    site.received.length = 0;
    const shot = await client.screenshot({
      url: target('/widgets'),
      format: 'png',
      resolution: '400x300',
      rendering_wait: 600,
      headers: { Authorization: SECRET },
      cookies: [`session=${COOKIE_SECRET}; Path=/`, 'locale=fr'],
      device_scale_factor: 1.5,
      hide_selectors: ['#chat', '.late'],
    });
    const image = await sharp(Buffer.from(shot.image)).metadata();
    assert.deepEqual([image.width, image.height], [600, 450]);
    const seen = await colours(Buffer.from(shot.image));
    assert.ok(!seen.has([0, 0, 255]) && !seen.has([255, 0, 0]), 'hidden through the SDK too');
    const [page] = received(site, '/widgets');
    assert.equal(page?.headers.authorization, SECRET);
    assert.equal(page?.headers.cookie, `session=${COOKIE_SECRET}; locale=fr`, 'both repeated cookies');
  });

  it('the OpenAPI document describes every extension of /screenshot', async () => {
    const openapi = (await (await fetch(`${service.baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, { get: { description: string; parameters: Array<{ name: string }> } }>;
    };
    const screenshot = openapi.paths['/screenshot']?.get;
    const names = screenshot?.parameters.map((parameter) => parameter.name) ?? [];
    for (const name of [
      'cookies',
      'device_scale_factor',
      'viewport_device',
      'user_agent',
      'hide_selectors',
      'click',
      'omit_background',
      'pdf_paper',
      'pdf_landscape',
      'pdf_print_background',
      'timezone',
      'geolocation',
    ]) {
      assert.ok(names.includes(name), `${name} is documented`);
    }
    assert.match(String(screenshot?.description), /headers\[NAME\]/);
    assert.match(String(screenshot?.description), /application\/pdf/);
    assert.ok(openapi.paths['/devices'], 'GET /devices is documented');
  });

  it('GET /devices lists the presets viewport_device accepts', async () => {
    const response = await fetch(`${service.baseUrl}/devices`);
    assert.equal(response.status, 200);
    const { devices } = (await response.json()) as {
      devices: Array<{
        name: string;
        viewport: { width: number };
        mobile: boolean;
        device_scale_factor: number;
      }>;
    };
    const names = devices.map((device) => device.name);
    for (const name of ['iPhone 15', 'Pixel 7', 'iPad Pro 11']) assert.ok(names.includes(name), name);
    const iphone = devices.find((device) => device.name === 'iPhone 15');
    assert.deepEqual([iphone?.viewport.width, iphone?.mobile, iphone?.device_scale_factor], [393, true, 3]);
  });

  it('the cache key tells logins and densities apart', () => {
    const parse = (query: Record<string, string>) =>
      parseScreenshotRequest({ url: 'https://example.com/', ...query }, { maxTimeoutMs: 120_000 });
    const base = cacheKeyOf(parse({}));
    const a = cacheKeyOf(parse({ 'headers[authorization]': 'a' }));
    assert.notEqual(a, base);
    assert.notEqual(a, cacheKeyOf(parse({ 'headers[authorization]': 'b' })));
    assert.equal(a, cacheKeyOf(parse({ 'headers[Authorization]': 'a' })), 'header names ignore case');
    assert.notEqual(cacheKeyOf(parse({ cookies: 's=1' })), cacheKeyOf(parse({ cookies: 's=2' })));
    const extras: Record<string, string>[] = [
      { device_scale_factor: '2' },
      { viewport_device: 'Pixel 7' },
      { user_agent: 'x' },
      { hide_selectors: '#a' },
      { click: '#a' },
      { format: 'png', omit_background: 'true' },
      { format: 'pdf', pdf_paper: 'letter' },
      { timezone: 'Europe/Paris' },
      { geolocation: '1,2' },
    ];
    for (const extra of extras) {
      const without = cacheKeyOf(parse({ format: extra.format ?? 'jpg' }));
      assert.notEqual(cacheKeyOf(parse(extra)), without, JSON.stringify(extra));
    }
  });

  it('masks header and cookie values in the monitoring log and the dashboard curl, also on the webhook path', async () => {
    const { services } = service.snapwire;
    const project = await services.projects.findByName('default');
    assert.ok(project);
    const params = {
      url: target('/line'),
      'headers[authorization]': SECRET,
      cookies: `session=${COOKIE_SECRET}; Path=/`,
      device_scale_factor: '1.5',
      format: 'png',
      resolution: '200x150',
    };
    const sync = await shoot(service, params);
    expectImage(sync);
    const syncLog = await services.logs.find(
      project.id,
      String(sync.response.headers.get('x-scrapfly-log-uuid')),
    );

    // The asynchronous path: the worker's capture still sends them to the target; its log masks them.
    const created = await fetch(`${service.baseUrl}/webhooks?key=${LIVE_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ext', url: receiver.url }),
    });
    assert.equal(created.status, 201);
    await receiver.waitFor(1);
    site.received.length = 0;
    const accepted = await fetch(
      `${service.baseUrl}/screenshot?${new URLSearchParams({ key: LIVE_KEY, ...params, webhook_name: 'ext' })}`,
    );
    assert.equal(accepted.status, 201);
    const { log_uuid: asyncLogUuid } = (await accepted.json()) as { log_uuid: string };
    const [, delivery] = await receiver.waitFor(2);
    const image = await sharp(delivery?.body).metadata();
    assert.deepEqual(
      [image.width, image.height],
      [300, 225],
      'the delivered image has the extensions applied',
    );
    const [page] = received(site, '/line');
    assert.equal(page?.headers.authorization, SECRET, 'the queued capture sent the header');
    assert.equal(page?.headers.cookie, `session=${COOKIE_SECRET}`, 'and the cookie');
    const asyncLog = await services.logs.find(project.id, asyncLogUuid);

    for (const log of [syncLog, asyncLog]) {
      assert.ok(log);
      const row = JSON.stringify(log);
      assert.ok(!row.includes('s3cret') && !row.includes(COOKIE_SECRET), 'no secret in the log row');
      const stored = JSON.parse(log.params) as {
        headers: Record<string, string>;
        cookies: Array<{ value: string }>;
      };
      assert.deepEqual(stored.headers, { authorization: '***' });
      assert.equal(stored.cookies[0]?.value, '***');
      const curl = curlOf('http://snapwire.example', log.url, log.params);
      assert.ok(!curl.includes('s3cret') && !curl.includes(COOKIE_SECRET), 'no secret in the curl');
      assert.match(curl, /headers%5Bauthorization%5D=\*\*\*|headers\[authorization\]=\*\*\*/);
      assert.match(curl, /device_scale_factor=1\.5/);
      assert.match(curl, /cookies=session%3D\*\*\*/);
    }
  });
});
