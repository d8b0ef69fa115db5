/**
 * When to try a failed delivery again. `schedule[n]` is the wait after the (n+1)th failed attempt; when
 * the schedule is used up the job ends with ERR::WEBHOOK::MAX_RETRY. A little jitter (±10 %) keeps many
 * jobs that failed together from retrying together. Retry-After (429/503) is honoured, within bounds.
 */
export class RetryPolicy {
  static readonly MAX_RETRY_AFTER_MS = 86_400_000;

  constructor(
    readonly schedule: readonly number[],
    private readonly random: () => number = Math.random,
  ) {}

  /** Attempts a job gets in all: the first plus one per schedule entry. */
  get maxAttempts(): number {
    return this.schedule.length + 1;
  }

  /** Delay before the next attempt after `failedAttempts` failures, or undefined when none is left. */
  nextDelay(failedAttempts: number, retryAfterSeconds: number | null): number | undefined {
    const base = this.schedule[failedAttempts - 1];
    if (base === undefined) return undefined;
    if (retryAfterSeconds !== null && retryAfterSeconds > 0) {
      return Math.min(Math.max(retryAfterSeconds * 1000, base), RetryPolicy.MAX_RETRY_AFTER_MS);
    }
    const jitter = 1 + (this.random() * 2 - 1) * 0.1;
    return Math.max(0, Math.round(base * jitter));
  }
}
