// The MCP server driven by the MCP SDK's own Client, over stdio (`snapwire mcp` as a subprocess) and over
// streamable HTTP (`/mcp` on the service), against a real service with real Chromium and fixture pages.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SnapwireClient } from '@snapwire/sdk';
import { downscale } from '../src/downscale.js';
import { startFixtureServer, type FixtureServer } from '../../server/test/helpers/fixture-server.js';
import { decode, near } from '../../server/test/helpers/images.js';
import { startReceiver, type Receiver } from '../../server/test/helpers/receiver.js';
import { LIVE_KEY, startService, type TestService } from '../../server/test/helpers/service.js';
import { waitUntil } from '../../server/test/helpers/wait-until.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'dist', 'main.js');
const TOOLS = [
  'account',
  'crawl_read',
  'crawl_start',
  'crawl_status',
  'extract',
  'get_log',
  'list_logs',
  'list_webhooks',
  'monitor_changes',
  'monitor_create',
  'scrape',
  'screenshot',
  'screenshot_async',
];
const BLUE: [number, number, number] = [0x00, 0x80, 0xff];

type Content = CallToolResult['content'][number];
const textOf = (result: CallToolResult) =>
  result.content
    .filter((item): item is Extract<Content, { type: 'text' }> => item.type === 'text')
    .map((item) => item.text)
    .join('\n');
const imageOf = (result: CallToolResult) =>
  result.content.find((item): item is Extract<Content, { type: 'image' }> => item.type === 'image');

async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

describe('MCP server', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let receiver: Receiver;

  before(async () => {
    fixtures = await startFixtureServer();
    receiver = await startReceiver();
    service = await startService({}, { 'hooks.test': '127.0.0.1' });
  });
  after(async () => {
    await service?.close();
    await receiver?.close();
    await fixtures?.close();
  });

  describe('over stdio (snapwire mcp)', () => {
    let client: Client;
    before(async () => {
      client = new Client({ name: 'stdio-test', version: '1.0.0' });
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

    it('lists the tools, each described, screenshot with every parameter', async () => {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name).sort(), TOOLS);
      for (const tool of tools) assert.ok((tool.description ?? '').length > 40, `${tool.name} is described`);
      const shot = tools.find((tool) => tool.name === 'screenshot')!;
      const properties = Object.keys(shot.inputSchema.properties ?? {});
      for (const name of [
        'url',
        'format',
        'capture',
        'resolution',
        'rendering_wait',
        'wait_for_selector',
        'timeout',
        'js',
        'options',
        'auto_scroll',
        'vision_deficiency',
        'country',
        'cache',
        'cache_ttl',
        'cache_clear',
        'max_width',
        'headers',
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
        assert.ok(properties.includes(name), `screenshot takes ${name}`);
      }
      assert.deepEqual(shot.inputSchema.required, ['url']);
    });

    it('screenshot answers the image shrunk to max_width; the original stays full size at its URL', async () => {
      const result = await call(client, 'screenshot', {
        url: `http://fixtures.test:${fixtures.port}/solid`,
        format: 'png',
        resolution: '800x600',
        rendering_wait: 0,
        max_width: 400,
      });
      assert.equal(result.isError, undefined, textOf(result));
      const image = imageOf(result);
      assert.ok(image, 'an image content');
      assert.equal(image.mimeType, 'image/png');
      const shown = await decode(Buffer.from(image.data, 'base64'));
      assert.equal(shown.width, 400);
      assert.equal(shown.height, 300);
      assert.ok(near(shown.pixel(10, 280), BLUE), `blue page, got ${shown.pixel(10, 280)}`);

      const text = textOf(result);
      assert.match(text, new RegExp(`Screenshot of http://fixtures\\.test:${fixtures.port}/solid`));
      assert.match(text, /Upstream status: 200/);
      assert.match(text, /shown shrunk to 400x300/);
      assert.match(text, /Log: http:\/\/\S+\/dashboard\/monitoring\/log\/\S+ \(log_uuid \S+\)/);
      const original = /Full-size original: (\S+)/.exec(text)?.[1];
      assert.ok(original, text);
      const stored = await fetch(`${original.replace(/^https?:\/\/[^/]+/, service.baseUrl)}?key=${LIVE_KEY}`);
      assert.equal(stored.status, 200);
      const full = await decode(Buffer.from(await stored.arrayBuffer()));
      assert.deepEqual([full.width, full.height], [800, 600]);
    });

    it('screenshot with device_scale_factor 2 answers an image twice the resolution', async () => {
      const result = await call(client, 'screenshot', {
        url: `http://fixtures.test:${fixtures.port}/solid`,
        format: 'png',
        resolution: '400x300',
        device_scale_factor: 2,
        rendering_wait: 0,
        max_width: 2000,
      });
      assert.equal(result.isError, undefined, textOf(result));
      const image = imageOf(result);
      assert.ok(image, 'an image content');
      const shown = await decode(Buffer.from(image.data, 'base64'));
      assert.deepEqual([shown.width, shown.height], [800, 600]);
      assert.ok(near(shown.pixel(790, 590), BLUE), `blue page, got ${shown.pixel(790, 590)}`);
    });

    it('screenshot with format pdf answers the PDF as an embedded resource, not an image', async () => {
      const result = await call(client, 'screenshot', {
        url: `http://fixtures.test:${fixtures.port}/solid`,
        format: 'pdf',
        pdf_paper: 'a5',
        rendering_wait: 0,
      });
      assert.equal(result.isError, undefined, textOf(result));
      assert.equal(imageOf(result), undefined);
      const embedded = result.content.find(
        (item): item is Extract<Content, { type: 'resource' }> => item.type === 'resource',
      );
      assert.ok(embedded, 'an embedded resource');
      assert.equal(embedded.resource.mimeType, 'application/pdf');
      const blob = 'blob' in embedded.resource ? String(embedded.resource.blob) : '';
      assert.equal(Buffer.from(blob, 'base64').subarray(0, 5).toString('latin1'), '%PDF-');
      assert.match(textOf(result), /^PDF of http:\/\/fixtures\.test:\d+\/solid/);
    });

    it('answers a catalogue error as a tool error, and keeps serving', async () => {
      const refused = await call(client, 'screenshot', { url: 'ftp://fixtures.test/file' });
      assert.equal(refused.isError, true);
      assert.match(textOf(refused), /^ERR::SCRAPE::BAD_PROTOCOL \(HTTP 422\): .+/);

      const missing = await call(client, 'get_log', { log_uuid: 'no-such-log' });
      assert.equal(missing.isError, true);
      assert.match(textOf(missing), /ERR::API::NOT_FOUND \(HTTP 404\): No log no-such-log/);

      const account = await call(client, 'account');
      assert.equal(account.isError, undefined);
      assert.equal(JSON.parse(textOf(account)).project.name, 'default');
    });
  });

  describe('over stdio, lines that are not requests (snapwire mcp spawned, JSON lines by hand)', () => {
    let child: ChildProcessWithoutNullStreams;
    const answers: {
      id: unknown;
      result?: Record<string, unknown>;
      error?: { code: number; message: string };
    }[] = [];
    const send = (line: string) => child.stdin.write(`${line}\n`);
    const nextAnswer = async () => {
      const seen = answers.length;
      await waitUntil(() => answers.length > seen, { timeoutMs: 30_000, what: 'an answer on stdout' });
      return answers[seen]!;
    };

    before(() => {
      child = spawn(process.execPath, [CLI, 'mcp'], {
        env: { PATH: process.env.PATH ?? '', SNAPWIRE_HOST: service.baseUrl, SNAPWIRE_KEY: LIVE_KEY },
      });
      readline.createInterface({ input: child.stdout }).on('line', (line) => answers.push(JSON.parse(line)));
    });
    after(() => child?.kill());

    it('answers -32700 to a line that is not JSON, -32600 to JSON that is not JSON-RPC and to a line over 10 MB, and keeps serving', async () => {
      send('take a screenshot of example.com please');
      const notJson = await nextAnswer();
      assert.equal(notJson.id, null);
      assert.equal(notJson.error?.code, -32700);
      assert.match(notJson.error!.message, /^Parse error: the line is not JSON/);

      send('{"jsonrpc":"2.0","id":7,"method":42}');
      const badMethod = await nextAnswer();
      assert.deepEqual([badMethod.id, badMethod.error?.code], [7, -32600]);
      assert.match(badMethod.error!.message, /^Invalid Request: not a JSON-RPC 2\.0 message/);

      send('["not", "a", "message"]');
      assert.deepEqual(await nextAnswer().then((a) => [a.id, a.error?.code]), [null, -32600]);

      // 11 MB on one line: refused at the 10 MB mark, the rest of the line skipped, the session kept.
      send(
        `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"account","arguments":{"pad":"${'x'.repeat(11 * 1024 * 1024)}"}}}`,
      );
      const tooLong = await nextAnswer();
      assert.deepEqual([tooLong.id, tooLong.error?.code], [null, -32600]);
      assert.match(
        tooLong.error!.message,
        /a message is at most 10 MB \(one line of JSON\); this line was longer/,
      );

      // Still serving: the handshake and a tool call that reaches the service.
      send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 'by-hand', version: '1' },
          },
        }),
      );
      const initialized = await nextAnswer();
      assert.equal(initialized.id, 1);
      assert.equal((initialized.result?.serverInfo as { name: string }).name, 'snapwire');
      send('{"jsonrpc":"2.0","method":"notifications/initialized"}');
      send('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"account","arguments":{}}}');
      const account = await nextAnswer();
      assert.equal(account.id, 2);
      const content = account.result?.content as { text: string }[];
      assert.equal(JSON.parse(content[0]!.text).project.name, 'default');
      assert.equal(child.exitCode, null, 'the process is still running');
      assert.equal(answers.length, 6, 'one answer per line that asked for one');
    });
  });

  describe('image fitting', () => {
    it('shrinks a tall capture to fit 8000 px of height too, keeping the aspect ratio', async () => {
      const sharp = (await import('sharp')).default;
      const tall = await sharp({
        create: { width: 1000, height: 20_000, channels: 3, background: { r: 0, g: 128, b: 255 } },
      })
        .png()
        .toBuffer();
      const fitted = await downscale(tall, 'image/png', 1280);
      assert.deepEqual([fitted.width, fitted.height, fitted.resized], [400, 8000, true]);
      const small = await downscale(tall.subarray(0), 'image/png', 2000);
      assert.equal(small.height, 8000);
      const narrow = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#fff' } })
        .jpeg()
        .toBuffer();
      const untouched = await downscale(narrow, 'image/jpeg', 1280);
      assert.equal(untouched.data, narrow, 'an image that fits is passed through');
    });
  });

  describe('over streamable HTTP (/mcp)', () => {
    const connect = async (url: string, headers: Record<string, string> = {}) => {
      const client = new Client({ name: 'http-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
      return client;
    };

    it('refuses a missing or wrong key with 401', async () => {
      await assert.rejects(() => connect(`${service.baseUrl}/mcp`), /401|Unauthorized|Missing API key/);
      await assert.rejects(
        () => connect(`${service.baseUrl}/mcp`, { authorization: 'Bearer scp-live-wrong' }),
        /401|Unauthorized|Invalid API key/,
      );
      const get = await fetch(`${service.baseUrl}/mcp?key=${LIVE_KEY}`);
      assert.equal(get.status, 405);
    });

    it('takes a screenshot with the key as Authorization: Bearer, then finds its log', async () => {
      const client = await connect(`${service.baseUrl}/mcp`, { authorization: `Bearer ${LIVE_KEY}` });
      try {
        const { tools } = await client.listTools();
        assert.deepEqual(tools.map((tool) => tool.name).sort(), TOOLS);
        const result = await call(client, 'screenshot', {
          url: `http://fixtures.test:${fixtures.port}/solid`,
          resolution: '1600x900',
          rendering_wait: 0,
        });
        assert.equal(result.isError, undefined, textOf(result));
        const image = imageOf(result)!;
        assert.equal(image.mimeType, 'image/jpeg');
        const shown = await decode(Buffer.from(image.data, 'base64'));
        assert.equal(shown.width, 1280, 'shrunk to the default max_width');
        const logUuid = /log_uuid (\S+)\)/.exec(textOf(result))?.[1];
        assert.ok(logUuid);

        const log = await call(client, 'get_log', { log_uuid: logUuid });
        assert.equal(log.isError, undefined, textOf(log));
        const record = JSON.parse(textOf(log));
        assert.equal(record.status, 'success');
        assert.equal(record.upstream_status, 200);
        assert.equal(record.url, `http://fixtures.test:${fixtures.port}/solid`);

        const listed = await call(client, 'list_logs', { status: 'success', limit: 5 });
        assert.match(textOf(listed), new RegExp(`${logUuid} success upstream 200 http://fixtures\\.test`));

        // Another project's key sees none of it.
        const { keys } = await service.snapwire.services.projects.create('other', 'PRO');
        const stranger = await connect(`${service.baseUrl}/mcp`, { authorization: `Bearer ${keys.LIVE}` });
        try {
          const hidden = await call(stranger, 'get_log', { log_uuid: logUuid });
          assert.equal(hidden.isError, true);
          assert.match(textOf(hidden), /^ERR::API::NOT_FOUND/);
          assert.equal(textOf(await call(stranger, 'list_logs')), 'No logs match.');
        } finally {
          await stranger.close();
        }
      } finally {
        await client.close();
      }
    });

    it('queues screenshot_async to a named webhook (key in the query) and lists webhooks', async () => {
      const sdk = new SnapwireClient({ host: service.baseUrl, key: LIVE_KEY });
      await sdk.createWebhook({ name: 'mcp-hook', url: `http://hooks.test:${new URL(receiver.url).port}/` });
      const client = await connect(`${service.baseUrl}/mcp?key=${LIVE_KEY}`);
      try {
        const hooks = JSON.parse(textOf(await call(client, 'list_webhooks')));
        assert.deepEqual(
          hooks.map((hook: { name: string; enabled: boolean }) => [hook.name, hook.enabled]),
          [['mcp-hook', true]],
        );
        const queued = await call(client, 'screenshot_async', {
          url: `http://fixtures.test:${fixtures.port}/solid`,
          webhook_name: 'mcp-hook',
          format: 'png',
          rendering_wait: 0,
        });
        assert.equal(queued.isError, undefined, textOf(queued));
        const job = JSON.parse(textOf(queued));
        assert.match(job.job_uuid, /\S+/);
        // The ping, then the screenshot, arrive at the receiver.
        const received = await receiver.waitFor(2, 60_000);
        const delivered = received.find((r) => r.headers['x-scrapfly-webhook-job-id'] === job.job_uuid);
        assert.ok(delivered, 'the screenshot was delivered');
        assert.equal(delivered.headers['content-type'], 'image/png');

        const unknown = await call(client, 'screenshot_async', {
          url: `http://fixtures.test:${fixtures.port}/solid`,
          webhook_name: 'no-such-hook',
        });
        assert.equal(unknown.isError, true);
        assert.match(textOf(unknown), /^ERR::WEBHOOK::/);
      } finally {
        await client.close();
      }
    });
  });
});
