import type { Logger } from 'pino';
import type { BlobStore } from './blob-store.js';
import { MAX_CACHE_TTL_SECONDS, type ScreenshotCache } from './screenshot-cache.js';
import type { MaintenanceTask } from '../store/fleet-maintenance.js';

const DAY_MS = 86_400_000;

/**
 * Keeps the results folder to its retention: every interval, blobs not referenced for longer than the
 * longest log retention of any project are deleted (a blob is shared by identical captures, possibly of
 * several projects, so it lives as long as the longest-lived reference may be read), and cache entries
 * older than the longest cache_ttl are dropped.
 */
export class ResultsJanitor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly blobs: BlobStore,
    private readonly cache: ScreenshotCache | undefined,
    /** Longest retention in days over every project (plans and overrides). */
    private readonly retentionDays: () => Promise<number>,
    private readonly now: () => number,
    private readonly logger: Logger,
    /**
     * Blobs kept whatever their age (monitors' baselines: they live as long as their monitor): touched
     * before each sweep, so their age starts again.
     */
    private readonly keep?: () => Promise<string[]>,
  ) {}

  /**
   * Sweeps every `intervalMs`; with `schedule` (a fleet: store/fleet-maintenance.ts), that scheduler runs
   * the sweep once per fleet per interval instead of every node sweeping on its own timer.
   */
  start(intervalMs: number, schedule?: (task: MaintenanceTask) => void): void {
    if (schedule) {
      schedule({ name: 'results-sweep', intervalMs, leaseMs: 30 * 60_000, run: () => this.sweep() });
      return;
    }
    this.timer = setInterval(() => void this.sweep(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  sweep(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    try {
      const days = Math.max(1, await this.retentionDays());
      for (const key of (await this.keep?.()) ?? []) await this.blobs.touch(key);
      const blobs = await this.blobs.sweep(this.now() - days * DAY_MS);
      const entries = (await this.cache?.expire(this.now() - MAX_CACHE_TTL_SECONDS * 1000)) ?? 0;
      if (blobs.deleted > 0 || entries > 0) {
        this.logger.info(
          { blobs: blobs.deleted, bytes: blobs.bytes, cacheEntries: entries, days },
          'results swept',
        );
      }
    } catch (error) {
      this.logger.error({ err: error }, 'sweeping results failed');
    }
  }
}
