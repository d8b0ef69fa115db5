// Over 400 lines as one coherent thing: the pool's browsers (launch with back-off, recycle, watchdog)
// and a job's attempts on them (pick, acquire, retry a lost page) share one set of browsers and one
// stopped state. Admission (admission.ts), the flags (chromium-flags.ts) and the renderer hang watch
// (renderer-watch.ts) are their own units.
import type { Logger } from 'pino';
import { ApiError } from '../errors.js';
import { BrowserInstance, PageLostError, type EgressSession, type PageHandle } from './browser.js';
import { CdpClosedError } from './cdp.js';
import { chromiumArgs, findExecutable } from './chromium-flags.js';
import { ChromiumProcess, type ProcessInfo } from './chromium-process.js';
import { AttemptScope, type JobDeadline } from './deadline.js';
import { watchRenderer } from './renderer-watch.js';
import { Admission, type AdmissionTimers } from './admission.js';

export interface BrowserPoolOptions {
  chromiumPath: string;
  /** Each context's own egress proxy listener (per-page refusals and failures); else all share proxyServer. */
  openEgressSession?: () => Promise<EgressSession>;
  /** Every request of the browser goes through this proxy (the egress guard). */
  proxyServer: string;
  /** Captures that may run at once in this process (over all browsers). */
  concurrency: number;
  /** Captures that may wait for a free slot; beyond this, requests are refused with 429 at once. */
  queueLimit: number;
  /**
   * Longest wait for a slot (SNAPWIRE_BROWSER_QUEUE_WAIT); then 429 with Retry-After, not a 504 at the
   * request's own timeout. Waiters are served round-robin across projects.
   */
  queueWaitMs?: number;
  /** Chromium processes kept running. */
  browsers?: number;
  /** Pre-warmed isolated contexts per browser (default: its share of `concurrency`). */
  prewarm?: number;
  /** A browser is replaced after this many jobs ... */
  recycleAfterJobs?: number;
  /** ... or after this long (draining first). */
  recycleAfterMs?: number;
  /** How often the watchdog looks at the browsers. */
  watchdogIntervalMs?: number;
  /** A browser that does not answer a ping within this is killed and replaced. */
  browserHangTimeoutMs?: number;
  /** A page whose renderer does not answer within this is treated as crashed. */
  rendererHangTimeoutMs?: number;
  /** V8 heap limit of each renderer: a page that needs more crashes its renderer instead of the machine. */
  rendererMaxHeapMb?: number;
  /** Extra Chromium flags (operator's). */
  extraArgs?: string[];
  /**
   * Chromium's site-per-process. Off by default: every job already has its own browser context, and
   * contexts never share a renderer process (checked: three contexts on one site, three renderers), so
   * it only splits one page's cross-site frames further. Off, a navigation reuses the pre-warmed
   * renderer instead of swapping to a new one: measured ~380 -> ~300 ms of CPU per capture.
   */
  strictSiteIsolation?: boolean;
  logger: Logger;
  /** The admission queue's timers (tests move their own clock; admission.ts). */
  admissionTimers?: AdmissionTimers;
}

export interface PoolStats {
  running: number;
  waiting: number;
  concurrency: number;
  queueLimit: number;
  browsers: number;
  ready: number;
  warm: number;
  restarts: number;
}

export type RestartReason = 'recycle-jobs' | 'recycle-age' | 'crash' | 'hang';

export interface JobContext {
  page: PageHandle;
  scope: AttemptScope;
  attempt: number;
}

/**
 * A few long-lived Chromium processes; each job runs on a fresh isolated browser context (no cookie,
 * storage, cache or service worker survives into another job), taken from contexts pre-warmed off the
 * critical path. Admission is bounded: `concurrency` running, `queueLimit` waiting, then an immediate 429.
 * Browsers are recycled after a number of jobs or minutes (draining first); a watchdog kills a hung
 * browser; a job whose page was lost (renderer crash or hang, browser gone) runs once more on a fresh page.
 */
export class BrowserPool {
  private readonly browsers = new Set<BrowserInstance>();
  private readonly admission: Admission;
  private readonly browserWaiters: Array<() => void> = [];
  private nextId = 1;
  private stopped = false;
  private watchdog: NodeJS.Timeout | undefined;
  private lastLaunchError: Error | undefined;
  private launchFailures = 0;
  private relaunchTimer: NodeJS.Timeout | undefined;
  private readonly pinging = new Set<BrowserInstance>();
  private readonly executable: string;
  readonly restartsByReason: Record<RestartReason, number> = {
    'recycle-jobs': 0,
    'recycle-age': 0,
    crash: 0,
    hang: 0,
  };
  /** Observers for metrics: a job's page was lost and the job will be retried or failed. */
  onPageLost: (kind: string) => void = () => {};

  private readonly settings: Required<
    Omit<BrowserPoolOptions, 'logger' | 'extraArgs' | 'openEgressSession' | 'admissionTimers'>
  > & {
    extraArgs: string[];
  };

  constructor(private readonly options: BrowserPoolOptions) {
    const browsers = Math.max(1, Math.min(options.browsers ?? 1, options.concurrency));
    this.settings = {
      chromiumPath: options.chromiumPath,
      proxyServer: options.proxyServer,
      concurrency: options.concurrency,
      queueLimit: options.queueLimit,
      queueWaitMs: options.queueWaitMs ?? 10_000,
      browsers,
      prewarm: options.prewarm ?? Math.ceil(options.concurrency / browsers),
      recycleAfterJobs: options.recycleAfterJobs ?? 500,
      recycleAfterMs: options.recycleAfterMs ?? 30 * 60_000,
      watchdogIntervalMs: options.watchdogIntervalMs ?? 2_000,
      browserHangTimeoutMs: options.browserHangTimeoutMs ?? 10_000,
      rendererHangTimeoutMs: options.rendererHangTimeoutMs ?? 30_000,
      rendererMaxHeapMb: options.rendererMaxHeapMb ?? 2048,
      extraArgs: options.extraArgs ?? [],
      strictSiteIsolation: options.strictSiteIsolation ?? false,
    };
    this.executable = findExecutable(options.chromiumPath);
    this.admission = new Admission(this.settings, options.admissionTimers);
  }

  async start(): Promise<void> {
    if (!ChromiumProcess.reaperAvailable()) {
      this.options.logger.warn(
        'perl not found: Chromium runs without its reaper; run the service under an init that reaps orphans (docker run --init) or install perl-base',
      );
    }
    const launches: Promise<void>[] = [];
    for (let i = 0; i < this.settings.browsers; i += 1) launches.push(this.launch());
    const results = await Promise.allSettled(launches);
    const failure = results.find((result) => result.status === 'rejected');
    if (failure && this.readyBrowsers().length === 0) throw (failure as PromiseRejectedResult).reason;
    this.watchdog = setInterval(() => this.tick(), this.settings.watchdogIntervalMs);
    this.watchdog.unref();
  }

  isReady(): boolean {
    return this.readyBrowsers().length > 0;
  }

  /** Why the last browser launch failed, until one succeeds again (/healthz shows it). */
  get launchFailure(): string | undefined {
    return this.lastLaunchError?.message;
  }

  stats(): PoolStats {
    let warm = 0;
    let ready = 0;
    for (const browser of this.browsers) {
      warm += browser.warmCount;
      if (browser.state === 'ready') ready += 1;
    }
    return {
      running: this.admission.running,
      waiting: this.admission.waitingCount,
      concurrency: this.settings.concurrency,
      queueLimit: this.settings.queueLimit,
      browsers: this.browsers.size,
      ready,
      warm,
      restarts: Object.values(this.restartsByReason).reduce((sum, value) => sum + value, 0),
    };
  }

  /** Every process of every browser (for the zombie tests and diagnostics). */
  processes(): ProcessInfo[] {
    return [...this.browsers].flatMap((browser) => browser.processes());
  }

  browserPids(): number[] {
    return [...this.browsers].map((browser) => browser.pid).filter((pid): pid is number => pid !== undefined);
  }

  /**
   * Runs `job` on a fresh isolated page once a slot is free. The job gets an AttemptScope to run its
   * browser calls under: it aborts on the request's deadline and on the page's loss. A lost page (renderer
   * crash or hang, browser gone) is retried once on a fresh page, then fails with DRIVER_CRASHED.
   */
  async withPage<T>(
    request: {
      proxyServer?: string | undefined;
      /** Whose turn it is in the queue (a project). */ queueKey?: string;
    },
    deadline: JobDeadline,
    job: (context: JobContext) => Promise<T>,
  ): Promise<T> {
    await this.admission.admit(request.queueKey ?? '', deadline);
    try {
      for (let attempt = 1; ; attempt += 1) {
        const scope = new AttemptScope(deadline);
        try {
          return await this.attempt(request, scope, attempt, job);
        } catch (error) {
          if (!(error instanceof PageLostError)) throw error;
          this.onPageLost(error.kind);
          if (deadline.abortedWith !== undefined) throw deadline.abortedWith;
          if (attempt >= 2) {
            throw new ApiError(
              'ERR::SCRAPE::DRIVER_CRASHED',
              `The capture failed twice because the browser stopped working (${describeLoss(error)}); the page may be crashing or hanging its renderer`,
              { retryAfterSeconds: 1 },
            );
          }
          this.options.logger.warn(
            { kind: error.kind, reason: error.message },
            'page lost; retrying the job once',
          );
        }
      }
    } finally {
      this.admission.release();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.relaunchTimer) clearTimeout(this.relaunchTimer);
    const refusal = new ApiError(
      'ERR::SCRAPE::NO_BROWSER_AVAILABLE',
      'The service is shutting down; retry on another instance',
      { retryAfterSeconds: 5 },
    );
    this.admission.stop(refusal);
    for (const wake of this.browserWaiters.splice(0)) wake();
    await Promise.all([...this.browsers].map((browser) => browser.close()));
    this.browsers.clear();
  }

  private async attempt<T>(
    request: { proxyServer?: string | undefined },
    scope: AttemptScope,
    attempt: number,
    job: (context: JobContext) => Promise<T>,
  ): Promise<T> {
    const browser = await this.pickBrowser(scope);
    const acquiring = browser.acquire(request.proxyServer);
    let page: PageHandle;
    try {
      page = await scope.run(acquiring);
    } catch (error) {
      // The page may still arrive after the deadline: it must be thrown away, not leaked.
      acquiring.then(
        (late) => browser.release(late),
        () => {},
      );
      throw asLoss(error);
    }
    page.onLost((loss) => scope.abort(loss));
    const stopWatching = watchRenderer(page, this.settings, (browser) => this.killHung(browser));
    try {
      return await job({ page, scope, attempt });
    } catch (error) {
      if (page.lost) throw page.lost;
      throw asLoss(error);
    } finally {
      stopWatching();
      browser.release(page);
      if (this.shouldRecycle(browser))
        this.recycle(
          browser,
          browser.jobs >= this.settings.recycleAfterJobs ? 'recycle-jobs' : 'recycle-age',
        );
    }
  }

  private readyBrowsers(): BrowserInstance[] {
    return [...this.browsers].filter((browser) => browser.state === 'ready');
  }

  /** The ready browser with the fewest running jobs, waiting (bounded by the scope) when none is ready. */
  private async pickBrowser(scope: AttemptScope): Promise<BrowserInstance> {
    for (;;) {
      if (this.stopped)
        throw new ApiError(
          'ERR::SCRAPE::NO_BROWSER_AVAILABLE',
          'The service is shutting down; retry shortly',
          {
            retryAfterSeconds: 5,
          },
        );
      let best: BrowserInstance | undefined;
      for (const browser of this.readyBrowsers()) {
        if (
          !best ||
          browser.running < best.running ||
          (browser.running === best.running && browser.warmCount > best.warmCount)
        )
          best = browser;
      }
      if (best) return best;
      if (this.lastLaunchError && ![...this.browsers].some((browser) => browser.state === 'starting')) {
        throw new ApiError(
          'ERR::SCRAPE::NO_BROWSER_AVAILABLE',
          `No browser is running: ${this.lastLaunchError.message}. Check SNAPWIRE_CHROMIUM_PATH (${this.settings.chromiumPath}) or install chromium`,
          { retryAfterSeconds: 5 },
        );
      }
      this.ensureBrowsers();
      await scope.run(new Promise<void>((resolve) => this.browserWaiters.push(resolve)));
    }
  }

  private wakeBrowserWaiters(): void {
    for (const wake of this.browserWaiters.splice(0)) wake();
  }

  private liveCount(): number {
    return [...this.browsers].filter((browser) => browser.state === 'starting' || browser.state === 'ready')
      .length;
  }

  private ensureBrowsers(): void {
    if (this.stopped || this.relaunchTimer) return;
    const missing = this.settings.browsers - this.liveCount();
    for (let i = 0; i < missing; i += 1) {
      this.launch().catch(() => {
        // recorded in lastLaunchError; retried with back-off
      });
    }
  }

  private launch(): Promise<void> {
    const browser = new BrowserInstance({
      id: this.nextId++,
      executable: this.executable,
      args: chromiumArgs(this.settings),
      prewarm: this.settings.prewarm,
      launchTimeoutMs: 30_000,
      logger: this.options.logger,
      onExit: (instance, expected) => this.onBrowserExit(instance, expected),
      onReady: () => this.wakeBrowserWaiters(),
      ...(this.options.openEgressSession ? { openEgressSession: this.options.openEgressSession } : {}),
    });
    this.browsers.add(browser);
    return browser.start().then(
      () => {
        this.lastLaunchError = undefined;
        this.launchFailures = 0;
        if (this.stopped) void browser.close();
        this.wakeBrowserWaiters();
      },
      (error: unknown) => {
        this.browsers.delete(browser);
        this.launchFailures += 1;
        this.lastLaunchError = new Error(
          `Chromium could not be started (${this.settings.chromiumPath}): ${(error as Error).message}`,
        );
        this.options.logger.error({ err: error }, 'browser launch failed');
        this.wakeBrowserWaiters();
        if (!this.stopped && !this.relaunchTimer) {
          const delay = Math.min(30_000, 500 * 2 ** Math.min(this.launchFailures, 6));
          this.relaunchTimer = setTimeout(() => {
            this.relaunchTimer = undefined;
            this.ensureBrowsers();
          }, delay);
          this.relaunchTimer.unref();
        }
        throw new ApiError('ERR::SCRAPE::NO_BROWSER_AVAILABLE', this.lastLaunchError.message, {
          cause: error,
          retryAfterSeconds: 5,
        });
      },
    );
  }

  private onBrowserExit(browser: BrowserInstance, expected: boolean): void {
    this.browsers.delete(browser);
    if (!expected && !this.stopped) {
      this.restartsByReason.crash += 1;
      this.options.logger.warn({ browser: browser.id }, 'browser crashed; starting a replacement');
    }
    this.wakeBrowserWaiters();
    if (!this.stopped) this.ensureBrowsers();
  }

  private shouldRecycle(browser: BrowserInstance): boolean {
    if (browser.state !== 'ready') return false;
    return (
      browser.jobs >= this.settings.recycleAfterJobs ||
      Date.now() - browser.startedAt >= this.settings.recycleAfterMs
    );
  }

  /** Drain first: the browser takes no new job, a replacement starts now, the old one closes when idle. */
  private recycle(browser: BrowserInstance, reason: RestartReason): void {
    if (browser.state !== 'ready' || this.stopped) return;
    this.restartsByReason[reason] += 1;
    this.options.logger.info({ browser: browser.id, jobs: browser.jobs, reason }, 'recycling browser');
    browser.drain();
    this.ensureBrowsers();
  }

  private tick(): void {
    if (this.stopped) return;
    for (const browser of this.browsers) {
      if (this.shouldRecycle(browser))
        this.recycle(
          browser,
          browser.jobs >= this.settings.recycleAfterJobs ? 'recycle-jobs' : 'recycle-age',
        );
      if ((browser.state === 'ready' || browser.state === 'draining') && !this.pinging.has(browser)) {
        this.pinging.add(browser);
        void browser
          .ping(this.settings.browserHangTimeoutMs)
          .then((alive) => {
            if (!alive) this.killHung(browser);
          })
          .finally(() => this.pinging.delete(browser));
      }
    }
    this.ensureBrowsers();
  }

  private killHung(browser: BrowserInstance): void {
    if (browser.state === 'closing' || browser.state === 'closed' || this.stopped) return;
    this.restartsByReason.hang += 1;
    void browser.kill(`the browser did not answer for ${this.settings.browserHangTimeoutMs} ms`);
    this.ensureBrowsers();
  }
}

function asLoss(error: unknown): unknown {
  if (error instanceof CdpClosedError) return new PageLostError('browser-gone', error.message);
  return error;
}

function describeLoss(error: PageLostError): string {
  switch (error.kind) {
    case 'renderer-crash':
      return 'the page crashed its renderer';
    case 'renderer-hang':
      return 'the page hung its renderer';
    default:
      return `the browser went away: ${error.message}`;
  }
}
