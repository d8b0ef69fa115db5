// The receiver as users meet it around rotations and replays (issue 12), and `snapwire listen`'s files
// for an error delivery, each on a real node:http server over loopback.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { createWebhookReceiver, runListener, signPayload, type WebhookDelivery } from '../src/index.js';
import { PNG_1X1, startServer, waitFor, type Loopback } from './helpers.js';

const OLD = 'whsec-old-0123456789';
const NEW = 'whsec-new-0123456789';
const JOB = 'a0e6f3e8-be35-438a-942a-be77aa545d30';

function signed(body: Buffer, secret: string, extra: Record<string, string> = {}): Record<string, string> {
  const signature = signPayload(body, secret);
  return {
    'content-type': 'image/png',
    'x-scrapfly-webhook-job-id': JOB,
    'x-scrapfly-webhook-resource-type': 'screenshot',
    'x-scrapfly-webhook-signature': signature,
    'x-scrapfly-webhook-signature-lowercase': signature.toLowerCase(),
    ...extra,
  };
}

const servers: Loopback[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

async function serve(secret: string) {
  const received: WebhookDelivery[] = [];
  const receiver = createWebhookReceiver({
    secrets: secret,
    onScreenshot: (delivery) => {
      received.push(delivery);
    },
    logger: {},
  });
  const server = await startServer(receiver);
  servers.push(server);
  return { receiver, received, url: `${server.url}/webhook` };
}

const post = (url: string, body: Buffer, headers: Record<string, string>) =>
  fetch(url, { method: 'POST', body: new Uint8Array(body), headers });

describe('receiver during a secret rotation and on replays', () => {
  it('keeps accepting deliveries with the old secret during the grace period (Signature-Previous)', async () => {
    const { receiver, received, url } = await serve(OLD);
    // After rotation the server signs with the new secret and, during the grace period, the old one too.
    const headers = signed(PNG_1X1, NEW, {
      'x-scrapfly-webhook-signature-previous': signPayload(PNG_1X1, OLD),
    });
    assert.equal((await post(url, PNG_1X1, headers)).status, 200);
    // After the grace period the previous signature is gone: the old secret no longer verifies.
    const after = signed(PNG_1X1, NEW, { 'x-scrapfly-webhook-job-id': 'another-job' });
    assert.equal((await post(url, PNG_1X1, after)).status, 401);
    await receiver.drain();
    assert.equal(received.length, 1);
  });

  it('lets an explicit replay (new delivery id) through, and still drops a retry of the same delivery', async () => {
    const { receiver, received, url } = await serve(NEW);
    const first = signed(PNG_1X1, NEW, { 'x-scrapfly-webhook-delivery-id': JOB });
    assert.equal((await post(url, PNG_1X1, first)).status, 200);
    const retry = await post(url, PNG_1X1, first);
    assert.deepEqual(await retry.json(), { status: 'duplicate', job_id: JOB });
    const replay = signed(PNG_1X1, NEW, { 'x-scrapfly-webhook-delivery-id': 'replay-7d1f' });
    assert.deepEqual(await (await post(url, PNG_1X1, replay)).json(), { status: 'accepted', job_id: JOB });
    await receiver.drain();
    assert.equal(received.length, 2, 'the original and the replay reached the callback');
  });
});

describe('snapwire listen with an error delivery', () => {
  it('writes the error body and its metadata to different files', async () => {
    const outDir = path.join(await mkdtemp(path.join(tmpdir(), 'snapwire-listen-')), 'shots');
    const listener = await runListener({ port: 0, host: '127.0.0.1', secrets: NEW, outDir, log: () => {} });
    try {
      const body = Buffer.from(JSON.stringify({ code: 'ERR::SCRAPE::OPERATION_TIMEOUT', http_code: 504 }));
      const response = await post(
        listener.url,
        body,
        signed(body, NEW, { 'content-type': 'application/json' }),
      );
      assert.equal(response.status, 200);
      // The sidecar is written last (under a temporary name, then renamed).
      await waitFor(async () => (await readdir(outDir)).includes(`${JOB}.meta.json`));
      const files = (await readdir(outDir)).sort();
      assert.deepEqual(files, [`${JOB}.json`, `${JOB}.meta.json`]);
      assert.deepEqual(JSON.parse(await readFile(path.join(outDir, `${JOB}.json`), 'utf8')), {
        code: 'ERR::SCRAPE::OPERATION_TIMEOUT',
        http_code: 504,
      });
      const metadata = JSON.parse(await readFile(path.join(outDir, `${JOB}.meta.json`), 'utf8'));
      assert.equal(metadata.jobId, JOB);
      assert.equal(metadata.file, `${JOB}.json`);
    } finally {
      await listener.close();
      await rm(path.dirname(outDir), { recursive: true, force: true });
    }
  });
});
