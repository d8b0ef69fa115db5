import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errors, ScrapeConfig, ScrapflyClient, type ScrapeResult } from 'scrapfly-sdk';
import { startFixtureServer, type FixtureServer, type Handler } from '../helpers/fixture-server.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';

const { ApiHttpClientError, ScrapflyScrapeError } = errors;

const html = (body: string, title = 'Shop') =>
  `<!doctype html><html><head><title>${title}</title></head><body>${body}</body></html>`;

const routes: Record<string, Handler> = {
  // A form sent with GET to /shop-done, a select, and a button that adds items after a short delay.
  '/shop': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
      html(`
        <form action="/shop-done" method="get">
          <input id="name" name="name" value="placeholder">
          <select id="size" name="size"><option value="S">Small</option><option value="M">Medium</option><option value="L">Large</option></select>
          <button id="send" type="submit">Send</button>
        </form>
        <button id="more" type="button">More</button>
        <ul id="items"><li class="item">one</li></ul>
        <p id="typed"></p>
        <script>
          document.getElementById('more').addEventListener('click', (event) => {
            if (!event.isTrusted) return;
            setTimeout(() => {
              const li = document.createElement('li');
              li.className = 'item added';
              li.textContent = 'two';
              document.getElementById('items').appendChild(li);
            }, 300);
          });
          document.getElementById('name').addEventListener('input', (event) => {
            document.getElementById('typed').textContent = 'typed:' + event.target.value;
          });
        </script>`),
    );
  },
  '/shop-done': (req, res) => {
    const query = new URL(req.url ?? '/', 'http://fixture').searchParams;
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(html(`<h1 id="done">Thanks ${query.get('name')}, size ${query.get('size')}</h1>`, 'Done'));
  },
  // Grows by ten rows each time it is scrolled to the end, up to 50.
  '/feed': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
      html(`<div id="rows"></div><script>
        const rows = document.getElementById('rows');
        const add = () => { for (let i = 0; i < 10; i += 1) { const d = document.createElement('div'); d.className = 'row'; d.style.height = '200px'; d.textContent = 'row ' + rows.children.length; rows.appendChild(d); } };
        add();
        window.addEventListener('scroll', () => {
          if (rows.children.length < 50 && window.innerHeight + window.scrollY >= document.body.scrollHeight - 10) setTimeout(add, 100);
        });
      </script>`),
    );
  },
};

/** js_scenario through Scrapfly's TypeScript SDK, unmodified (docs/compat.md §7, "js_scenario"). */
describe("Scrapfly's TypeScript SDK client.scrape() with js_scenario", () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let client: ScrapflyClient;
  const scrape = async (options: ConstructorParameters<typeof ScrapeConfig>[0]) =>
    (await client.scrape(new ScrapeConfig(options))) as ScrapeResult;

  before(async () => {
    fixtures = await startFixtureServer({ routes });
    service = await startService();
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  it('fills, selects, clicks, waits and sends a form; every step is reported as the SDK reads it', async () => {
    const steps = [
      { fill: { selector: '#name', value: 'Ada', clear: true } },
      { select: { selector: '#size', value: 'Large' } },
      { click: { selector: '#more' } },
      { wait_for_selector: { selector: '.item.added', timeout: 3000 } },
      { execute: { script: "return document.querySelectorAll('.item').length" } },
      { execute: { script: "return document.getElementById('typed').textContent" } },
      { click: { selector: '#send' } },
      { wait_for_navigation: { timeout: 5000 } },
      { wait: 50 },
    ];
    const result = await scrape({ url: `${fixtures.origin}/shop`, render_js: true, js_scenario: steps });

    assert.match(result.result.content, /<h1 id="done">Thanks Ada, size L<\/h1>/);
    assert.match(result.result.url, /\/shop-done\?name=Ada&size=L$/);
    assert.equal(result.result.status_code, 200);
    const scenario = result.result.browser_data.js_scenario;
    assert.ok(scenario, 'browser_data.js_scenario is there');
    assert.equal(scenario.executed, steps.length);
    assert.equal(typeof scenario.duration, 'number');
    assert.deepEqual(
      scenario.steps.map((step) => [step.action, step.executed, step.success]),
      steps.map((step) => [Object.keys(step)[0], true, true]),
    );
    assert.deepEqual(scenario.steps[0]?.config, { selector: '#name', value: 'Ada', clear: true });
    assert.deepEqual(scenario.steps[1]?.result, ['L']);
    // The added item was there only because the click was a trusted one and the wait ran.
    assert.equal(scenario.steps[4]?.result, 2);
    // Typed as a user types: the page's input listener saw the text.
    assert.equal(scenario.steps[5]?.result, 'typed:Ada');
    assert.ok(scenario.steps.every((step) => typeof step.duration === 'number'));
    assert.deepEqual(result.config.js_scenario, [
      ...steps.slice(0, 8),
      { wait: { milliseconds: 50 } },
    ] as unknown[]);
    assert.equal(result.context.cost.total, 6);
  });

  it('a click that leaves the page, then wait_for_selector on the next one (no wait_for_navigation)', async () => {
    const result = await scrape({
      url: `${fixtures.origin}/shop`,
      render_js: true,
      js_scenario: [{ click: { selector: '#send' } }, { wait_for_selector: { selector: '#done' } }],
    });
    assert.match(result.result.content, /<h1 id="done">Thanks placeholder, size S<\/h1>/);
    assert.deepEqual(
      result.result.browser_data.js_scenario?.steps.map((step) => step.success),
      [true, true],
    );
  });

  it('scroll to the bottom with infinite loads more of a growing page', async () => {
    const result = await scrape({
      url: `${fixtures.origin}/feed`,
      render_js: true,
      js_scenario: [
        { scroll: { selector: 'bottom', infinite: 2 } },
        { execute: { script: "return document.querySelectorAll('.row').length" } },
      ],
    });
    const rows = result.result.browser_data.js_scenario?.steps[1]?.result as unknown as number;
    assert.ok(rows >= 30, `the page grew twice after the first scroll (${rows} rows)`);
  });

  it('a condition met with exit_success ends the scenario; the steps after it are not executed', async () => {
    const result = await scrape({
      url: `${fixtures.origin}/shop`,
      render_js: true,
      js_scenario: [
        { condition: { selector: '#absent', selector_state: 'existing', action: 'exit_failed' } },
        { condition: { selector: '#more', selector_state: 'existing', action: 'exit_success' } },
        { click: { selector: '#never-there' } },
      ],
    });
    const scenario = result.result.browser_data.js_scenario;
    assert.equal(scenario?.executed, 2);
    assert.deepEqual(
      scenario?.steps.map((step) => [step.executed, step.success, step.result]),
      [
        [true, true, false],
        [true, true, true],
        [false, false, null],
      ],
    );
  });

  it('a failing step is ERR::SCRAPE::SCENARIO_EXECUTION naming the step', async () => {
    const failing = async (js_scenario: unknown[], pattern: RegExp) => {
      let answer: ScrapeResult | undefined;
      await assert.rejects(
        scrape({ url: `${fixtures.origin}/shop`, render_js: true, js_scenario, timeout: 15_000 }),
        (error: unknown) => {
          assert.ok(error instanceof ScrapflyScrapeError, `got ${(error as Error).constructor.name}`);
          const { args } = error as InstanceType<typeof ScrapflyScrapeError>;
          assert.equal(args.code, 'ERR::SCRAPE::SCENARIO_EXECUTION');
          assert.match((error as Error).message, pattern);
          answer = args.api_response as ScrapeResult;
          return true;
        },
      );
      return answer;
    };
    const answer = await failing(
      [{ wait: 10 }, { click: { selector: '#missing' } }, { wait: 10 }],
      /^js_scenario\[1\] \(click #missing\) failed: No element matched/,
    );
    // The failure's envelope lists the steps as far as they went (the TypeScript SDK keeps it in args).
    const scenario = answer?.result.browser_data.js_scenario;
    assert.equal(scenario?.executed, 2);
    assert.deepEqual(
      scenario?.steps.map((step) => [step.action, step.executed, step.success]),
      [
        ['wait', true, true],
        ['click', true, false],
        ['wait', false, false],
      ],
    );
    assert.match(String(scenario?.steps[1]?.result), /No element matched/);
    await failing(
      [{ wait_for_selector: { selector: '.never', timeout: 500 } }],
      /^js_scenario\[0\] \(wait_for_selector \.never\) failed: \.never was not visible within 500 ms/,
    );
    await failing(
      [{ execute: { script: "throw new Error('page says no')" } }],
      /^js_scenario\[0\] \(execute\) failed: Error: page says no/,
    );
    await failing([{ wait_for_navigation: { timeout: 300 } }], /no navigation happened within 300 ms/);
    await failing(
      [{ select: { selector: '#size', value: 'XL' } }],
      /js_scenario\[0\] \(select #size\) failed: #size: no option "XL"/,
    );
    await failing(
      [{ condition: { selector: '#more', action: 'exit_failed' } }],
      /the condition was met \(#more exists\) and its action is exit_failed/,
    );
  });

  it("a step that outlasts the scrape's timeout is OPERATION_TIMEOUT naming the step", async () => {
    // Asked directly: the TypeScript SDK retries a 504 itself and then throws a generic error.
    const started = Date.now();
    const scenario = Buffer.from(JSON.stringify([{ wait: 20_000 }])).toString('base64url');
    const response = await fetch(
      `${service.baseUrl}/scrape?key=${LIVE_KEY}&render_js=true&timeout=3000&js_scenario=${scenario}&url=${encodeURIComponent(`${fixtures.origin}/shop`)}`,
    );
    assert.equal(response.status, 504);
    const body = (await response.json()) as {
      result: { success: boolean; error: { code: string; message: string } };
    };
    assert.equal(body.result.success, false);
    assert.equal(body.result.error.code, 'ERR::SCRAPE::OPERATION_TIMEOUT');
    assert.match(body.result.error.message, /timeout ran out during js_scenario\[0\] \(wait\)/);
    assert.ok(Date.now() - started < 10_000, 'answered at the deadline, not after the wait');
  });

  it('a bad scenario is refused before any work, naming the step', async () => {
    await assert.rejects(
      scrape({ url: `${fixtures.origin}/shop`, render_js: true, js_scenario: [{ wait: 1 }, { tap: {} }] }),
      (error: unknown) => {
        assert.ok(error instanceof ApiHttpClientError, `got ${(error as Error).constructor.name}`);
        assert.match((error as Error).message, /js_scenario\[1\]: \\"tap\\" is not a known step/);
        return true;
      },
    );
  });
});
