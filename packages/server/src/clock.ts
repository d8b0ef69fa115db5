/** Time comes from here so that tests can move it (a one-day retry is testable in milliseconds). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Elapsed whole milliseconds since the call, on the monotonic clock: for durations (a log row's
 * `duration_ms`, a response-time header), which neither the injected clock nor a wall-clock jump may skew.
 */
export function startStopwatch(): () => number {
  const started = performance.now();
  return () => Math.round(performance.now() - started);
}
