import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decode, MAGIC, near } from '../helpers/images.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { LIVE_KEY, screenshot, startService, TEST_KEY, type TestService } from '../helpers/service.js';

const BLUE: [number, number, number] = [0, 128, 255];
const GREEN: [number, number, number] = [0, 192, 0];
const MAGENTA: [number, number, number] = [255, 0, 255];

describe('GET /screenshot (happy paths, real Chromium)', () => {
  let service: TestService;
  let fixtures: FixtureServer;

  before(async () => {
    fixtures = await startFixtureServer();
    service = await startService();
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  for (const format of ['jpg', 'png', 'webp', 'gif'] as const) {
    it(`answers a ${format} image of the asked resolution with the page's colours`, async () => {
      const response = await screenshot(service.baseUrl, {
        url: `${fixtures.origin}/solid`,
        format,
        resolution: '800x600',
        rendering_wait: '0',
      });
      assert.equal(response.status, 200, await response.clone().text());
      const expectedType = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif' }[
        format
      ];
      assert.equal(response.headers.get('content-type'), expectedType);
      const bytes = Buffer.from(await response.arrayBuffer());
      assert.ok(MAGIC[format](bytes), `${format} magic bytes`);
      const image = await decode(bytes);
      assert.equal(image.width, 800);
      assert.equal(image.height, 600);
      assert.ok(near(image.pixel(20, 20), BLUE, 40), `background ${image.pixel(20, 20)}`);
      assert.ok(near(image.pixel(250, 175), GREEN, 40), `box ${image.pixel(250, 175)}`);
    });
  }

  it('defaults to a 1920x1080 jpg and sends the Scrapfly headers', async () => {
    const response = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      rendering_wait: '0',
    });
    assert.equal(response.status, 200);
    const image = await decode(Buffer.from(await response.arrayBuffer()));
    assert.deepEqual([image.width, image.height], [1920, 1080]);
    const h = response.headers;
    assert.equal(h.get('content-type'), 'image/jpeg');
    assert.equal(h.get('x-scrapfly-upstream-http-code'), '200');
    assert.equal(h.get('x-scrapfly-upstream-url'), `${fixtures.origin}/solid`);
    assert.equal(h.get('x-scrapfly-api-cost'), '60');
    assert.match(h.get('x-scrapfly-remaining-api-credit') ?? '', /^\d+$/);
    assert.match(h.get('x-scrapfly-response-time') ?? '', /^\d+\.\d{3}$/);
    assert.match(h.get('x-scrapfly-log-uuid') ?? '', /^[0-9A-HJKMNP-TV-Z]{26}$/);
    const { projects, logs } = service.snapwire.services;
    const project = await projects.findByName('default');
    const log = await logs.find(project!.id, h.get('x-scrapfly-log-uuid')!);
    assert.equal(log?.http_status, 200);
    for (const phase of ['navigation_ms', 'wait_ms', 'capture_ms', 'encode_ms'] as const) {
      assert.equal(typeof log?.[phase], 'number', `the log records ${phase}`);
    }
    assert.ok(h.get('x-request-id'));
    for (const name of [
      'x-scrapfly-account-concurrent-usage',
      'x-scrapfly-account-remaining-concurrent-usage',
      'x-scrapfly-project-concurrent-usage',
      'x-scrapfly-project-remaining-concurrent-usage',
    ]) {
      assert.match(h.get(name) ?? '', /^\d+$/, name);
    }
  });

  it('captures a page that answers 404 and reports the upstream status', async () => {
    const response = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/status-404`,
      format: 'png',
      rendering_wait: '0',
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-scrapfly-upstream-http-code'), '404');
    const image = await decode(Buffer.from(await response.arrayBuffer()));
    assert.ok(near(image.pixel(5, 300), [255, 0, 0]), 'the red 404 page is what was captured');
  });

  it('follows redirects and reports the final URL', async () => {
    const response = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/redirect-to-solid`,
      rendering_wait: '0',
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-scrapfly-upstream-url'), `${fixtures.origin}/solid`);
  });

  it('reaches a name through the resolver it was given', async () => {
    const response = await screenshot(service.baseUrl, {
      url: `http://fixtures.test:${fixtures.port}/solid`,
      rendering_wait: '0',
    });
    assert.equal(response.status, 200, await response.clone().text());
  });

  it('captures the whole page with capture=fullpage', async () => {
    const response = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/tall`,
      capture: 'fullpage',
      format: 'png',
      resolution: '800x600',
      rendering_wait: '0',
    });
    assert.equal(response.status, 200);
    const image = await decode(Buffer.from(await response.arrayBuffer()));
    assert.equal(image.width, 800);
    assert.equal(image.height, 5000);
    assert.ok(near(image.pixel(400, 100), [255, 0, 0]));
    assert.ok(near(image.pixel(400, 4900), [0, 0, 255]));
  });

  it('captures only the element matched by a CSS selector', async () => {
    const response = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      capture: '#box',
      format: 'png',
      rendering_wait: '0',
    });
    assert.equal(response.status, 200);
    const image = await decode(Buffer.from(await response.arrayBuffer()));
    assert.deepEqual([image.width, image.height], [300, 150]);
    assert.ok(near(image.pixel(150, 75), GREEN));
  });

  it('captures only the element matched by an XPath', async () => {
    const response = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      capture: '//section/div[@data-name="only-by-xpath"]',
      format: 'png',
      rendering_wait: '0',
    });
    assert.equal(response.status, 200, await response.clone().text());
    const image = await decode(Buffer.from(await response.arrayBuffer()));
    assert.deepEqual([image.width, image.height], [120, 80]);
    assert.ok(near(image.pixel(60, 40), MAGENTA));
  });

  it('waits rendering_wait before capturing', async () => {
    const early = await decode(
      Buffer.from(
        await (
          await screenshot(service.baseUrl, {
            url: `${fixtures.origin}/late`,
            format: 'png',
            rendering_wait: '0',
          })
        ).arrayBuffer(),
      ),
    );
    assert.ok(near(early.pixel(10, 10), [255, 255, 255]), 'without a wait the late element is not there yet');
    const late = await decode(
      Buffer.from(
        await (
          await screenshot(service.baseUrl, {
            url: `${fixtures.origin}/late`,
            format: 'png',
            rendering_wait: '1500',
          })
        ).arrayBuffer(),
      ),
    );
    assert.ok(near(late.pixel(10, 10), [255, 0, 0]), 'after 1.5 s the late element covers the page');
  });

  it('waits for wait_for_selector before capturing', async () => {
    const started = Date.now();
    const response = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/late`,
      format: 'png',
      rendering_wait: '0',
      wait_for_selector: '#late',
    });
    assert.equal(response.status, 200);
    const image = await decode(Buffer.from(await response.arrayBuffer()));
    assert.ok(near(image.pixel(10, 10), [255, 0, 0]));
    assert.ok(Date.now() - started >= 500, 'it did wait for the element');
  });

  it('runs the js parameter (base64url, with or without padding) before capturing', async () => {
    const script =
      "document.documentElement.style.background = 'rgb(255, 255, 0)'; document.getElementById('box').remove();";
    for (const js of [
      Buffer.from(script).toString('base64url'),
      Buffer.from(script).toString('base64').replace(/\+/g, '-').replace(/\//g, '_'),
    ]) {
      const response = await screenshot(service.baseUrl, {
        url: `${fixtures.origin}/solid`,
        format: 'png',
        rendering_wait: '0',
        js,
      });
      assert.equal(response.status, 200, await response.clone().text());
      const image = await decode(Buffer.from(await response.arrayBuffer()));
      assert.ok(near(image.pixel(250, 175), [255, 255, 0]), `script ran: ${image.pixel(250, 175)}`);
    }
  });

  it('renders dark mode, print media and a vision deficiency when asked', async () => {
    const shot = async (params: Record<string, string>) =>
      decode(
        Buffer.from(
          await (
            await screenshot(service.baseUrl, {
              url: `${fixtures.origin}/schemes`,
              format: 'png',
              rendering_wait: '0',
              resolution: '400x400',
              ...params,
            })
          ).arrayBuffer(),
        ),
      );
    const plain = (await shot({})).pixel(300, 300);
    assert.ok(near(plain, [255, 255, 255]), `light: ${plain}`);
    const dark = (await shot({ options: 'dark_mode' })).pixel(300, 300);
    assert.ok(near(dark, [0, 0, 0]), `dark_mode: ${dark}`);
    const print = (await shot({ options: 'print_media_format' })).pixel(300, 300);
    assert.ok(near(print, [255, 255, 0]), `print_media_format: ${print}`);
    const [r, g, b] = (await shot({ vision_deficiency: 'achromatopsia' })).pixel(100, 100);
    assert.ok(
      Math.abs(r - g) < 10 && Math.abs(g - b) < 10,
      `red turns grey under achromatopsia: ${[r, g, b]}`,
    );
  });

  it('answers HEAD with the same headers and no body', async () => {
    const response = await screenshot(
      service.baseUrl,
      { url: `${fixtures.origin}/solid`, rendering_wait: '0' },
      'HEAD',
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'image/jpeg');
    assert.equal(response.headers.get('x-scrapfly-upstream-http-code'), '200');
    assert.equal((await response.arrayBuffer()).byteLength, 0);
  });

  it('keeps the image at X-Scrapfly-Screenshot-Url for a key of the same project only', async () => {
    const response = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      format: 'png',
      rendering_wait: '0',
    });
    const original = Buffer.from(await response.arrayBuffer());
    const stored = response.headers.get('x-scrapfly-screenshot-url');
    assert.ok(stored, 'the X-Scrapfly-Screenshot-Url header');
    assert.ok(stored.startsWith(service.snapwire.services.settings.publicUrl));
    const path = new URL(stored).pathname;
    const again = await fetch(`${service.baseUrl}${path}?key=${LIVE_KEY}`);
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('content-type'), 'image/png');
    assert.ok(Buffer.from(await again.arrayBuffer()).equals(original));

    const { keys } = await service.snapwire.services.projects.create('other', 'PRO');
    const foreign = await fetch(`${service.baseUrl}${path}?key=${keys.LIVE}`);
    assert.equal(foreign.status, 404);
    assert.equal((await foreign.json()).code, 'ERR::API::NOT_FOUND');
  });

  it('accepts the TEST key and reports account data at /account', async () => {
    const response = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      rendering_wait: '0',
      key: TEST_KEY,
    });
    assert.equal(response.status, 200);
    const account = await (await fetch(`${service.baseUrl}/account?key=${TEST_KEY}`)).json();
    assert.equal(account.project.name, 'default');
    assert.equal(account.subscription.plan_name, 'UNLIMITED');
    assert.ok(account.subscription.usage.scrape.current >= 60);
  });

  it('is healthy and documents itself', async () => {
    const health = await fetch(`${service.baseUrl}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), {
      status: 'ok',
      store: 'migrated',
      browser: 'ready',
      node: service.snapwire.services.settings.nodeId,
      role: 'all',
    });
    const openapi = await (await fetch(`${service.baseUrl}/openapi.json`)).json();
    assert.ok(
      openapi.paths['/screenshot'].get.parameters.some(
        (p: { name: string }) => p.name === 'wait_for_selector',
      ),
    );
    const docs = await fetch(`${service.baseUrl}/docs/`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger/i);
  });
});
