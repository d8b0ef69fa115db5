// The MCP crawl tools (crawl_start, crawl_status, crawl_read) driven by the MCP SDK's own Client over
// streamable HTTP (/mcp on the service), against a live service and a generated loopback site.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { PAGES, startSite, type Site } from '../../server/test/crawl/site.js';
import { LIVE_KEY, startService, type TestService } from '../../server/test/helpers/service.js';
import { waitUntil } from '../../server/test/helpers/wait-until.js';

type Content = CallToolResult['content'][number];
const textOf = (result: CallToolResult) =>
  result.content
    .filter((item): item is Extract<Content, { type: 'text' }> => item.type === 'text')
    .map((item) => item.text)
    .join('\n');

describe('MCP crawl tools', () => {
  let service: TestService;
  let site: Site;
  let client: Client;
  const call = async (name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;

  before(async () => {
    site = await startSite();
    service = await startService({}, { 'site.test': '127.0.0.1' }, { browsers: false });
    client = new Client({ name: 'crawl-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${service.baseUrl}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${LIVE_KEY}` } },
      }),
    );
  });
  after(async () => {
    await client?.close();
    await service?.close();
    await site?.close();
  });

  it('starts a crawl, follows it to the end, lists its pages and reads one as markdown', async () => {
    const started = await call('crawl_start', { url: `${site.origin}/section/5/`, page_limit: 100 });
    assert.notEqual(started.isError, true, textOf(started));
    const uuid = /crawler_uuid (\S+)\./.exec(textOf(started))?.[1];
    assert.ok(uuid, textOf(started));
    const status = await waitUntil(
      async () => {
        const answer = JSON.parse(textOf(await call('crawl_status', { crawler_uuid: uuid }))) as {
          is_finished: boolean;
          state: { urls_visited: number; stop_reason: string };
        };
        return answer.is_finished ? answer : undefined;
      },
      { timeoutMs: 30_000, what: 'the crawl to finish' },
    );
    assert.equal(status.state.urls_visited, PAGES + 1);
    assert.equal(status.state.stop_reason, 'no_more_urls');
    const list = textOf(await call('crawl_read', { crawler_uuid: uuid }));
    assert.match(list, /^Visited pages \(page 1\):/);
    assert.equal(list.split('\n').filter((line) => line.startsWith(site.origin)).length, PAGES + 1);
    const page = await call('crawl_read', { crawler_uuid: uuid, url: `${site.origin}/section/5/page/12` });
    assert.match(textOf(page), /^# Section 5 page 12/);
  });

  it('answers an unknown crawl and a page not visited as tool errors with their ERR:: code', async () => {
    const unknown = await call('crawl_status', { crawler_uuid: 'no-such-crawl' });
    assert.equal(unknown.isError, true);
    assert.match(textOf(unknown), /^ERR::CRAWLER::NOT_FOUND \(HTTP 404\)/);
    const refused = await call('crawl_start', {
      url: `${site.origin}/`,
      exclude_paths: ['/a/*'],
      include_only_paths: ['/b/*'],
    });
    assert.equal(refused.isError, true);
    assert.match(
      textOf(refused),
      /ERR::CRAWLER::CONFIG_ERROR \(HTTP 400\): exclude_paths and include_only_paths/,
    );
  });
});
