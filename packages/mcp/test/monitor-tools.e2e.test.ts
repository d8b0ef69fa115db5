// The MCP monitor tools (monitor_create, monitor_changes) driven by the MCP SDK's own Client over
// streamable HTTP (/mcp on the service), with real Chromium capturing a loopback page the test changes.
import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startFixtureServer, type FixtureServer } from '../../server/test/helpers/fixture-server.js';
import { LIVE_KEY, startService, type TestService } from '../../server/test/helpers/service.js';

type Content = CallToolResult['content'][number];
const textOf = (result: CallToolResult) =>
  result.content
    .filter((item): item is Extract<Content, { type: 'text' }> => item.type === 'text')
    .map((item) => item.text)
    .join('\n');

describe('MCP monitor tools', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let client: Client;
  let word = 'open';
  const call = async (name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;

  before(async () => {
    fixtures = await startFixtureServer({
      host: '127.0.0.2',
      routes: {
        '/status': (_req: http.IncomingMessage, res: http.ServerResponse) => {
          res
            .writeHead(200, { 'content-type': 'text/html' })
            .end(
              `<!doctype html><body style="margin:0;font:40px sans-serif"><p>The shop is ${word}</p></body>`,
            );
        },
      },
    });
    service = await startService({ SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.2/32' });
    client = new Client({ name: 'monitor-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${service.baseUrl}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${LIVE_KEY}` } },
      }),
    );
  });
  after(async () => {
    await client?.close();
    await service?.close();
    await fixtures?.close();
  });

  it('creates a monitor (baseline taken), then reports the change with its words', async () => {
    const created = await call('monitor_create', {
      url: `${fixtures.origin}/status`,
      every_minutes: 60,
      compare_text: true,
    });
    assert.notEqual(created.isError, true, textOf(created));
    const answer = JSON.parse(textOf(created)) as { monitor_id: string; first_run: { status: string } };
    assert.equal(answer.first_run.status, 'baseline');

    const none = JSON.parse(textOf(await call('monitor_changes', { monitor_id: answer.monitor_id }))) as {
      changes: unknown[];
    };
    assert.deepEqual(none.changes, []);

    word = 'closed';
    const seen = JSON.parse(
      textOf(await call('monitor_changes', { monitor_id: answer.monitor_id, run_now: true })),
    ) as { changes: Array<{ score: number; text_diff: { added: string[]; removed: string[] } }> };
    assert.equal(seen.changes.length, 1);
    assert.ok(seen.changes[0]!.score > 0);
    assert.deepEqual(seen.changes[0]!.text_diff, { added: ['closed'], removed: ['open'] });

    const all = JSON.parse(textOf(await call('monitor_changes', {}))) as Array<{
      monitor_id: string;
      latest_change: unknown;
    }>;
    assert.equal(all.length, 1);
    assert.equal(all[0]!.monitor_id, answer.monitor_id);
    assert.ok(all[0]!.latest_change);

    const unknown = await call('monitor_changes', { monitor_id: 'nope' });
    assert.equal(unknown.isError, true);
    assert.match(textOf(unknown), /ERR::MONITOR::NOT_FOUND/);
  });
});
