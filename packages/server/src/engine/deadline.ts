import { ApiError } from '../errors.js';

/**
 * Something that can be aborted with an error: every awaited browser call of a job is raced against it
 * with `run`, so a timeout, a renderer crash or a dead browser ends the wait at once instead of leaving a
 * promise hanging. The losing promise is silenced so that closing the page afterwards cannot raise an
 * unhandled rejection.
 */
export class AbortScope {
  private readonly abortPromise: Promise<never>;
  private rejectAbort!: (error: unknown) => void;
  private aborted: unknown;
  private readonly listeners: Array<(error: unknown) => void> = [];

  constructor() {
    this.abortPromise = new Promise<never>((_, reject) => {
      this.rejectAbort = reject;
    });
    this.abortPromise.catch(() => {});
  }

  abort(error: unknown): void {
    if (this.aborted !== undefined) return;
    this.aborted = error;
    this.rejectAbort(error);
    for (const listener of this.listeners.splice(0)) listener(error);
  }

  get abortedWith(): unknown {
    return this.aborted;
  }

  onAbort(listener: (error: unknown) => void): void {
    if (this.aborted !== undefined) listener(this.aborted);
    else this.listeners.push(listener);
  }

  async run<T>(step: Promise<T>): Promise<T> {
    step.catch(() => {});
    if (this.aborted !== undefined) throw this.aborted;
    return Promise.race([step, this.abortPromise]);
  }

  /** A pause that ends early (with the abort error) when the scope is aborted. */
  sleep(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const pause = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, ms));
    });
    return this.run(pause).finally(() => clearTimeout(timer));
  }
}

/** The request's whole budget (docs/compat.md §1: `timeout`, whole request); aborts with OPERATION_TIMEOUT. */
export class JobDeadline extends AbortScope {
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly startedAt: number,
    readonly timeoutMs: number,
  ) {
    super();
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

  get deadlineAt(): number {
    return this.startedAt + this.timeoutMs;
  }

  remaining(): number {
    return Math.max(0, this.deadlineAt - Date.now());
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

/**
 * One attempt of a job on one page: aborted by the request's deadline or by the page's own loss (renderer
 * crash, hung renderer, browser gone), whichever comes first. A lost page ends the attempt, not the job,
 * which may run once more on a fresh page under the same deadline.
 */
export class AttemptScope extends AbortScope {
  constructor(readonly deadline: JobDeadline) {
    super();
    deadline.onAbort((error) => this.abort(error));
  }

  remaining(): number {
    return this.deadline.remaining();
  }
}
