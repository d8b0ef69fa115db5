import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { errors, ScrapeConfig, ScrapflyClient, type ScrapeResult } from 'scrapfly-sdk';
import { startFixtureServer, type FixtureServer, type Handler } from '../helpers/fixture-server.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';

const { ApiHttpClientError, ScrapflyScrapeError, UpstreamHttpClientError, UpstreamHttpServerError } = errors;
const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** What the echo route saw of the last request, by path. */
const seen = new Map<string, { method: string; headers: Record<string, unknown>; body: string }>();

const routes: Record<string, Handler> = {
  '/echo': (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.set('/echo', { method: req.method ?? '', headers: req.headers, body });
      res
        .writeHead(200, {
          'content-type': 'application/json',
          'set-cookie': ['visited=yes; Path=/; HttpOnly', 'theme=dark; Max-Age=60'],
        })
        .end(JSON.stringify({ method: req.method, body }));
    });
  },
  '/status-500': (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream broke');
  },
  // Headers and the start of a page, then nothing: the scrape must not answer the part as the page.
  '/stall': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.write('<html><body><p>start');
  },
  '/cut': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html', 'content-length': '1000' });
    res.write('<html><body><p>start', () => res.destroy());
  },
  '/big': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(8192));
  },
  // 8 KB of text sent as 40-odd bytes of gzip: the cap applies to what it expands to.
  '/big-gzip': (_req, res) => {
    res
      .writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' })
      .end(zlib.gzipSync('y'.repeat(8192)));
  },
  '/small-gzip': (_req, res) => {
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-encoding': 'gzip' })
      .end(zlib.gzipSync('<html><body><p>Packed page</p></body></html>'));
  },
};

/** A program written for Scrapfly's Web Scraping API works against Snapwire by changing only the host. */
describe("Scrapfly's TypeScript SDK client.scrape() against Snapwire (docs/compat.md, Web Scraping API)", () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let client: ScrapflyClient;
  const scrape = async (options: ConstructorParameters<typeof ScrapeConfig>[0]) =>
    (await client.scrape(new ScrapeConfig(options))) as ScrapeResult;

  before(async () => {
    fixtures = await startFixtureServer({ routes });
    // A small body cap, so that the cap is testable with small fixtures.
    service = await startService({ SNAPWIRE_SCRAPE_MAX_BODY_BYTES: '4096' });
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  it('GET without format answers the page as served, with the envelope the SDK reads', async () => {
    const url = `${fixtures.origin}/scrape-article`;
    const result = await scrape({ url });
    assert.equal(result.result.status, 'DONE');
    assert.equal(result.result.success, true);
    assert.equal(result.result.status_code, 200);
    assert.equal(result.result.format, 'text');
    assert.equal(result.result.url, url);
    assert.equal(result.result.content, fs.readFileSync(path.join(FIXTURES, 'scrape-article.html'), 'utf8'));
    assert.match(result.result.response_headers['content-type'] as string, /text\/html/);
    // The SDK's cheerio selector needs text/html in response_headers.
    assert.equal(result.selector('h1').text(), 'Lighthouse keepers');
    assert.equal(result.context.asp, false);
    assert.equal(result.context.cost.total, 1);
    assert.equal(result.config.url, url);
    assert.match(result.result.log_url, /\/dashboard\/monitoring\/log\/[0-9A-Z]{26}$/);
  });

  it('format=markdown converts the page, links and images made absolute, tables kept', async () => {
    const result = await scrape({ url: `${fixtures.origin}/scrape-article`, format: 'markdown' });
    const markdown = result.result.content;
    assert.match(markdown, /^\[Home\]\(http:\/\/127\.0\.0\.1:\d+\/home\)/);
    assert.match(markdown, /# Lighthouse keepers/);
    assert.match(markdown, /\[oil lamps\]\(http:\/\/127\.0\.0\.1:\d+\/lamps\?kind=oil\)/);
    assert.match(markdown, /!\[A lamp\]\(http:\/\/127\.0\.0\.1:\d+\/images\/lamp\.png\)/);
    assert.match(markdown, /\| Station \| Built \|\n\| --- \| --- \|\n\| North Point \| 1851 \|/);
    assert.doesNotMatch(markdown, /tracking|font-family/);
    assert.match(result.result.content_type, /^text\/markdown/);
  });

  it('format=markdown:no_links,no_images,only_content keeps the article text only', async () => {
    const result = await scrape({
      url: `${fixtures.origin}/scrape-article`,
      format: 'markdown',
      format_options: ['no_links', 'no_images', 'only_content'],
    });
    const markdown = result.result.content;
    assert.match(markdown, /Keepers tended the oil lamps every night/);
    assert.doesNotMatch(markdown, /\]\(|!\[/, 'no link or image syntax');
    assert.doesNotMatch(markdown, /About us|Footer links/, 'navigation and footer left out');
  });

  it('format=text answers readable text; no_links drops the URLs', async () => {
    const withLinks = await scrape({ url: `${fixtures.origin}/scrape-article`, format: 'text' });
    assert.match(withLinks.result.content, /oil lamps \[http:\/\/127\.0\.0\.1:\d+\/lamps\?kind=oil\]/);
    assert.doesNotMatch(withLinks.result.content, /<p>|window\.tracking/);
    const withoutLinks = await scrape({
      url: `${fixtures.origin}/scrape-article`,
      format: 'text',
      format_options: ['no_links'],
    });
    assert.match(withoutLinks.result.content, /Keepers tended the oil lamps every night/);
    assert.doesNotMatch(withoutLinks.result.content, /\/lamps\?kind=oil/);
  });

  it('format=clean_html drops scripts and styles and keeps the markup, links absolute', async () => {
    const result = await scrape({ url: `${fixtures.origin}/scrape-article`, format: 'clean_html' });
    const html = result.result.content;
    assert.match(html, /<h1>Lighthouse keepers<\/h1>/);
    assert.match(html, /<a href="http:\/\/127\.0\.0\.1:\d+\/lamps\?kind=oil">oil lamps<\/a>/);
    assert.doesNotMatch(html, /<script|<style|window\.tracking/);
  });

  it('format=json answers a JSON upstream as JSON', async () => {
    const result = await scrape({ url: `${fixtures.origin}/data.json`, format: 'json' });
    assert.deepEqual(JSON.parse(result.result.content), { hello: 'world' });
  });

  it('a gzip-encoded page is decoded before it is converted', async () => {
    const result = await scrape({ url: `${fixtures.origin}/small-gzip`, format: 'text' });
    assert.equal(result.result.content, 'Packed page');
  });

  it('a POST sends its body, content type and headers to the target', async () => {
    const result = await scrape({
      url: `${fixtures.origin}/echo`,
      method: 'POST',
      body: '{"query":"lamps"}',
      headers: { 'content-type': 'application/json', 'X-Api-Token': 'secret-token' },
    });
    const echo = seen.get('/echo');
    assert.equal(echo?.method, 'POST');
    assert.equal(echo?.body, '{"query":"lamps"}');
    assert.equal(echo?.headers['content-type'], 'application/json');
    assert.equal(echo?.headers['x-api-token'], 'secret-token');
    assert.deepEqual(JSON.parse(result.result.content), { method: 'POST', body: '{"query":"lamps"}' });
    assert.equal(result.config.method, 'POST');
  });

  it('PUT and PATCH send the body with the content type of headers[content-type]', async () => {
    for (const method of ['PUT', 'PATCH'] as const) {
      await scrape({
        url: `${fixtures.origin}/echo`,
        method,
        body: 'a=1&b=2',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      const echo = seen.get('/echo');
      assert.equal(echo?.method, method);
      assert.equal(echo?.body, 'a=1&b=2');
      assert.equal(echo?.headers['content-type'], 'application/x-www-form-urlencoded');
    }
  });

  it('cookies reach the target as one Cookie header, and its Set-Cookie lines come back in result.cookies', async () => {
    const result = await scrape({
      url: `${fixtures.origin}/echo`,
      cookies: { session: 'abc123', lang: 'fr' },
    });
    assert.equal(seen.get('/echo')?.headers.cookie, 'session=abc123; lang=fr');
    // A bodiless GET labelled application/json by the SDK: the label is not passed on.
    assert.equal(seen.get('/echo')?.headers['content-type'], undefined);
    assert.equal(seen.get('/echo')?.method, 'GET');
    const cookies = result.result.cookies as unknown as Array<Record<string, unknown>>;
    assert.deepEqual(
      cookies.map((cookie) => [cookie.name, cookie.value, cookie.http_only, cookie.max_age]),
      [
        ['visited', 'yes', true, null],
        ['theme', 'dark', false, 60],
      ],
    );
  });

  it('HEAD sends a HEAD to the target and answers its status in the headers', async () => {
    const result = await scrape({ url: `${fixtures.origin}/scrape-article`, method: 'HEAD' });
    assert.equal(result.result.success, true);
    assert.equal(result.result.response_headers['x-scrapfly-upstream-http-code'], '200');
  });

  it('an upstream 404 raises UpstreamHttpClientError with the status and the page', async () => {
    await assert.rejects(scrape({ url: `${fixtures.origin}/status-404` }), (error: unknown) => {
      assert.ok(error instanceof UpstreamHttpClientError, `got ${(error as Error).constructor.name}`);
      assert.ok(!(error instanceof UpstreamHttpServerError));
      const args = (error as InstanceType<typeof UpstreamHttpClientError>).args;
      assert.equal(args.code, 'ERR::SCRAPE::BAD_UPSTREAM_RESPONSE');
      assert.equal(args.http_status_code, 404);
      assert.match(args.api_response.result.content, /Not here/);
      return true;
    });
  });

  it('an upstream 500 raises UpstreamHttpServerError', async () => {
    await assert.rejects(scrape({ url: `${fixtures.origin}/status-500` }), (error: unknown) => {
      assert.ok(error instanceof UpstreamHttpServerError, `got ${(error as Error).constructor.name}`);
      assert.equal((error as InstanceType<typeof UpstreamHttpServerError>).args.http_status_code, 500);
      return true;
    });
  });

  it('a metadata, private or loopback address refused by the egress guard is ERR::SCRAPE::DOMAIN_NOT_ALLOWED', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/', 'http://[fd00::1]/']) {
      await assert.rejects(scrape({ url }), (error: unknown) => {
        assert.ok(error instanceof ScrapflyScrapeError, `${url}: got ${(error as Error).constructor.name}`);
        const args = (error as InstanceType<typeof ScrapflyScrapeError>).args;
        assert.equal(args.code, 'ERR::SCRAPE::DOMAIN_NOT_ALLOWED', url);
        assert.match((error as Error).message, /Snapwire does not contact/);
        return true;
      });
    }
  });

  it('a binary upstream answers base64 with format binary; format=markdown of it is a clear 422', async () => {
    const result = await scrape({ url: `${fixtures.origin}/image.png` });
    assert.equal(result.result.format, 'binary');
    assert.deepEqual(
      Buffer.from(result.result.content, 'base64'),
      fs.readFileSync(path.join(FIXTURES, 'pixel.png')),
    );
    await assert.rejects(
      scrape({ url: `${fixtures.origin}/image.png`, format: 'markdown' }),
      (error: unknown) => {
        assert.ok(error instanceof ScrapflyScrapeError, `got ${(error as Error).constructor.name}`);
        assert.equal(
          (error as InstanceType<typeof ScrapflyScrapeError>).args.code,
          'ERR::SCRAPE::FORMAT_NOT_SUPPORTED',
        );
        assert.match(
          (error as Error).message,
          /format=markdown needs a text answer, but the target answered image\/png/,
        );
        return true;
      },
    );
  });

  it('a body over SNAPWIRE_SCRAPE_MAX_BODY_BYTES is refused, compressed or not; one under it passes', async () => {
    for (const route of ['/big', '/big-gzip']) {
      await assert.rejects(scrape({ url: `${fixtures.origin}${route}` }), (error: unknown) => {
        assert.ok(error instanceof ScrapflyScrapeError, `${route}: got ${(error as Error).constructor.name}`);
        assert.equal(
          (error as InstanceType<typeof ScrapflyScrapeError>).args.code,
          'ERR::SCRAPE::UPSTREAM_RESPONSE_TOO_LARGE',
        );
        assert.match((error as Error).message, /more than 4096 bytes.*SNAPWIRE_SCRAPE_MAX_BODY_BYTES/);
        return true;
      });
    }
    // The body sent to the target is held to the same cap.
    await assert.rejects(
      scrape({ url: `${fixtures.origin}/echo`, method: 'POST', body: 'z'.repeat(5000) }),
      (error: unknown) => {
        assert.ok(error instanceof ApiHttpClientError, `got ${(error as Error).constructor.name}`);
        assert.match((error as Error).message, /request body is over 4096 bytes/);
        return true;
      },
    );
  });

  it('a target that stalls mid-body is OPERATION_TIMEOUT, one that drops the connection mid-body NETWORK_ERROR: never the part as the page', async () => {
    for (const [route, code] of [
      ['/stall', 'ERR::SCRAPE::OPERATION_TIMEOUT'],
      ['/cut', 'ERR::SCRAPE::NETWORK_ERROR'],
    ] as const) {
      const response = await fetch(
        `${service.baseUrl}/scrape?${new URLSearchParams({ key: LIVE_KEY, url: `${fixtures.origin}${route}`, timeout: '1500' })}`,
      );
      const body = (await response.json()) as {
        result: { success: boolean; content: string; error: { code: string; message: string } };
      };
      assert.equal(body.result.success, false, route);
      assert.equal(body.result.error.code, code, body.result.error.message);
      assert.ok(!body.result.content.includes('start'), `${route}: no part of the page as content`);
      assert.notEqual(response.status, 200, `${route}: an error status`);
    }
  });

  it('an unknown parameter is refused by name', async () => {
    const response = await fetch(
      `${service.baseUrl}/scrape?key=${LIVE_KEY}&url=${encodeURIComponent(`${fixtures.origin}/scrape-article`)}&render_jss=true`,
    );
    assert.equal(response.status, 400);
    const body = (await response.json()) as { code: string; reason: string };
    assert.equal(body.code, 'ERR::SCRAPE::CONFIG_ERROR');
    assert.match(body.reason, /^Unknown parameter "render_jss"/);
  });

  it('country is validated and recorded (the answer and the log), leaving by this host itself', async () => {
    const result = await scrape({ url: `${fixtures.origin}/scrape-article`, country: 'DE' });
    assert.equal(result.config.country, 'de');
    const proxy = result.context.proxy as Record<string, unknown>;
    assert.equal(proxy.country_requested, 'de');
    assert.equal(proxy.country, null, 'no country proxy chosen: the egress is the host own network');
    const caller = await service.snapwire.services.projects.authenticate(LIVE_KEY);
    const row = await service.snapwire.services.logs.find(caller?.project.id ?? '', result.uuid);
    assert.equal((JSON.parse(row?.params ?? '{}') as { country?: string }).country, 'de');

    await assert.rejects(
      scrape({ url: `${fixtures.origin}/scrape-article`, country: 'uk' }),
      (error: unknown) => {
        assert.ok(error instanceof ApiHttpClientError, `got ${(error as Error).constructor.name}`);
        assert.match(
          (error as Error).message,
          /ERR::SCRAPE::CONFIG_ERROR.*\\"uk\\", which is not an ISO 3166-1.*gb/,
        );
        return true;
      },
    );
  });

  it('a parameter this version does not serve is refused by name, not ignored', async () => {
    await assert.rejects(
      scrape({ url: `${fixtures.origin}/scrape-article`, extraction_prompt: 'the title' }),
      /extraction_prompt is not served on \/scrape by this Snapwire version; scrape, then send the content to POST \/extraction/,
    );
  });

  it('render_js=true answers the rendered DOM after wait_for_selector, and the js return value', async () => {
    const result = await scrape({
      url: `${fixtures.origin}/late`,
      render_js: true,
      wait_for_selector: '#late',
      js: "return { id: document.querySelector('#late').id, title: document.title }",
    });
    // #late is added by a script 600 ms after load: it is in the DOM only because the wait ran.
    assert.match(result.result.content, /<div id="late"><\/div>/);
    assert.deepEqual(result.result.browser_data.javascript_evaluation_result, { id: 'late', title: 'Late' });
    assert.equal(result.context.cost.total, 6);
  });

  it('render_js=true with a selector that never appears is a clear selector error', async () => {
    await assert.rejects(
      scrape({ url: `${fixtures.origin}/late`, render_js: true, wait_for_selector: '#never', timeout: 3000 }),
      (error: unknown) => {
        assert.ok(error instanceof ScrapflyScrapeError, `got ${(error as Error).constructor.name}`);
        assert.match((error as Error).message, /#never/);
        return true;
      },
    );
  });

  it('bills 1 credit without a browser and 6 with one, and records one scrape log per call', async () => {
    const url = `${fixtures.origin}/scrape-article`;
    const plain = await fetch(`${service.baseUrl}/scrape?key=${LIVE_KEY}&url=${encodeURIComponent(url)}`);
    assert.equal(plain.headers.get('x-scrapfly-api-cost'), '1');
    const logUuid = plain.headers.get('x-scrapfly-log-uuid') ?? '';
    assert.match(
      plain.headers.get('x-scrapfly-log-url') ?? '',
      new RegExp(`/dashboard/monitoring/log/${logUuid}$`),
    );
    const envelope = (await plain.json()) as { uuid: string };
    assert.equal(envelope.uuid, logUuid);
    const caller = await service.snapwire.services.projects.authenticate(LIVE_KEY);
    const log = await service.snapwire.services.logs.find(caller?.project.id ?? '', logUuid);
    assert.equal(log?.kind, 'scrape');
    assert.equal(log?.url, url);
    assert.equal(log?.upstream_status, 200);
    assert.equal(log?.cost, 1);

    const rendered = await fetch(
      `${service.baseUrl}/scrape?key=${LIVE_KEY}&render_js=true&url=${encodeURIComponent(url)}`,
    );
    assert.equal(rendered.headers.get('x-scrapfly-api-cost'), '6');
    await rendered.arrayBuffer();
  });
});
