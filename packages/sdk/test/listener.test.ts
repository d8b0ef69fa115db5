// runListener (`snapwire listen`): a real server on 127.0.0.1 that saves deliveries to a temporary folder.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileStem, runListener, signPayload, type RunningListener } from '../src/index.js';
import { PNG_1X1, waitFor } from './helpers.js';

const SECRET = 'listen-secret';

function headers(body: Buffer, jobId: string, extra: Record<string, string> = {}, secret = SECRET) {
  const signature = signPayload(body, secret);
  return {
    'content-type': 'image/png',
    'x-scrapfly-webhook-env': 'TEST',
    'x-scrapfly-webhook-project': 'default',
    'x-scrapfly-webhook-name': 'dev',
    'x-scrapfly-webhook-id': 'wh-uuid-1',
    'x-scrapfly-webhook-job-id': jobId,
    'x-scrapfly-webhook-resource-type': 'screenshot',
    'x-scrapfly-webhook-signature': signature,
    'x-scrapfly-webhook-signature-lowercase': signature.toLowerCase(),
    'x-scrapfly-log-uuid': `log-${jobId}`,
    'x-scrapfly-log-url': `http://127.0.0.1/logs/log-${jobId}`,
    ...extra,
  };
}

describe('runListener', () => {
  let outDir: string;
  let listener: RunningListener;
  const lines: string[] = [];

  before(async () => {
    outDir = path.join(await mkdtemp(path.join(tmpdir(), 'snapwire-listen-')), 'shots');
    listener = await runListener({
      port: 0,
      host: '127.0.0.1',
      secrets: SECRET,
      outDir,
      log: (l) => lines.push(l),
    });
  });
  after(async () => {
    await listener.close();
    await rm(path.dirname(outDir), { recursive: true, force: true });
  });

  it('listens on a loopback URL and creates the output folder', async () => {
    assert.match(listener.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(listener.port > 0);
    assert.deepEqual(await readdir(outDir), []);
    assert.ok(lines.some((l) => l.includes('listening on')));
  });

  it('saves <jobId>.<ext> with the image and a <jobId>.json sidecar, printing one line', async () => {
    const before = lines.length;
    const response = await fetch(listener.url, {
      method: 'POST',
      body: PNG_1X1,
      headers: headers(PNG_1X1, 'job-png-1'),
    });
    assert.equal(response.status, 200);
    const sidecarFile = path.join(outDir, 'job-png-1.json');
    await waitFor(async () => (await readdir(outDir)).includes('job-png-1.json'));
    assert.deepEqual(await readFile(path.join(outDir, 'job-png-1.png')), PNG_1X1);
    const sidecar = JSON.parse(await readFile(sidecarFile, 'utf8'));
    assert.equal(sidecar.jobId, 'job-png-1');
    assert.equal(sidecar.file, 'job-png-1.png');
    assert.equal(sidecar.contentType, 'image/png');
    assert.equal(sidecar.bytes, PNG_1X1.length);
    assert.equal(sidecar.webhookName, 'dev');
    assert.equal(sidecar.webhookUuid, 'wh-uuid-1');
    assert.equal(sidecar.env, 'TEST');
    assert.equal(sidecar.project, 'default');
    assert.equal(sidecar.logUuid, 'log-job-png-1');
    assert.equal(sidecar.headers['x-scrapfly-webhook-job-id'], 'job-png-1');
    assert.equal(sidecar.headers['content-type'], 'image/png');
    await waitFor(() => lines.length > before);
    const printed = lines.slice(before);
    assert.equal(printed.length, 1);
    assert.match(printed[0]!, /screenshot job=job-png-1 webhook=dev \d+ B image\/png -> .*job-png-1\.png$/);
  });

  it('takes the extension from the content type', async () => {
    for (const [type, ext] of [
      ['image/jpeg', 'jpeg'],
      ['image/webp', 'webp'],
      ['image/gif', 'gif'],
    ] as const) {
      const body = Buffer.from(`fake ${type}`);
      const jobId = `job-${ext}`;
      const res = await fetch(listener.url, {
        method: 'POST',
        body,
        headers: headers(body, jobId, { 'content-type': type }),
      });
      assert.equal(res.status, 200);
      await waitFor(async () => (await readdir(outDir)).includes(`${jobId}.json`));
      assert.deepEqual(await readFile(path.join(outDir, `${jobId}.${ext}`)), body);
    }
  });

  it('keeps a hostile job id inside the output folder', async () => {
    const jobId = '../../etc/evil';
    const res = await fetch(listener.url, {
      method: 'POST',
      body: PNG_1X1,
      headers: headers(PNG_1X1, jobId),
    });
    assert.equal(res.status, 200);
    const stem = fileStem(jobId);
    assert.equal(stem, '_.._etc_evil');
    await waitFor(async () => (await readdir(outDir)).includes(`${stem}.json`));
    assert.deepEqual(await readFile(path.join(outDir, `${stem}.png`)), PNG_1X1);
  });

  it('saves nothing for a bad signature and prints the refusal', async () => {
    const filesBefore = (await readdir(outDir)).length;
    const before = lines.length;
    const res = await fetch(listener.url, {
      method: 'POST',
      body: PNG_1X1,
      headers: headers(PNG_1X1, 'job-forged', {}, 'not-the-secret'),
    });
    assert.equal(res.status, 401);
    assert.equal((await readdir(outDir)).length, filesBefore);
    assert.equal(lines.length, before + 1);
    assert.match(lines.at(-1)!, /refused: bad signature/);
  });

  it('logs pings and duplicates without writing files', async () => {
    const filesBefore = (await readdir(outDir)).length;
    const pingBody = Buffer.from('{"ping":true}');
    const before = lines.length;
    const ping = await fetch(listener.url, {
      method: 'POST',
      body: pingBody,
      headers: headers(pingBody, 'ping-1', {
        'content-type': 'application/json',
        'x-scrapfly-webhook-resource-type': 'ping',
      }),
    });
    assert.equal(ping.status, 200);
    const dup = await fetch(listener.url, {
      method: 'POST',
      body: PNG_1X1,
      headers: headers(PNG_1X1, 'job-png-1'),
    });
    assert.equal(dup.status, 200);
    await waitFor(() => lines.length >= before + 2);
    assert.ok(lines.slice(before).some((l) => / ping job=ping-1 /.test(l)));
    assert.ok(lines.slice(before).some((l) => /duplicate: job job-png-1/.test(l)));
    assert.equal((await readdir(outDir)).length, filesBefore);
    assert.equal(
      (await readdir(outDir)).some((f) => f.endsWith('.tmp')),
      false,
    );
  });
});
