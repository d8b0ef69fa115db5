import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Image bytes, content-addressed by SHA-256 under the data folder (`blobs/ab/abcdef…`). The same image
 * captured twice is stored once. Writes go to a temporary name first, so a crash never leaves half a file
 * under a real key.
 */
export class BlobStore {
  constructor(private readonly root: string) {}

  async put(bytes: Buffer): Promise<string> {
    const key = createHash('sha256').update(bytes).digest('hex');
    const file = this.pathOf(key);
    try {
      await fs.access(file);
      return key;
    } catch {
      // not stored yet
    }
    await fs.mkdir(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
    await fs.writeFile(temporary, bytes);
    await fs.rename(temporary, file);
    return key;
  }

  async get(key: string): Promise<Buffer | undefined> {
    if (!/^[0-9a-f]{64}$/.test(key)) return undefined;
    try {
      return await fs.readFile(this.pathOf(key));
    } catch {
      return undefined;
    }
  }

  private pathOf(key: string): string {
    return path.join(this.root, key.slice(0, 2), key);
  }
}
