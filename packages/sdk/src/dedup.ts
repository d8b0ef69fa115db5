// Remembers recently seen webhook job ids so that a redelivery of the same job is acknowledged without
// running the callback again. Bounded twice: entries expire after `windowMs`, and past `maxEntries` the
// oldest are dropped. A Map keeps insertion order and every entry lives for the same window, so the oldest
// (and the first to expire) are always at the front: each insert costs O(1) amortised.

export class JobIdDedup {
  readonly #seen = new Map<string, number>();
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { windowMs: number; maxEntries: number; now?: () => number }) {
    this.#windowMs = Math.max(0, options.windowMs);
    this.#maxEntries = Math.max(1, Math.floor(options.maxEntries));
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#seen.size;
  }

  /** True if `id` was seen within the window (it is then left as it was); else records it and returns false. */
  checkAndRemember(id: string): boolean {
    const now = this.#now();
    this.#evict(now);
    const expiresAt = this.#seen.get(id);
    if (expiresAt !== undefined && expiresAt > now) return true;
    this.#seen.delete(id);
    this.#seen.set(id, now + this.#windowMs);
    while (this.#seen.size > this.#maxEntries) {
      const oldest = this.#seen.keys().next();
      if (oldest.done) break;
      this.#seen.delete(oldest.value);
    }
    return false;
  }

  /** Forget `id`, so that a redelivery is processed again (used when the callback failed). */
  forget(id: string): void {
    this.#seen.delete(id);
  }

  #evict(now: number): void {
    for (const [id, expiresAt] of this.#seen) {
      if (expiresAt > now) break;
      this.#seen.delete(id);
    }
  }
}
