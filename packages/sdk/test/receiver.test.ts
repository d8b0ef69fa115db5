// createWebhookReceiver on a real node:http server, plus the fastify plugin (real fastify) and the
// express middleware (driven by node:http, as express hands it a node request and response).
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { gzipSync } from 'node:zlib';
import { after, afterEach, describe, it } from 'node:test';
import {
  createExpressWebhookMiddleware,
  createWebhookReceiver,
  signPayload,
  snapwireFastifyPlugin,
  type WebhookDelivery,
  type WebhookReceiverOptions,
} from '../src/index.js';
import { PNG_1X1, deferred, rawPost, readBody, startServer, waitFor, type Loopback } from './helpers.js';

const SECRET = 'whsec-test-0123456789';

function deliveryHeaders(
  body: Buffer,
  overrides: Record<string, string> = {},
  secret = SECRET,
): Record<string, string> {
  const signature = signPayload(body, secret);
  return {
    'content-type': 'image/png',
    'user-agent': 'Scrapfly/Webhook',
    'x-scrapfly-webhook-env': 'LIVE',
    'x-scrapfly-webhook-project': 'default',
    'x-scrapfly-webhook-name': 'my-webhook',
    'x-scrapfly-webhook-id': 'cdf37252-fea7-4267-a568-aa0e5964ee21',
    'x-scrapfly-webhook-job-id': 'a0e6f3e8-be35-438a-942a-be77aa545d30',
    'x-scrapfly-webhook-resource-type': 'screenshot',
    'x-scrapfly-webhook-signature': signature,
    'x-scrapfly-webhook-signature-lowercase': signature.toLowerCase(),
    'x-scrapfly-log-uuid': '01J00000000000000000000LOG',
    'x-scrapfly-log-url': 'http://127.0.0.1:8080/logs/01J00000000000000000000LOG',
    ...overrides,
  };
}

const post = (url: string, body: Buffer, headers: Record<string, string>) =>
  fetch(url, { method: 'POST', body: new Uint8Array(body), headers });

const servers: Loopback[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

async function serve(options: Partial<WebhookReceiverOptions> = {}) {
  const received: WebhookDelivery[] = [];
  const logs: string[] = [];
  const receiver = createWebhookReceiver({
    secrets: SECRET,
    onScreenshot: (delivery) => {
      received.push(delivery);
    },
    logger: {
      info: (m) => logs.push(`info ${m}`),
      warn: (m) => logs.push(`warn ${m}`),
      error: (m) => logs.push(`error ${m}`),
    },
    ...options,
  });
  const server = await startServer(receiver);
  servers.push(server);
  return { receiver, received, logs, url: `${server.url}/webhook` };
}

describe('createWebhookReceiver (node:http)', () => {
  it('verifies the signature and hands the callback the image and the metadata', async () => {
    const { receiver, received, url } = await serve();
    const response = await post(url, PNG_1X1, deliveryHeaders(PNG_1X1));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      status: 'accepted',
      job_id: 'a0e6f3e8-be35-438a-942a-be77aa545d30',
    });
    await receiver.drain();
    assert.equal(received.length, 1);
    const delivery = received[0]!;
    assert.deepEqual(delivery.image, PNG_1X1);
    assert.equal(delivery.contentType, 'image/png');
    assert.equal(delivery.extension, 'png');
    assert.equal(delivery.jobId, 'a0e6f3e8-be35-438a-942a-be77aa545d30');
    assert.equal(delivery.logUuid, '01J00000000000000000000LOG');
    assert.equal(delivery.logUrl, 'http://127.0.0.1:8080/logs/01J00000000000000000000LOG');
    assert.equal(delivery.webhookName, 'my-webhook');
    assert.equal(delivery.webhookUuid, 'cdf37252-fea7-4267-a568-aa0e5964ee21');
    assert.equal(delivery.project, 'default');
    assert.equal(delivery.env, 'LIVE');
    assert.equal(delivery.resourceType, 'screenshot');
    assert.equal(delivery.headers['user-agent'], 'Scrapfly/Webhook');
  });

  it('refuses a bad, missing or wrong-secret signature with 401 and never calls back', async () => {
    const { receiver, received, logs, url } = await serve();
    const headers = deliveryHeaders(PNG_1X1);
    const tampered = Buffer.from(PNG_1X1);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 0xff, tampered.length - 1);
    const cases: Array<[Buffer, Record<string, string>]> = [
      [tampered, headers],
      [
        PNG_1X1,
        {
          ...headers,
          'x-scrapfly-webhook-signature': '0'.repeat(64),
          'x-scrapfly-webhook-signature-lowercase': '',
        },
      ],
      [PNG_1X1, deliveryHeaders(PNG_1X1, {}, 'another-secret')],
      [
        PNG_1X1,
        Object.fromEntries(
          Object.entries(headers).filter(([name]) => !name.startsWith('x-scrapfly-webhook-signature')),
        ),
      ],
      [
        PNG_1X1,
        {
          ...headers,
          'x-scrapfly-webhook-signature': 'garbage',
          'x-scrapfly-webhook-signature-lowercase': 'garbage',
        },
      ],
    ];
    for (const [body, h] of cases) {
      const response = await post(url, body, h);
      assert.equal(response.status, 401);
      assert.deepEqual(await response.json(), { status: 'unauthorized', error: 'invalid signature' });
    }
    await receiver.drain();
    assert.equal(received.length, 0);
    assert.equal(logs.filter((l) => l.startsWith('warn webhook delivery refused')).length, cases.length);
  });

  it('accepts the lowercase header alone, either case, and rotated secrets', async () => {
    const { receiver, received, url } = await serve({ secrets: ['new-secret', SECRET], dedupWindow: 0 });
    const signature = signPayload(PNG_1X1, SECRET);
    const base = deliveryHeaders(PNG_1X1);
    delete base['x-scrapfly-webhook-signature'];
    assert.equal(
      (
        await post(url, PNG_1X1, {
          ...base,
          'x-scrapfly-webhook-signature-lowercase': signature.toLowerCase(),
        })
      ).status,
      200,
    );
    assert.equal((await post(url, PNG_1X1, deliveryHeaders(PNG_1X1, {}, 'new-secret'))).status, 200);
    assert.equal(
      (
        await post(url, PNG_1X1, {
          ...deliveryHeaders(PNG_1X1),
          'x-scrapfly-webhook-signature': signature.toLowerCase(),
        })
      ).status,
      200,
    );
    await receiver.drain();
    assert.equal(received.length, 3);
  });

  it('dedups a repeated job id: both acknowledged 200, the callback called once', async () => {
    const { receiver, received, logs, url } = await serve();
    const first = await post(url, PNG_1X1, deliveryHeaders(PNG_1X1));
    const second = await post(url, PNG_1X1, deliveryHeaders(PNG_1X1));
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal(((await second.json()) as { status: string }).status, 'duplicate');
    const other = await post(
      url,
      PNG_1X1,
      deliveryHeaders(PNG_1X1, { 'x-scrapfly-webhook-job-id': 'job-2' }),
    );
    assert.equal(((await other.json()) as { status: string }).status, 'accepted');
    await receiver.drain();
    assert.deepEqual(
      received.map((d) => d.jobId),
      ['a0e6f3e8-be35-438a-942a-be77aa545d30', 'job-2'],
    );
    assert.ok(logs.some((l) => l.includes('duplicate')));
  });

  it('keeps dedup memory bounded by entries and by the time window', async () => {
    let now = 1_000_000;
    const { receiver, received, url } = await serve({
      dedupMaxEntries: 2,
      dedupWindow: 60_000,
      now: () => now,
    });
    const send = (jobId: string) =>
      post(url, PNG_1X1, deliveryHeaders(PNG_1X1, { 'x-scrapfly-webhook-job-id': jobId }));
    for (const id of ['a', 'b', 'c']) assert.equal((await send(id)).status, 200);
    await send('c'); // duplicate: still remembered
    await send('a'); // evicted by size (oldest of three with room for two): processed again
    now += 61_000;
    await send('a'); // window elapsed: processed again
    await receiver.drain();
    assert.deepEqual(
      received.map((d) => d.jobId),
      ['a', 'b', 'c', 'a', 'a'],
    );
  });

  it('ignores unwanted resource types with 200 and routes pings to onPing', async () => {
    const pings: WebhookDelivery[] = [];
    const { receiver, received, url } = await serve({ onPing: (d) => void pings.push(d) });
    for (const type of ['scrape', 'crawl', 'extraction', '']) {
      const response = await post(
        url,
        PNG_1X1,
        deliveryHeaders(PNG_1X1, {
          'x-scrapfly-webhook-resource-type': type,
          'x-scrapfly-webhook-job-id': `j-${type}`,
        }),
      );
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as { status: string }).status, 'ignored');
    }
    const pingBody = Buffer.from(JSON.stringify({ ping: true }));
    const ping = await post(
      url,
      pingBody,
      deliveryHeaders(pingBody, {
        'content-type': 'application/json',
        'x-scrapfly-webhook-resource-type': 'ping',
        'x-scrapfly-webhook-job-id': 'ping-1',
      }),
    );
    assert.equal(ping.status, 200);
    await receiver.drain();
    assert.equal(received.length, 0);
    assert.equal(pings.length, 1);
    assert.deepEqual(JSON.parse(pings[0]!.image.toString('utf8')), { ping: true });

    // Opting in to another resource type.
    const opted = await serve({ resourceTypes: ['screenshot', 'scrape'] });
    const r = await post(
      opted.url,
      PNG_1X1,
      deliveryHeaders(PNG_1X1, { 'x-scrapfly-webhook-resource-type': 'scrape' }),
    );
    assert.equal(r.status, 200);
    await opted.receiver.drain();
    assert.equal(opted.received[0]?.resourceType, 'scrape');
  });

  it('answers 200 before a slow callback finishes', async () => {
    const gate = deferred();
    let callbackStarted = false;
    let callbackDone = false;
    const { receiver, url } = await serve({
      onScreenshot: async () => {
        callbackStarted = true;
        await gate.promise;
        callbackDone = true;
      },
    });
    const started = Date.now();
    const response = await post(url, PNG_1X1, deliveryHeaders(PNG_1X1));
    assert.equal(response.status, 200);
    assert.equal(callbackDone, false, 'the response arrived while the callback was still running');
    assert.ok(Date.now() - started < 2000);
    await waitFor(() => callbackStarted);
    assert.equal(receiver.pending, 1);
    gate.resolve();
    await receiver.drain();
    assert.equal(callbackDone, true);
    assert.equal(receiver.pending, 0);
  });

  it('logs a failing callback, still answers 200, and lets a redelivery try again', async () => {
    let calls = 0;
    const { receiver, logs, url } = await serve({
      onScreenshot: async () => {
        calls++;
        if (calls === 1) throw new Error('disk full');
      },
    });
    assert.equal((await post(url, PNG_1X1, deliveryHeaders(PNG_1X1))).status, 200);
    await receiver.drain();
    assert.ok(logs.some((l) => l.startsWith('error webhook callback failed') && l.includes('disk full')));
    assert.equal((await post(url, PNG_1X1, deliveryHeaders(PNG_1X1))).status, 200);
    await receiver.drain();
    assert.equal(calls, 2);
  });

  it('refuses bodies over maxBodyBytes with 413 (declared length and chunked)', async () => {
    const { receiver, received, url } = await serve({ maxBodyBytes: 1024 });
    const big = Buffer.alloc(64 * 1024, 7);
    const declared = await rawPost(url, { headers: deliveryHeaders(big), body: big });
    assert.equal(declared.status, 413);
    assert.equal(JSON.parse(declared.body.toString()).status, 'too_large');
    const chunked = await rawPost(url, {
      headers: { ...deliveryHeaders(big), 'transfer-encoding': 'chunked' },
      chunks: Array.from({ length: 16 }, (_, i) => big.subarray(i * 4096, (i + 1) * 4096)),
    });
    assert.equal(chunked.status, 413);
    const small = Buffer.alloc(1024, 1);
    assert.equal((await post(url, small, deliveryHeaders(small))).status, 200);
    await receiver.drain();
    assert.equal(received.length, 1);
  });

  it('answers 405 to other methods and 404 off its path', async () => {
    const { url } = await serve({ path: '/webhook' });
    const get = await fetch(url);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    const elsewhere = await post(url.replace('/webhook', '/other'), PNG_1X1, deliveryHeaders(PNG_1X1));
    assert.equal(elsewhere.status, 404);
  });

  it('accepts a gzip-encoded delivery signed over the decoded bytes and hands over the decoded image', async () => {
    const { receiver, received, url } = await serve();
    const headers = { ...deliveryHeaders(PNG_1X1), 'content-encoding': 'gzip' };
    const response = await post(url, gzipSync(PNG_1X1), headers);
    assert.equal(response.status, 200);
    await receiver.drain();
    assert.deepEqual(received[0]?.image, PNG_1X1);
  });

  it('refuses to start without a secret', () => {
    assert.throws(() => createWebhookReceiver({ secrets: [], onScreenshot: () => {} }), TypeError);
    assert.throws(() => createWebhookReceiver({ secrets: '', onScreenshot: () => {} }), TypeError);
  });
});

describe('snapwireFastifyPlugin (real fastify)', () => {
  const apps: Array<{ close(): Promise<unknown> }> = [];
  after(async () => {
    for (const app of apps) await app.close();
  });

  it('gets the raw bytes for images and JSON pings, verifies, dedups, answers 413 when too big', async () => {
    const { default: Fastify } = await import('fastify');
    const app = Fastify();
    apps.push(app);
    const received: WebhookDelivery[] = [];
    const pings: WebhookDelivery[] = [];
    // The app's own JSON routes keep the default parsers: the plugin's raw parser is encapsulated.
    app.post('/echo', async (request) => ({ parsed: request.body }));
    await app.register(snapwireFastifyPlugin, {
      secrets: SECRET,
      path: '/hooks/scrapfly',
      maxBodyBytes: 32 * 1024,
      onScreenshot: (d) => void received.push(d),
      onPing: (d) => void pings.push(d),
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `${base}/hooks/scrapfly`;

    assert.equal((await post(url, PNG_1X1, deliveryHeaders(PNG_1X1))).status, 200);
    const dup = await post(url, PNG_1X1, deliveryHeaders(PNG_1X1));
    assert.equal(((await dup.json()) as { status: string }).status, 'duplicate');
    // JSON with unusual spacing: re-serialising it would break the signature, the raw bytes do not.
    const pingBody = Buffer.from('{ "ping" :true,  "n": 1.50 }');
    const ping = await post(
      url,
      pingBody,
      deliveryHeaders(pingBody, {
        'content-type': 'application/json',
        'x-scrapfly-webhook-resource-type': 'ping',
        'x-scrapfly-webhook-job-id': 'ping-1',
      }),
    );
    assert.equal(ping.status, 200);
    const bad = await post(url, PNG_1X1, {
      ...deliveryHeaders(PNG_1X1),
      'x-scrapfly-webhook-signature': 'A'.repeat(64),
      'x-scrapfly-webhook-signature-lowercase': '',
    });
    assert.equal(bad.status, 401);
    const big = Buffer.alloc(64 * 1024, 1);
    assert.equal((await rawPost(url, { headers: deliveryHeaders(big), body: big })).status, 413);
    const echo = await fetch(`${base}/echo`, {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    assert.deepEqual(await echo.json(), { parsed: { a: 1 } });

    await waitFor(() => received.length === 1 && pings.length === 1);
    assert.deepEqual(received[0]!.image, PNG_1X1);
    assert.deepEqual(pings[0]!.image, pingBody);
  });
});

describe('createExpressWebhookMiddleware', () => {
  it('works behind express.raw (req.body is the Buffer), on an unread stream, and refuses a parsed body', async () => {
    const received: WebhookDelivery[] = [];
    const middleware = createExpressWebhookMiddleware({
      secrets: SECRET,
      dedupWindow: 0,
      onScreenshot: (d) => void received.push(d),
    });
    const errors: unknown[] = [];
    const server = await startServer(async (req, res) => {
      const mode = req.url;
      const expressReq = req as typeof req & { body?: unknown };
      if (mode === '/raw') expressReq.body = await readBody(req); // what express.raw({ type: '*/*' }) does
      if (mode === '/json') expressReq.body = JSON.parse((await readBody(req)).toString() || '{}'); // express.json()
      middleware(expressReq, res, (error) => {
        errors.push(error);
        res.statusCode = 500;
        res.end('next(error)');
      });
    });
    servers.push(server);
    assert.equal((await post(`${server.url}/raw`, PNG_1X1, deliveryHeaders(PNG_1X1))).status, 200);
    assert.equal((await post(`${server.url}/stream`, PNG_1X1, deliveryHeaders(PNG_1X1))).status, 200);
    assert.equal(
      (await post(`${server.url}/stream`, PNG_1X1, deliveryHeaders(PNG_1X1, {}, 'wrong'))).status,
      401,
    );
    const json = Buffer.from('{"a":1}');
    assert.equal((await post(`${server.url}/json`, json, deliveryHeaders(json))).status, 500);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /raw body/);
    await waitFor(() => received.length === 2);
    assert.deepEqual(received[0]!.image, PNG_1X1);
    assert.deepEqual(received[1]!.image, PNG_1X1);
  });
});
