import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ScrapeConfig, ScrapflyClient, type ScrapeResult } from 'scrapfly-sdk';
import { startUpstream } from '../helpers/country-upstream.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../cli/bin/snapwire.js');
const US: [number, number, number] = [255, 0, 0];
const GB: [number, number, number] = [0, 0, 255];

/**
 * country= on /scrape leaves by the operator's proxy for that country (SNAPWIRE_COUNTRY_PROXIES), with and
 * without a browser, as /screenshot does: each upstream stand-in tunnels to a page of its own colour, so
 * the content says which country's proxy carried the scrape, and what the upstream was asked for says it
 * was asked for the address the guard checked, never the name.
 */
describe('/scrape with country=: through the country egress proxies', () => {
  let service: TestService;
  let us: Awaited<ReturnType<typeof startUpstream>>;
  let gb: Awaited<ReturnType<typeof startUpstream>>;
  let client: ScrapflyClient;
  // Any port: the stand-ins send every tunnel to their own page.
  const target = 'http://shop.test:8099/product';

  before(async () => {
    us = await startUpstream(US);
    gb = await startUpstream(GB);
    service = await startService(
      { SNAPWIRE_COUNTRY_PROXIES: `us=${us.url},gb=${gb.url}` },
      { 'shop.test': '127.0.0.1' },
    );
    client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
  });
  after(async () => {
    await service?.close();
    await us?.close();
    await gb?.close();
  });

  const scrape = async (options: ConstructorParameters<typeof ScrapeConfig>[0]) =>
    (await client.scrape(new ScrapeConfig(options))) as ScrapeResult;

  it('without a browser, country=us is fetched through the us proxy, tunnelled to the checked address', async () => {
    const result = await scrape({ url: target, country: 'us' });
    assert.match(result.result.content, /rgb\(255,0,0\)/, 'the us page: the us proxy carried it');
    assert.equal(result.context.proxy.country, 'us', 'the answer names the country it left by');
    assert.deepEqual([...new Set(us.asked)], ['127.0.0.1:8099'], 'CONNECT to the pinned IP address');
    assert.deepEqual(gb.asked, []);
  });

  it('with a browser, country=-us leaves by gb', async () => {
    const usBefore = us.asked.length;
    const result = await scrape({ url: target, country: '-us', render_js: true });
    assert.match(result.result.content, /rgb\(0, ?0, ?255\)/, 'the gb page');
    assert.equal(result.context.proxy.country, 'gb');
    assert.equal(us.asked.length, usBefore, 'the us proxy was not used');
    assert.ok(gb.asked.length >= 1);
  });

  it('a redirect through the tunnel to a refused address is refused before the proxy is asked', async () => {
    const before = us.asked.length;
    const response = await fetch(
      `${service.baseUrl}/scrape?key=${LIVE_KEY}&country=us&url=${encodeURIComponent('http://shop.test:8099/to-metadata')}`,
    );
    const body = (await response.json()) as { result?: { error?: { code?: string } }; code?: string };
    const code = body.result?.error?.code ?? body.code;
    assert.match(String(code), /ERR::SCRAPE::/, `a catalogue error: ${JSON.stringify(body).slice(0, 300)}`);
    assert.ok(
      us.asked.slice(before).every((authority) => !authority.startsWith('169.254.')),
      `the upstream was never asked for the refused address: ${us.asked.slice(before).join(', ')}`,
    );
  });

  it('snapwire scrape --country and the MCP scrape tool leave by the country asked for', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [CLI, 'scrape', target, '--country', 'gb'],
      {
        timeout: 60_000,
        env: { PATH: process.env.PATH ?? '', SNAPWIRE_HOST: service.baseUrl, SNAPWIRE_KEY: LIVE_KEY },
      },
    );
    assert.match(stdout, /rgb\(0,0,255\)/, 'the CLI printed the gb page');
    const mcp = new Client({ name: 'country-test', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${service.baseUrl}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${LIVE_KEY}` } },
      }),
    );
    try {
      const result = (await mcp.callTool({
        name: 'scrape',
        arguments: { url: target, country: 'us', format: 'raw' },
      })) as CallToolResult;
      const text = result.content.map((item) => (item.type === 'text' ? item.text : '')).join('\n');
      assert.equal(result.isError, undefined, text);
      assert.match(text, /rgb\(255,0,0\)/, 'the tool read the us page');
      assert.match(text, /Fetched through the us egress proxy/);
    } finally {
      await mcp.close();
    }
  });

  it('a country with no proxy is a 400 naming the configured ones', async () => {
    const response = await fetch(
      `${service.baseUrl}/scrape?key=${LIVE_KEY}&country=fr&url=${encodeURIComponent(target)}`,
    );
    assert.equal(response.status, 400);
    const body = (await response.json()) as { code: string; message: string };
    assert.equal(body.code, 'ERR::SCRAPE::CONFIG_ERROR');
    assert.match(body.message, /No egress proxy is configured for country "fr".*configured: gb, us/);
  });
});
