/**
 * Recently stored or read blobs kept in memory up to a byte budget (least recently used out first): a
 * capture's payload is read back at once for its webhook delivery, often on the same node. A cache only;
 * the blob store stays the source of truth.
 */
export class RecentBlobs {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly budgetBytes = 32 * 1024 * 1024) {}

  get(key: string): Buffer | undefined {
    const cached = this.entries.get(key);
    if (cached) {
      this.entries.delete(key);
      this.entries.set(key, cached);
    }
    return cached;
  }

  remember(key: string, bytes: Buffer): void {
    if (bytes.length > this.budgetBytes / 8 || this.entries.has(key)) return;
    this.entries.set(key, bytes);
    this.bytes += bytes.length;
    while (this.bytes > this.budgetBytes) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Buffer];
      this.entries.delete(oldestKey);
      this.bytes -= oldest.length;
    }
  }

  forget(key: string): void {
    const bytes = this.entries.get(key);
    if (!bytes) return;
    this.entries.delete(key);
    this.bytes -= bytes.length;
  }
}
