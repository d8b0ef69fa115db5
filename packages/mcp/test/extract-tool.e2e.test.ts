// The MCP `extract` tool driven by the MCP SDK's own Client, over stdio (`snapwire mcp`) and over streamable
// HTTP (`/mcp` on the service), against a live service without a browser, a loopback page and a local
// OpenAI-compatible model stub (for prompts).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startFixtureServer, type FixtureServer } from '../../server/test/helpers/fixture-server.js';
import { startModelStub } from '../../server/test/helpers/model-stub.js';
import { LIVE_KEY, startService, type TestService } from '../../server/test/helpers/service.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'dist', 'main.js');

const PAGE =
  '<html><body><main><h1>Blue Widget</h1><p class="price">$19.50</p><a href="/next">next</a></main></body></html>';
const RULES = {
  selectors: [
    { name: 'title', type: 'css', query: 'h1::text' },
    { name: 'next', type: 'css', query: 'a::attr(href)', formatters: [{ name: 'absolute_url' }] },
  ],
};

type Content = CallToolResult['content'][number];
const texts = (result: CallToolResult) =>
  result.content
    .filter((item): item is Extract<Content, { type: 'text' }> => item.type === 'text')
    .map((item) => item.text);
const call = async (client: Client, args: Record<string, unknown>) =>
  (await client.callTool({ name: 'extract', arguments: args })) as CallToolResult;

describe('MCP extract tool', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let model: Awaited<ReturnType<typeof startModelStub>>;
  let client: Client;

  before(async () => {
    model = await startModelStub();
    model.stub.answer = '{"price": 19.5}';
    fixtures = await startFixtureServer({
      routes: {
        '/item': (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
        },
      },
    });
    service = await startService(
      { SNAPWIRE_LLM_BASE_URL: model.baseUrl, SNAPWIRE_LLM_MODEL: 'stub-model' },
      {},
      { browsers: false },
    );
    const saved = await fetch(`${service.baseUrl}/extraction/templates/item?key=${LIVE_KEY}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ template: RULES }),
    });
    assert.equal(saved.status, 201);
    client = new Client({ name: 'extract-test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, 'mcp'],
        env: { PATH: process.env.PATH ?? '', SNAPWIRE_HOST: service.baseUrl, SNAPWIRE_KEY: LIVE_KEY },
        stderr: 'pipe',
      }),
    );
  });
  after(async () => {
    await client?.close();
    await service?.close();
    await fixtures?.close();
    await model?.close();
  });

  it('is listed and described, with its ways to extract', async () => {
    const { tools } = await client.listTools();
    const extract = tools.find((tool) => tool.name === 'extract');
    assert.ok(extract, 'the extract tool is listed');
    assert.ok((extract.description ?? '').length > 40);
    assert.deepEqual(Object.keys(extract.inputSchema.properties ?? {}).sort(), [
      'content_type',
      'document',
      'model',
      'prompt',
      'template',
      'template_rules',
      'url',
    ]);
  });

  it('a document with rules: the data as JSON, then where it came from', async () => {
    const result = await call(client, {
      document: PAGE,
      url: 'https://shop.test/p/1',
      template_rules: RULES,
    });
    assert.equal(result.isError, undefined, texts(result).join('\n'));
    const [data, facts] = texts(result);
    assert.deepEqual(JSON.parse(data!), { title: 'Blue Widget', next: 'https://shop.test/next' });
    assert.match(
      facts!,
      /^Extracted from https:\/\/shop\.test\/p\/1 by the rules sent: application\/json, 1 credit/,
    );
    assert.match(facts!, /Log uuid: [0-9A-Z]{26}/);
  });

  it('a URL with a saved template: the service fetches the page, links made absolute against it', async () => {
    const url = `${fixtures.origin}/item`;
    const result = await call(client, { url, template: 'item' });
    assert.equal(result.isError, undefined, texts(result).join('\n'));
    assert.deepEqual(JSON.parse(texts(result)[0]!), {
      title: 'Blue Widget',
      next: `${fixtures.origin}/next`,
    });
    assert.match(texts(result)[1]!, /by the saved template "item"/);
  });

  it("a URL with a prompt: the operator's model answers; the page reached it", async () => {
    const result = await call(client, { url: `${fixtures.origin}/item`, prompt: 'The price as {"price"}' });
    assert.equal(result.isError, undefined, texts(result).join('\n'));
    assert.deepEqual(JSON.parse(texts(result)[0]!), { price: 19.5 });
    assert.match(texts(result)[1]!, /by the prompt: application\/json, 5 credits/);
    const sent =
      model.stub.requests
        .at(-1)
        ?.body.messages.map((message) => message.content)
        .join('\n') ?? '';
    assert.match(sent, /Blue Widget/);
    assert.match(sent, /The price as \{"price"\}/);
  });

  it('tool errors that say what to fix: no way to extract, two, no source, an unknown template', async () => {
    const none = await call(client, { document: PAGE });
    assert.equal(none.isError, true);
    assert.match(texts(none)[0]!, /give prompt .*template .*template_rules .*model/);
    const two = await call(client, { document: PAGE, prompt: 'x', template: 'item' });
    assert.match(texts(two)[0]!, /only one of prompt and template/);
    const nowhere = await call(client, { template: 'item' });
    assert.match(texts(nowhere)[0]!, /Give url .* or document/);
    const unknown = await call(client, { document: PAGE, template: 'missing' });
    assert.equal(unknown.isError, true);
    assert.match(texts(unknown)[0]!, /^ERR::EXTRACTION::TEMPLATE_NOT_FOUND \(HTTP 404\): .*"missing"/);
  });

  it('over streamable HTTP (/mcp with the key as a bearer token): the same answer', async () => {
    const overHttp = new Client({ name: 'extract-http-test', version: '1.0.0' });
    await overHttp.connect(
      new StreamableHTTPClientTransport(new URL(`${service.baseUrl}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${LIVE_KEY}` } },
      }),
    );
    try {
      const result = await call(overHttp, { document: PAGE, template: 'item' });
      assert.equal(result.isError, undefined, texts(result).join('\n'));
      assert.equal(JSON.parse(texts(result)[0]!).title, 'Blue Widget');
    } finally {
      await overHttp.close();
    }
  });
});
