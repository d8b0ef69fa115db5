import { createHash } from 'node:crypto';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobStore } from './blob-store.js';
import { RecentBlobs } from './recent-blobs.js';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Key prefix inside the bucket ('' for the bucket's root). */
  prefix: string;
  /** For S3-compatible stores (MinIO, R2, Ceph); unset for AWS. */
  endpoint?: string | undefined;
  forcePathStyle?: boolean;
  region?: string | undefined;
  /** Explicit credentials (tests); otherwise the SDK's default chain (AWS_ACCESS_KEY_ID, ...). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Lifetime of presigned URLs. */
  presignSeconds?: number;
  /** touch() leaves an object written less than this long ago as it is (default one hour). */
  touchFreshMs?: number;
}

const DEFAULT_TOUCH_FRESH_MS = 3_600_000;

/** Presigned URLs live long enough for a client to follow the redirect, and not much longer. */
const DEFAULT_PRESIGN_SECONDS = 900;

/**
 * Blobs in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Ceph), shared by every node of a fleet:
 * a capture stored by one node is delivered, served and found in the cache by any other. Keys are
 * `PREFIX/ab/abcdef…` (SHA-256, like the local store), so identical bytes are one object.
 *
 * Retention works as in the local store, on the object's LastModified: a new reference to an existing blob
 * (a put of the same bytes, a cache hit) writes it again, and sweep() deletes objects older than the
 * cutoff. touch() rewrites the bytes rather than copying the object onto itself: a self-copy does not move
 * LastModified on every S3-compatible server (the test server's does not), a rewrite does everywhere. To
 * keep that cheap, an object written within the last hour is left alone (retention is counted in days). A store that cannot be reached throws (with the S3 error); only a
 * missing object answers undefined.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  private readonly recent = new RecentBlobs();

  constructor(private readonly options: S3BlobStoreOptions) {
    this.client = new S3Client({
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle ?? false,
      region: options.region ?? 'us-east-1',
      ...(options.credentials ? { credentials: options.credentials } : {}),
      // Checksums only where S3 requires them: several S3-compatible stores reject the newer default
      // (flexible checksums with aws-chunked bodies); the bytes are content-addressed anyway.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Fail fast when the store is down, so a capture answers a clear retryable error in seconds.
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 20_000 },
    });
  }

  async put(bytes: Buffer): Promise<string> {
    const key = createHash('sha256').update(bytes).digest('hex');
    // A put of bytes already stored refreshes their retention like a new reference does.
    await this.client.send(
      new PutObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key), Body: bytes }),
    );
    this.recent.remember(key, bytes);
    return key;
  }

  async get(key: string): Promise<Buffer | undefined> {
    if (!isKey(key)) return undefined;
    const cached = this.recent.get(key);
    if (cached) return cached;
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
      );
      if (!object.Body) return undefined;
      const bytes = Buffer.from(await object.Body.transformToByteArray());
      this.recent.remember(key, bytes);
      return bytes;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async has(key: string): Promise<boolean> {
    if (!isKey(key)) return false;
    try {
      await this.client.send(
        new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
      );
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  async touch(key: string): Promise<boolean> {
    if (!isKey(key)) return false;
    let written: number;
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
      );
      written = head.LastModified?.getTime() ?? 0;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
    // eslint-disable-next-line no-restricted-properties -- compared with the bucket's LastModified (real time)
    if (Date.now() - written < (this.options.touchFreshMs ?? DEFAULT_TOUCH_FRESH_MS)) return true;
    const bytes = await this.get(key);
    if (!bytes) return false;
    await this.client.send(
      new PutObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key), Body: bytes }),
    );
    return true;
  }

  async sweep(cutoff: number): Promise<{ deleted: number; bytes: number }> {
    let deleted = 0;
    let bytes = 0;
    let token: string | undefined;
    const prefix = this.options.prefix ? `${this.options.prefix}/` : '';
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.options.bucket,
          Prefix: prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      const old = (page.Contents ?? []).filter(
        (object) =>
          object.Key !== undefined &&
          isKey(object.Key.slice(prefix.length).split('/').at(-1) ?? '') &&
          (object.LastModified?.getTime() ?? Infinity) < cutoff,
      );
      if (old.length > 0) {
        await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.options.bucket,
            Delete: { Objects: old.map((object) => ({ Key: object.Key as string })), Quiet: true },
          }),
        );
        for (const object of old) {
          this.recent.forget((object.Key as string).split('/').at(-1) as string);
          deleted += 1;
          bytes += object.Size ?? 0;
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return { deleted, bytes };
  }

  async presignedUrl(key: string, contentType: string): Promise<string> {
    return getSignedUrl(
      this.client,
      new GetObjectCommand({
        Bucket: this.options.bucket,
        Key: this.objectKey(key),
        ResponseContentType: contentType,
      }),
      { expiresIn: this.options.presignSeconds ?? DEFAULT_PRESIGN_SECONDS },
    );
  }

  close(): void {
    this.client.destroy();
  }

  private objectKey(key: string): string {
    const shard = `${key.slice(0, 2)}/${key}`;
    return this.options.prefix ? `${this.options.prefix}/${shard}` : shard;
  }
}

const isKey = (key: string) => /^[0-9a-f]{64}$/.test(key);

function isMissing(error: unknown): boolean {
  if (error instanceof S3ServiceException) {
    return error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404;
  }
  return false;
}
