/**
 * The loop of a background room (the job worker, the scheduler): look, then sleep until woken or until
 * the look's own answer says the next thing is due. A wake-up that arrives while the loop is looking, not
 * sleeping, is remembered, so the loop looks again at once instead of losing it. A look that throws is
 * logged and the loop goes on: one bad row or a store outage never stops the room.
 */
export interface PollingRoom<LookResult> {
  /** One look at the work (claim jobs, fire schedules). */
  look(): Promise<LookResult>;
  /** How long to sleep after a look (ms; at most the room's poll interval). Undefined after a failed look. */
  sleepAfter(result: LookResult | undefined): Promise<number>;
  /** A failed look, said once per failure. */
  lookFailed(error: unknown): void;
}

export class PollingLoop<LookResult> {
  private stopped = true;
  private pending = false;
  private cut: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;

  constructor(private readonly room: PollingRoom<LookResult>) {}

  get running(): boolean {
    return !this.stopped;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loopDone = this.loop();
  }

  /** Looks now, or right after the look in progress. */
  wake(): void {
    this.pending = true;
    this.cut?.();
  }

  /** Stops looking; resolves when the look in progress has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.pending = false;
      let result: LookResult | undefined;
      try {
        result = await this.room.look();
      } catch (error) {
        this.room.lookFailed(error);
      }
      if (this.stopped) break;
      if (this.pending) continue;
      const wait = await this.room.sleepAfter(result);
      await this.sleep(wait);
    }
  }

  /** Sleeps `ms` at most; returns at once when a wake-up is pending. */
  private async sleep(ms: number): Promise<void> {
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
