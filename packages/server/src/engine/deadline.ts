import { ApiError } from '../errors.js';

/**
 * Bounds every browser call of one job by the request's deadline. `run` races a step against the deadline
 * (and against an abort, e.g. a renderer crash); the losing promise is silenced so that closing the context
 * afterwards cannot raise an unhandled rejection.
 */
export class JobDeadline {
  private readonly abortPromise: Promise<never>;
  private rejectAbort!: (error: unknown) => void;
  private readonly timer: NodeJS.Timeout;
  private aborted: unknown;

  constructor(
    readonly startedAt: number,
    readonly timeoutMs: number,
  ) {
    this.abortPromise = new Promise<never>((_, reject) => {
      this.rejectAbort = reject;
    });
    this.abortPromise.catch(() => {});
    const left = Math.max(0, startedAt + timeoutMs - Date.now());
    this.timer = setTimeout(
      () =>
        this.abort(
          new ApiError(
            'ERR::SCRAPE::OPERATION_TIMEOUT',
            `The capture did not finish within timeout=${timeoutMs} ms; raise the timeout parameter or lower rendering_wait`,
            { retryAfterSeconds: 1 },
          ),
        ),
      left,
    );
    this.timer.unref();
  }

  remaining(): number {
    return Math.max(0, this.startedAt + this.timeoutMs - Date.now());
  }

  abort(error: unknown): void {
    if (this.aborted !== undefined) return;
    this.aborted = error;
    this.rejectAbort(error);
  }

  get abortedWith(): unknown {
    return this.aborted;
  }

  async run<T>(step: Promise<T>): Promise<T> {
    step.catch(() => {});
    if (this.aborted !== undefined) throw this.aborted;
    return Promise.race([step, this.abortPromise]);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
