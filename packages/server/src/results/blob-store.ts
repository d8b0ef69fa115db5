import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Where image bytes and webhook payloads live, content-addressed by SHA-256 (the key). Two kinds:
 * LocalBlobStore (the data folder, one machine) and S3BlobStore (results/s3-blob-store.ts, shared by a
 * fleet). get() answers undefined only for a blob that does not exist; a store that cannot be reached
 * throws, so that callers retry instead of taking the blob for lost.
 */
export interface BlobStore {
  readonly kind: 'local' | 's3';
  put(bytes: Buffer): Promise<string>;
  get(key: string): Promise<Buffer | undefined>;
  has(key: string): Promise<boolean>;
  /** Marks the blob as referenced now (restarts its retention); false when it does not exist. */
  touch(key: string): Promise<boolean>;
  /** Deletes blobs last referenced before `cutoff` (epoch ms). */
  sweep(cutoff: number): Promise<{ deleted: number; bytes: number }>;
  /** A time-limited URL a client can fetch the blob from directly (S3 with SNAPWIRE_S3_PRESIGN). */
  presignedUrl?(key: string, contentType: string): Promise<string>;
}

/**
 * Image bytes (and webhook payloads), content-addressed by SHA-256 under the data folder
 * (`blobs/ab/abcdef…`). The same bytes stored twice are kept once. Writes go to a temporary name first,
 * so a crash never leaves half a file under a real key.
 *
 * Retention: a file's modification time is refreshed every time a new reference to it is made (a put of
 * the same bytes, a cache hit that hands the image out again, see touch()), so a file older than the longest
 * retention of any project is referenced by nothing that may still be read, and sweep() deletes it.
 */
export class LocalBlobStore implements BlobStore {
  readonly kind = 'local' as const;
  /**
   * Recently stored or read blobs, kept in memory up to a byte budget: a capture's image is read back at
   * once for its webhook delivery (and again on each retry), and reading the file was the largest cost
   * of a delivery after the store (measured in bench/delivery.ts). The files stay the source of truth.
   */
  private readonly recent = new Map<string, Buffer>();
  private recentBytes = 0;

  constructor(
    private readonly root: string,
    private readonly memoryBudgetBytes = 32 * 1024 * 1024,
  ) {}

  async put(bytes: Buffer): Promise<string> {
    const key = createHash('sha256').update(bytes).digest('hex');
    const file = this.pathOf(key);
    if (!(await this.touch(key))) {
      await fs.mkdir(path.dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
      await fs.writeFile(temporary, bytes);
      await fs.rename(temporary, file);
    }
    this.remember(key, bytes);
    return key;
  }

  async get(key: string): Promise<Buffer | undefined> {
    if (!isKey(key)) return undefined;
    const cached = this.recent.get(key);
    if (cached) {
      this.recent.delete(key);
      this.recent.set(key, cached);
      return cached;
    }
    try {
      const bytes = await fs.readFile(this.pathOf(key));
      this.remember(key, bytes);
      return bytes;
    } catch {
      return undefined;
    }
  }

  private remember(key: string, bytes: Buffer): void {
    if (bytes.length > this.memoryBudgetBytes / 8) return;
    if (this.recent.has(key)) return;
    this.recent.set(key, bytes);
    this.recentBytes += bytes.length;
    while (this.recentBytes > this.memoryBudgetBytes) {
      const [oldestKey, oldest] = this.recent.entries().next().value as [string, Buffer];
      this.recent.delete(oldestKey);
      this.recentBytes -= oldest.length;
    }
  }

  private forget(key: string): void {
    const bytes = this.recent.get(key);
    if (!bytes) return;
    this.recent.delete(key);
    this.recentBytes -= bytes.length;
  }

  async has(key: string): Promise<boolean> {
    if (!isKey(key)) return false;
    try {
      await fs.access(this.pathOf(key));
      return true;
    } catch {
      return false;
    }
  }

  /** Marks the blob as referenced now (restarts its retention); false when it does not exist. */
  async touch(key: string): Promise<boolean> {
    if (!isKey(key)) return false;
    const now = new Date();
    try {
      await fs.utimes(this.pathOf(key), now, now);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Deletes blobs last referenced before `cutoff` (epoch ms) and temporary files left by a crash an hour
   * ago or more. Returns how many blobs and bytes went.
   */
  async sweep(cutoff: number): Promise<{ deleted: number; bytes: number }> {
    let deleted = 0;
    let bytes = 0;
    let shards: string[];
    try {
      shards = await fs.readdir(this.root);
    } catch {
      return { deleted, bytes };
    }
    // eslint-disable-next-line no-restricted-properties -- compared with the files' mtimes (real time)
    const temporaryCutoff = Date.now() - 3_600_000;
    for (const shard of shards) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      const dir = path.join(this.root, shard);
      let names: string[];
      try {
        names = await fs.readdir(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        const file = path.join(dir, name);
        const temporary = name.endsWith('.tmp');
        if (!temporary && !isKey(name)) continue;
        try {
          const stat = await fs.stat(file);
          if (stat.mtimeMs >= (temporary ? temporaryCutoff : cutoff)) continue;
          await fs.unlink(file);
          if (!temporary) {
            this.forget(name);
            deleted += 1;
            bytes += stat.size;
          }
        } catch {
          // gone already, or touched meanwhile
        }
      }
    }
    return { deleted, bytes };
  }

  private pathOf(key: string): string {
    return path.join(this.root, key.slice(0, 2), key);
  }
}

const isKey = (key: string) => /^[0-9a-f]{64}$/.test(key);
