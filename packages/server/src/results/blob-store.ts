import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Image bytes (and webhook payloads), content-addressed by SHA-256 under the data folder
 * (`blobs/ab/abcdef…`). The same bytes stored twice are kept once. Writes go to a temporary name first,
 * so a crash never leaves half a file under a real key.
 *
 * Retention: a file's modification time is refreshed every time a new reference to it is made (a put of
 * the same bytes, a cache hit that hands the image out again, see touch()), so a file older than the longest
 * retention of any project is referenced by nothing that may still be read, and sweep() deletes it.
 */
export class BlobStore {
  constructor(private readonly root: string) {}

  async put(bytes: Buffer): Promise<string> {
    const key = createHash('sha256').update(bytes).digest('hex');
    const file = this.pathOf(key);
    if (await this.touch(key)) return key;
    await fs.mkdir(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2, 8)}.tmp`;
    await fs.writeFile(temporary, bytes);
    await fs.rename(temporary, file);
    return key;
  }

  async get(key: string): Promise<Buffer | undefined> {
    if (!isKey(key)) return undefined;
    try {
      return await fs.readFile(this.pathOf(key));
    } catch {
      return undefined;
    }
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
