import { ApiError } from '../errors.js';

/**
 * Counts the captures each project runs at once in this process and refuses one over the project's limit.
 * (A fleet on PostgreSQL will need a shared counter; one process is what this build supports.)
 */
export class ConcurrencyTracker {
  private readonly running = new Map<string, number>();
  private total = 0;

  acquire(projectId: string, limit: number): () => void {
    const current = this.running.get(projectId) ?? 0;
    if (current >= limit) {
      throw new ApiError(
        'ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED',
        `This project already runs ${current} of its ${limit} concurrent captures; wait for one to finish or raise the project's concurrency limit`,
        { retryAfterSeconds: 1 },
      );
    }
    this.running.set(projectId, current + 1);
    this.total += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const now = (this.running.get(projectId) ?? 1) - 1;
      if (now <= 0) this.running.delete(projectId);
      else this.running.set(projectId, now);
    };
  }

  usage(projectId: string): number {
    return this.running.get(projectId) ?? 0;
  }

  totalUsage(): number {
    return this.total;
  }
}
