import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// s3rver: an S3-compatible server written in Node, installed from the npm registry like any dev
// dependency, started in-process on loopback. It speaks the S3 REST API the store uses (SigV4-signed
// Put/Get/Head/Copy/ListObjectsV2/DeleteObjects, presigned GET URLs). MinIO or Ceph would be closer to
// production but ship as binaries that this project's test machines cannot download.
import S3rver from 's3rver';

export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface TestS3 {
  endpoint: string;
  bucket: string;
  port: number;
  /** Environment for a Snapwire process using this server. */
  env(prefix: string): Record<string, string>;
  close(): Promise<void>;
}

/** Starts s3rver on 127.0.0.1 (a free port, or `port`) with one empty bucket. */
export async function startS3(options: { port?: number; directory?: string } = {}): Promise<TestS3> {
  const directory = options.directory ?? fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-s3-'));
  const bucket = 'snapwire-test';
  const server = new S3rver({
    port: options.port ?? 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    bucket,
    port: address.port,
    env: (prefix) => ({
      SNAPWIRE_BLOB_STORE: `s3://${bucket}/${prefix}`,
      SNAPWIRE_S3_ENDPOINT: endpoint,
      SNAPWIRE_S3_FORCE_PATH_STYLE: 'true',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
    }),
    async close() {
      await server.close();
      if (!options.directory) fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
