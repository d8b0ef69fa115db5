import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Admission, type AdmissionDeadline, type AdmissionTimers } from '../../src/engine/admission.js';
import { ApiError, isApiError } from '../../src/errors.js';

// The browser queue without a browser: who runs, who waits, who is refused, on a clock the test moves.

/** Timers on a clock that only moves when the test says so. */
class TestClock implements AdmissionTimers {
  now = 0;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();
  private nextId = 1;

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Moves the clock, firing every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, timer]) => timer.at <= until)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = due[1].at;
      due[1].callback();
      await settle();
    }
    this.now = until;
    await settle();
  }
}

/** Lets resolved promises run their callbacks. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}

/** A request's deadline on the test clock, which the test may also abort (the request was cancelled). */
function deadlineOn(clock: TestClock, timeoutMs: number) {
  const endsAt = clock.now + timeoutMs;
  const listeners: Array<(error: unknown) => void> = [];
  const deadline: AdmissionDeadline & { abort(error: unknown): void } = {
    remaining: () => Math.max(0, endsAt - clock.now),
    onAbort: (listener) => listeners.push(listener),
    abort: (error) => listeners.splice(0).forEach((listener) => listener(error)),
  };
  return deadline;
}

/** An admit() whose outcome the test reads without awaiting it. */
function track(admitted: Promise<void>) {
  const state: { admitted: boolean; error: unknown } = { admitted: false, error: undefined };
  admitted.then(
    () => (state.admitted = true),
    (error: unknown) => (state.error = error),
  );
  return state;
}

function codeOf(error: unknown): string | undefined {
  return isApiError(error) ? error.code : undefined;
}

describe('admission to the browsers (engine/admission.ts)', () => {
  it('runs up to the concurrency at once, then queues, then refuses with 429 at once', async () => {
    const clock = new TestClock();
    const admission = new Admission({ concurrency: 2, queueLimit: 1, queueWaitMs: 10_000 }, clock);
    await admission.admit('a', deadlineOn(clock, 60_000));
    await admission.admit('a', deadlineOn(clock, 60_000));
    const third = track(admission.admit('a', deadlineOn(clock, 60_000)));
    await settle();
    assert.equal(third.admitted, false, 'the third waits: both slots are taken');
    assert.deepEqual([admission.running, admission.waitingCount], [2, 1]);

    const fourth = admission.admit('b', deadlineOn(clock, 60_000));
    const refused = await fourth.then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.equal(codeOf(refused), 'ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED');
    assert.ok(isApiError(refused) && refused.definition.httpStatus === 429);
    assert.ok(isApiError(refused) && (refused.retryAfterSeconds ?? 0) >= 1, 'a Retry-After');

    admission.release();
    await settle();
    assert.equal(third.admitted, true, 'a freed slot goes to the waiter');
    assert.deepEqual([admission.running, admission.waitingCount], [2, 0]);
    admission.release();
    admission.release();
    assert.equal(admission.running, 0);
  });

  it('serves projects in turn: one project with a backlog does not starve another', async () => {
    const clock = new TestClock();
    const admission = new Admission({ concurrency: 1, queueLimit: 10, queueWaitMs: 60_000 }, clock);
    await admission.admit('spinner', deadlineOn(clock, 120_000));
    const order: string[] = [];
    const wait = (key: string, name: string) =>
      admission.admit(key, deadlineOn(clock, 120_000)).then(() => order.push(name));
    const waiting = [
      wait('spinner', 'spin-1'),
      wait('spinner', 'spin-2'),
      wait('spinner', 'spin-3'),
      wait('normal', 'normal-1'),
      wait('third', 'third-1'),
    ];
    for (let i = 0; i < waiting.length; i += 1) {
      admission.release();
      await settle();
    }
    await Promise.all(waiting);
    assert.deepEqual(order, ['spin-1', 'normal-1', 'third-1', 'spin-2', 'spin-3']);
  });

  it('gives up at the queue wait with 429, long before the request timeout', async () => {
    const clock = new TestClock();
    const admission = new Admission({ concurrency: 1, queueLimit: 5, queueWaitMs: 2_000 }, clock);
    await admission.admit('a', deadlineOn(clock, 60_000));
    const waiter = track(admission.admit('b', deadlineOn(clock, 60_000)));
    await clock.advance(1_999);
    assert.equal(waiter.error, undefined, 'still waiting just before the queue wait');
    await clock.advance(1);
    assert.equal(codeOf(waiter.error), 'ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED');
    assert.equal(admission.waitingCount, 0, 'it left the line');
    admission.release();
    assert.equal(admission.running, 0, 'the slot is free, not handed to the waiter that gave up');
  });

  it("gives up at the request's deadline when it comes before the queue wait", async () => {
    const clock = new TestClock();
    const admission = new Admission({ concurrency: 1, queueLimit: 5, queueWaitMs: 10_000 }, clock);
    await admission.admit('a', deadlineOn(clock, 60_000));
    const waiter = track(admission.admit('b', deadlineOn(clock, 3_000)));
    await clock.advance(2_999);
    assert.equal(waiter.error, undefined);
    await clock.advance(1);
    assert.equal(codeOf(waiter.error), 'ERR::SCRAPE::OPERATION_TIMEOUT');
    assert.match(
      String((waiter.error as { message?: unknown } | undefined)?.message),
      /waited for a free browser slot/,
    );
    assert.equal(admission.waitingCount, 0);
  });

  it('a cancelled request leaves the line at once and the next one gets the slot', async () => {
    const clock = new TestClock();
    const admission = new Admission({ concurrency: 1, queueLimit: 5, queueWaitMs: 10_000 }, clock);
    await admission.admit('a', deadlineOn(clock, 60_000));
    const cancelled = deadlineOn(clock, 60_000);
    const first = track(admission.admit('b', cancelled));
    const second = track(admission.admit('c', deadlineOn(clock, 60_000)));
    const why = new ApiError('ERR::SCRAPE::DRIVER_CRASHED', 'the caller went away');
    cancelled.abort(why);
    await settle();
    assert.equal(first.error, why, 'rejected with why it was cancelled');
    assert.equal(admission.waitingCount, 1);
    admission.release();
    await settle();
    assert.equal(second.admitted, true);
    assert.equal(first.admitted, false);
    await clock.advance(60_000);
    assert.equal(second.error, undefined, 'no timer of an admitted waiter fires later');
  });

  it('stop() refuses the waiters and every later request; running jobs keep their slots', async () => {
    const clock = new TestClock();
    const admission = new Admission({ concurrency: 1, queueLimit: 5, queueWaitMs: 10_000 }, clock);
    await admission.admit('a', deadlineOn(clock, 60_000));
    const waiter = track(admission.admit('b', deadlineOn(clock, 60_000)));
    const refusal = new ApiError('ERR::SCRAPE::NO_BROWSER_AVAILABLE', 'shutting down', {
      retryAfterSeconds: 5,
    });
    admission.stop(refusal);
    await settle();
    assert.equal(waiter.error, refusal);
    const later = await admission.admit('c', deadlineOn(clock, 60_000)).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.equal(codeOf(later), 'ERR::SCRAPE::NO_BROWSER_AVAILABLE');
    assert.equal(admission.running, 1);
  });
});
