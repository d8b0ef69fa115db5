/**
 * The one way tests wait: poll a condition until it holds or a deadline passes, then fail with what was
 * last seen. Tests never sleep for a fixed time; to let time pass for the code under test, move its
 * injected clock instead.
 */
export interface WaitOptions {
  /** Give up after this many ms (default 10,000). */
  timeoutMs?: number;
  /** Poll every this many ms (default 20). */
  intervalMs?: number;
  /** Names what is awaited, for the failure message. */
  what?: string;
}

/** The values of T that pass an `if`: what `waitUntil` resolves with. */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/**
 * Resolves with the first truthy value `check` returns (sync or async). A check that throws counts as
 * "not yet"; its last error is reported if the deadline passes.
 */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  options: WaitOptions = {},
): Promise<Truthy<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as Truthy<T>;
      lastValue = value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail =
        lastError instanceof Error ? `last error: ${lastError.message}` : `last value: ${String(lastValue)}`;
      throw new Error(`waitUntil: ${options.what ?? 'condition'} not met within ${timeoutMs} ms (${detail})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
