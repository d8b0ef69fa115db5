/**
 * The sleep of a polling loop that a wake-up cuts short (the job worker, the scheduler). A wake-up that
 * arrives while the loop is busy, not sleeping, is remembered, so the next sleep returns at once instead
 * of losing it.
 */
export class InterruptibleSleep {
  private cut: (() => void) | undefined;
  private pending = false;

  /** Wakes the loop now, or makes its next sleep return at once. */
  wake(): void {
    this.pending = true;
    this.cut?.();
  }

  /** Called by the loop before each look: wake-ups from now on are for the next look. */
  clear(): void {
    this.pending = false;
  }

  /** Whether a wake-up came since the last clear(). */
  get woken(): boolean {
    return this.pending;
  }

  /** Sleeps `ms` at most; returns at once when a wake-up is pending. */
  async sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.pending) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.cut = done;
    });
    this.cut = undefined;
  }
}
