import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { after, before, describe, it } from 'node:test';
import { S3BlobStore } from '../../src/results/s3-blob-store.js';
import { startS3, S3_CREDENTIALS, type TestS3 } from '../helpers/s3-server.js';
import { waitUntil } from '../helpers/wait-until.js';

/** The S3 blob store against a real S3-compatible server on loopback (test/helpers/s3-server.ts). */
describe('S3 blob store', () => {
  let s3: TestS3;
  let nodeA: S3BlobStore;
  let nodeB: S3BlobStore;
  const open = (prefix = 'fleet', endpoint = s3.endpoint, touchFreshMs = 3_600_000) =>
    new S3BlobStore({
      touchFreshMs,
      bucket: s3.bucket,
      prefix,
      endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: S3_CREDENTIALS,
    });
  const lastModified = async (store: S3BlobStore, key: string) =>
    (
      await store.client.send(
        new HeadObjectCommand({ Bucket: s3.bucket, Key: `fleet/${key.slice(0, 2)}/${key}` }),
      )
    ).LastModified?.getTime() ?? 0;

  before(async () => {
    s3 = await startS3();
    nodeA = open();
    nodeB = open();
  });
  after(async () => {
    nodeA?.close();
    nodeB?.close();
    await s3?.close();
  });

  it('stores content-addressed bytes that another node reads back', async () => {
    const bytes = Buffer.from('a screenshot taken by node A');
    const key = await nodeA.put(bytes);
    assert.equal(key, createHash('sha256').update(bytes).digest('hex'));
    assert.deepEqual(await nodeB.get(key), bytes, 'node B reads what node A stored');
    assert.equal(await nodeB.has(key), true);
    assert.equal(await nodeA.put(bytes), key, 'the same bytes are the same object');
  });

  it('answers undefined only for a blob that does not exist', async () => {
    const missing = 'f'.repeat(64);
    assert.equal(await nodeA.get(missing), undefined);
    assert.equal(await nodeA.has(missing), false);
    assert.equal(await nodeA.touch(missing), false);
    assert.equal(await nodeA.get('../../etc/passwd'), undefined, 'not a key: never sent to the store');
  });

  it('a presigned URL serves the bytes with the content type', async () => {
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const key = await nodeA.put(bytes);
    const url = await nodeB.presignedUrl(key, 'image/jpeg');
    assert.match(url, /X-Amz-Signature=/);
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'image/jpeg');
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), bytes);
  });

  it('touch restarts retention and sweep deletes only what is older than the cutoff', async () => {
    const sweeper = open();
    const old = await nodeA.put(Buffer.from('old capture'));
    const kept = await nodeA.put(Buffer.from('capture referenced again'));
    const before = await lastModified(nodeA, kept);
    assert.equal(await nodeB.touch(kept), true);
    assert.equal(await lastModified(nodeA, kept), before, 'a blob written within the hour is left alone');
    // A node that touches every time (freshness 0); LastModified has one-second precision, so touch
    // until it moves past the first write.
    const toucher = open('fleet', s3.endpoint, 0);
    await waitUntil(async () => (await toucher.touch(kept)) && (await lastModified(nodeA, kept)) > before, {
      timeoutMs: 5_000,
      what: 'a touch to move LastModified',
    });
    toucher.close();
    const cutoff = (await lastModified(nodeA, kept)) - 1;
    const swept = await sweeper.sweep(cutoff);
    assert.ok(swept.deleted >= 1 && swept.bytes > 0, JSON.stringify(swept));
    assert.equal(await sweeper.has(old), false, 'the unreferenced blob is gone');
    assert.equal(await nodeA.has(kept), true, 'the touched blob stays');
    assert.deepEqual(await sweeper.get(kept), Buffer.from('capture referenced again'));
    sweeper.close();
  });

  it('another prefix is another store', async () => {
    const other = open('other-fleet');
    const key = await nodeA.put(Buffer.from('prefix check'));
    assert.equal(await other.has(key), false);
    other.close();
  });

  it('an unreachable store throws instead of answering "missing"', async () => {
    const down = open('fleet', 'http://127.0.0.1:1');
    await assert.rejects(down.put(Buffer.from('x')));
    await assert.rejects(down.get('a'.repeat(64)));
    down.close();
  });
});
