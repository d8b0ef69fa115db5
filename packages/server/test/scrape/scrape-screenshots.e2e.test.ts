import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { errors, ScrapeConfig, ScrapflyClient, type ScrapeResult } from 'scrapfly-sdk';
import { startFixtureServer, type FixtureServer, type Handler } from '../helpers/fixture-server.js';
import { LIVE_KEY, TEST_KEY, startService, type TestService } from '../helpers/service.js';

const { ScrapflyScrapeError } = errors;

const routes: Record<string, Handler> = {
  // A tall page with a 300x200 card that turns red when its button is clicked.
  '/card': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html>
      <html><head><title>Card</title><style>
        body { margin: 0; background: #fff; }
        #card { width: 300px; height: 200px; background: rgb(0, 0, 255); margin: 40px; }
        #filler { height: 3000px; }
      </style></head><body>
        <button id="paint">Paint</button>
        <div id="card"></div><div id="filler"></div>
        <script>document.getElementById('paint').onclick = () => { document.getElementById('card').style.background = 'rgb(255, 0, 0)'; };</script>
      </body></html>`);
  },
};

/** screenshots[NAME] through Scrapfly's TypeScript SDK, unmodified (docs/compat.md §7, "screenshots"). */
describe("Scrapfly's TypeScript SDK client.scrape() with screenshots", () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let client: ScrapflyClient;
  const scrape = async (options: ConstructorParameters<typeof ScrapeConfig>[0]) =>
    (await client.scrape(new ScrapeConfig(options))) as ScrapeResult;
  /** The answer's URL is on the public URL (an unset one in tests); the path is what is served. */
  const served = (url: string | undefined) => {
    assert.ok(url?.startsWith(service.snapwire.services.settings.publicUrl), url);
    return `${service.baseUrl}${new URL(url ?? '').pathname}`;
  };

  before(async () => {
    fixtures = await startFixtureServer({ routes });
    service = await startService();
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  it('takes each named image after the scenario, answers it in result.screenshots, fetchable with the key', async () => {
    const result = await scrape({
      url: `${fixtures.origin}/card`,
      render_js: true,
      js_scenario: [{ click: { selector: '#paint' } }],
      screenshots: { top: 'viewport', all: 'fullpage', card: '#card' },
    });
    const { screenshots } = result.result;
    assert.deepEqual(Object.keys(screenshots).sort(), ['all', 'card', 'top']);
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(screenshots).map(([name, shot]) => [name, [shot.extension, shot.format]]),
      ),
      { top: ['jpg', 'viewport'], all: ['jpg', 'fullpage'], card: ['jpg', 'element'] },
    );
    assert.equal(screenshots.card?.css_selector, '#card');
    assert.deepEqual(result.config.screenshots, { top: 'viewport', all: 'fullpage', card: '#card' });
    // Scrapfly's table has no line for screenshots: a rendered scrape costs 1 + 5 with or without them.
    assert.equal(result.context.cost.total, 6);

    const images: Record<string, { width?: number; height?: number; bytes: Buffer }> = {};
    for (const [name, shot] of Object.entries(screenshots)) {
      assert.match(shot.url, new RegExp(`/scrape/screenshot/[0-9A-Z]{26}/${name}$`));
      const response = await fetch(`${served(shot.url)}?key=${LIVE_KEY}`);
      assert.equal(response.status, 200, name);
      assert.equal(response.headers.get('content-type'), 'image/jpeg');
      const bytes = Buffer.from(await response.arrayBuffer());
      assert.equal(bytes.length, shot.size, `${name}: size is the image's`);
      const meta = await sharp(bytes).metadata();
      images[name] = { width: meta.width, height: meta.height, bytes };
    }
    assert.deepEqual([images.top?.width, images.top?.height], [1920, 1080]);
    assert.ok(
      (images.all?.height ?? 0) > 3000,
      `the full page is taller than the viewport (${images.all?.height})`,
    );
    assert.deepEqual([images.card?.width, images.card?.height], [300, 200]);
    // Taken after the click: the card is red, not the blue it was served with.
    const { data } = await sharp(images.card?.bytes).raw().toBuffer({ resolveWithObject: true });
    const [red = 0, green = 0, blue = 0] = data.subarray(0, 3);
    assert.ok(red > 200 && green < 60 && blue < 60, `the card is red (${red},${green},${blue})`);
  });

  it('screenshot_flags=high_quality stores PNG; another project or environment cannot fetch it', async () => {
    const result = await scrape({
      url: `${fixtures.origin}/card`,
      render_js: true,
      screenshots: { top: 'viewport' },
      screenshot_flags: ['high_quality'],
    });
    const shot = result.result.screenshots.top;
    assert.equal(shot?.extension, 'png');
    const url = served(shot?.url);
    const own = await fetch(`${url}?key=${LIVE_KEY}`);
    assert.equal(own.headers.get('content-type'), 'image/png');
    assert.equal((await sharp(Buffer.from(await own.arrayBuffer())).metadata()).format, 'png');
    const other = await fetch(`${url}?key=${TEST_KEY}`);
    assert.equal(other.status, 404);
    assert.equal(((await other.json()) as { code: string }).code, 'ERR::API::NOT_FOUND');
    assert.equal((await fetch(url)).status, 401);
    const unknown = await fetch(`${url.replace(/\/top$/, '/nope')}?key=${LIVE_KEY}`);
    assert.equal(unknown.status, 404);
  });

  it('a selector that matches nothing is a clear selector error', async () => {
    await assert.rejects(
      scrape({
        url: `${fixtures.origin}/card`,
        render_js: true,
        screenshots: { gone: '#missing' },
        timeout: 10_000,
      }),
      (error: unknown) => {
        assert.ok(error instanceof ScrapflyScrapeError, `got ${(error as Error).constructor.name}`);
        assert.match((error as Error).message, /#missing/);
        return true;
      },
    );
  });

  it('screenshots without render_js, a bad name or too many are refused by name', async () => {
    const ask = async (query: Record<string, string>) => {
      const response = await fetch(
        `${service.baseUrl}/scrape?${new URLSearchParams({ key: LIVE_KEY, url: `${fixtures.origin}/card`, ...query })}`,
      );
      return { status: response.status, body: (await response.json()) as { code: string; reason: string } };
    };
    const plain = await ask({ 'screenshots[top]': 'viewport' });
    assert.equal(plain.status, 400);
    assert.match(plain.body.reason, /screenshots\[top\] need render_js=true/);
    const badName = await ask({ render_js: 'true', 'screenshots[a/b]': 'viewport' });
    assert.match(badName.body.reason, /The screenshot name in "screenshots\[a\/b\]" must be/);
    const many = await ask({
      render_js: 'true',
      ...Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`screenshots[s${i}]`, 'viewport'])),
    });
    assert.match(many.body.reason, /At most 10 screenshots\[NAME\] a scrape; got 11/);
    const flag = await ask({ render_js: 'true', 'screenshots[a]': 'viewport', screenshot_flags: 'sepia' });
    assert.match(flag.body.reason, /The screenshot_flags value "sepia" is not known/);
  });
});
