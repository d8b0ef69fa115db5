// The MCP `scrape` tool driven by the MCP SDK's own Client, over stdio (`snapwire mcp`) and over
// streamable HTTP (`/mcp` on the service), against a live service and loopback fixture pages.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  startFixtureServer,
  type FixtureServer,
  type Handler,
} from '../../server/test/helpers/fixture-server.js';
import { LIVE_KEY, startService, type TestService } from '../../server/test/helpers/service.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'dist', 'main.js');

const routes: Record<string, Handler> = {
  // A button a js_scenario clicks; the click writes the result into the page.
  '/shop': (_req, res) => {
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(
        '<html><head><title>Shop</title></head><body><button id="go" onclick="document.querySelector(\'#cart\').textContent = \'one lamp\'">Add</button><div id="cart" style="width:300px;height:120px;background:#c00">empty</div></body></html>',
      );
  },
  '/login': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': 'sid=mcp42; Path=/' }).end('<p>in</p>');
  },
  '/whoami': (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`cookie: ${req.headers.cookie ?? 'none'}`);
  },
};

type Content = CallToolResult['content'][number];
const texts = (result: CallToolResult) =>
  result.content
    .filter((item): item is Extract<Content, { type: 'text' }> => item.type === 'text')
    .map((item) => item.text);

async function call(client: Client, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name: 'scrape', arguments: args })) as CallToolResult;
}

describe('MCP scrape tool', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let origin: string;

  before(async () => {
    fixtures = await startFixtureServer({ routes });
    service = await startService();
    origin = `http://fixtures.test:${fixtures.port}`;
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  describe('over stdio (snapwire mcp)', () => {
    let client: Client;
    before(async () => {
      client = new Client({ name: 'scrape-test', version: '1.0.0' });
      await client.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: [CLI, 'mcp'],
          env: { PATH: process.env.PATH ?? '', SNAPWIRE_HOST: service.baseUrl, SNAPWIRE_KEY: LIVE_KEY },
          stderr: 'pipe',
        }),
      );
    });
    after(() => client?.close());

    it('is listed, described, with url required and the reading parameters', async () => {
      const { tools } = await client.listTools();
      const scrape = tools.find((tool) => tool.name === 'scrape');
      assert.ok(scrape, 'the scrape tool is listed');
      assert.ok((scrape.description ?? '').length > 40);
      assert.deepEqual(scrape.inputSchema.required, ['url']);
      const properties = Object.keys(scrape.inputSchema.properties ?? {}).sort();
      assert.deepEqual(properties, [
        'country',
        'format',
        'format_options',
        'js',
        'js_scenario',
        'max_chars',
        'render_js',
        'screenshot',
        'session',
        'timeout',
        'url',
        'wait_for_selector',
      ]);
    });

    it('answers the page as markdown by default, then where it came from', async () => {
      const result = await call(client, { url: `${origin}/scrape-article` });
      assert.equal(result.isError, undefined, texts(result).join('\n'));
      const [content, facts] = texts(result);
      assert.match(content!, /# Lighthouse keepers/);
      assert.match(content!, /\[oil lamps\]\(http:\/\/fixtures\.test:\d+\/lamps\?kind=oil\)/);
      assert.match(content!, /\| North Point \| 1851 \|/);
      assert.doesNotMatch(content!, /<p>|window\.tracking/);
      assert.match(
        facts!,
        /^Scraped http:\/\/fixtures\.test:\d+\/scrape-article \(HTTP 200\), markdown of text\/html; charset=utf-8, 1 credit\nLog: http:\/\/\S+\/dashboard\/monitoring\/log\/\S+ \(log_uuid \S+\)$/,
      );

      const article = await call(client, {
        url: `${origin}/scrape-article`,
        format: 'text',
        format_options: ['only_content', 'no_links', 'no_images'],
      });
      assert.match(texts(article)[0]!, /Keepers tended the oil lamps every night/);
      assert.doesNotMatch(texts(article)[0]!, /About us|Footer links|http:\/\//);
    });

    it('renders with render_js, waits for the selector and answers what js returned', async () => {
      const result = await call(client, {
        url: `${origin}/late`,
        format: 'raw',
        render_js: true,
        wait_for_selector: '#late',
        js: "return { id: document.querySelector('#late').id }",
      });
      assert.equal(result.isError, undefined, texts(result).join('\n'));
      const [content, facts] = texts(result);
      assert.match(content!, /<div id="late"><\/div>/);
      assert.match(facts!, /6 credits/);
      assert.match(facts!, /^js returned: \{"id":"late"\}$/m);
    });

    it('runs js_scenario steps, then answers the page and the screenshot as an image', async () => {
      const result = await call(client, {
        url: `${origin}/shop`,
        format: 'raw',
        js_scenario: [{ click: { selector: '#go' } }, { wait: 10 }],
        screenshot: '#cart',
      });
      assert.equal(result.isError, undefined, texts(result).join('\n'));
      const [content, facts, about] = texts(result);
      assert.match(content!, /<div id="cart"[^>]*>one lamp<\/div>/);
      assert.match(facts!, /6 credits/, 'render_js was implied');
      const images = result.content.filter(
        (item): item is Extract<Content, { type: 'image' }> => item.type === 'image',
      );
      assert.equal(images.length, 1);
      assert.equal(images[0]!.mimeType, 'image/jpeg');
      const bytes = Buffer.from(images[0]!.data, 'base64');
      assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff]);
      assert.match(
        about!,
        /^Screenshot \(#cart\): image\/jpeg, \d+ bytes, 300x120; full size at http:\/\/\S+\/scrape\/screenshot\/\S+\/page/,
      );

      const failing = await call(client, {
        url: `${origin}/shop`,
        js_scenario: [{ click: { selector: '#nowhere' } }],
        timeout: 15_000,
      });
      assert.equal(failing.isError, true);
      assert.match(texts(failing)[0]!, /js_scenario\[0\]|#nowhere/);
    });

    it('session keeps the cookies a page set for the next call with that session', async () => {
      const login = await call(client, { url: `${origin}/login`, session: 'mcp-shop' });
      assert.equal(login.isError, undefined, texts(login).join('\n'));
      const again = await call(client, { url: `${origin}/whoami`, format: 'raw', session: 'mcp-shop' });
      assert.equal(texts(again)[0], 'cookie: sid=mcp42');
      const other = await call(client, { url: `${origin}/whoami`, format: 'raw', session: 'mcp-other' });
      assert.equal(texts(other)[0], 'cookie: none');
    });

    it('cuts a long page at max_chars and says so', async () => {
      const result = await call(client, { url: `${origin}/scrape-article`, format: 'raw', max_chars: 1000 });
      const [content, facts] = texts(result);
      assert.equal(content!.length, 1000);
      assert.match(facts!, /^The content was cut at 1000 of \d+ characters/);
    });

    it('an upstream 404 is a tool error with the code, the status and the start of its page', async () => {
      const result = await call(client, { url: `${origin}/status-404` });
      assert.equal(result.isError, true);
      assert.match(
        texts(result).join('\n'),
        /^ERR::SCRAPE::BAD_UPSTREAM_RESPONSE: the target answered HTTP 404 Not Found for http:\/\/fixtures\.test:\d+\/status-404\.\nLog: \S+\nIts page:\n# Not here$/,
      );
    });

    it('a failed or refused scrape is a tool error with its catalogue code, and the server keeps serving', async () => {
      const image = await call(client, { url: `${origin}/image.png` });
      assert.equal(image.isError, true);
      assert.match(texts(image)[0]!, /^ERR::SCRAPE::FORMAT_NOT_SUPPORTED \(HTTP 422\): /);

      const refused = await call(client, { url: 'http://169.254.169.254/latest/meta-data/' });
      assert.equal(refused.isError, true);
      assert.match(texts(refused)[0]!, /^ERR::SCRAPE::DOMAIN_NOT_ALLOWED \(HTTP 422\): /);

      const binary = await call(client, { url: `${origin}/image.png`, format: 'raw' });
      assert.equal(binary.isError, undefined);
      assert.match(texts(binary)[0]!, /^The page is not text \(image\/png, \d+ bytes\)/);
    });
  });

  it('over streamable HTTP (/mcp) with the key as Authorization: Bearer', async () => {
    const client = new Client({ name: 'scrape-http-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${service.baseUrl}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${LIVE_KEY}` } },
      }),
    );
    try {
      const result = await call(client, {
        url: `${origin}/scrape-article`,
        format_options: ['only_content'],
      });
      assert.equal(result.isError, undefined, texts(result).join('\n'));
      assert.match(texts(result)[0]!, /Keepers tended the \[oil lamps\]/);
      assert.doesNotMatch(texts(result)[0]!, /About us/);
    } finally {
      await client.close();
    }
  });
});
