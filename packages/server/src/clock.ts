/** Time comes from here so that tests can move it (a one-day retry is testable in milliseconds). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
