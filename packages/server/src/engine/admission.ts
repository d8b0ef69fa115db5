import { ApiError } from '../errors.js';
import { FairQueue } from './fair-queue.js';

/**
 * The timers admission waits with: the process's own by default; a test moves its own clock instead
 * (test/unit/admission.test.ts), so the queue wait and the deadlines are checked without sleeping.
 */
export interface AdmissionTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const processTimers: AdmissionTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface AdmissionLimits {
  /** Jobs that may run at once. */
  concurrency: number;
  /** Jobs that may wait for a free slot; beyond this, requests are refused with 429 at once. */
  queueLimit: number;
  /** Longest wait for a slot (SNAPWIRE_BROWSER_QUEUE_WAIT); then 429 with Retry-After. */
  queueWaitMs: number;
}

/** What admission needs of a waiting job's request: its time left, and word when it is given up. */
export interface AdmissionDeadline {
  remaining(): number;
  onAbort(listener: (error: unknown) => void): void;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Who runs next on the browsers: `concurrency` jobs run, `queueLimit` wait (served round-robin across
 * projects, first come first served within one: fair-queue.ts), the rest are refused at once with 429.
 * A waiter gives up at the queue wait (429, retry later) or its request's deadline (timeout), whichever
 * comes first, and leaves the line at once when its request is aborted.
 */
export class Admission {
  private runningCount = 0;
  private readonly waiting = new FairQueue<Waiter>();
  private stopped = false;

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly timers: AdmissionTimers = processTimers,
  ) {}

  get running(): number {
    return this.runningCount;
  }

  get waitingCount(): number {
    return this.waiting.size;
  }

  /** Resolves when the job may run (a slot is its own until release()); rejects with why it may not. */
  async admit(key: string, deadline: AdmissionDeadline): Promise<void> {
    if (this.stopped) {
      throw new ApiError('ERR::SCRAPE::NO_BROWSER_AVAILABLE', 'The service is shutting down; retry shortly', {
        retryAfterSeconds: 5,
      });
    }
    if (this.runningCount < this.limits.concurrency) {
      this.runningCount += 1;
      return;
    }
    if (this.waiting.size >= this.limits.queueLimit) {
      throw new ApiError(
        'ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED',
        `All ${this.limits.concurrency} capture slots are busy and ${this.waiting.size} requests already wait; retry in a moment`,
        { retryAfterSeconds: 2 },
      );
    }
    const { queueWaitMs } = this.limits;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        this.timers.clearTimeout(timer);
        outcome();
      };
      const waiter: Waiter = {
        resolve: () => settle(resolve),
        reject: (error) => settle(() => reject(error)),
      };
      const giveUp = (error: unknown) => {
        if (settled) return;
        this.waiting.remove(key, waiter);
        waiter.reject(error);
      };
      const remaining = Math.max(0, deadline.remaining());
      // Whichever comes first: the longest queue wait (429, retry later) or the request's own deadline.
      const byQueueWait = queueWaitMs < remaining;
      const timer = this.timers.setTimeout(
        () => giveUp(byQueueWait ? queueWaitExceeded(queueWaitMs) : timedOutInQueue()),
        byQueueWait ? queueWaitMs : remaining,
      );
      this.waiting.push(key, waiter);
      // The request ended while it waited (its deadline fired first, or it was cancelled).
      deadline.onAbort((error) =>
        giveUp(
          error instanceof ApiError && error.code === 'ERR::SCRAPE::OPERATION_TIMEOUT'
            ? timedOutInQueue()
            : error,
        ),
      );
    });
  }

  /** The slot goes to the next waiter in turn, or becomes free. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next.resolve();
    else this.runningCount -= 1;
  }

  /** Refuses every waiter with `refusal`, and every later admit() (shutdown); running jobs finish. */
  stop(refusal: ApiError): void {
    this.stopped = true;
    for (const waiter of this.waiting.drain()) waiter.reject(refusal);
  }
}

function queueWaitExceeded(queueWaitMs: number): ApiError {
  return new ApiError(
    'ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED',
    `Every capture slot stayed busy for ${Math.round(queueWaitMs / 1000)} s (SNAPWIRE_BROWSER_QUEUE_WAIT); retry in a moment`,
    { retryAfterSeconds: Math.max(1, Math.ceil(queueWaitMs / 2000)) },
  );
}

function timedOutInQueue(): ApiError {
  return new ApiError(
    'ERR::SCRAPE::OPERATION_TIMEOUT',
    'The request waited for a free browser slot until its timeout; retry later or raise timeout',
    { retryAfterSeconds: 2 },
  );
}
