import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions } from 'playwright-core';
import type { Logger } from 'pino';
import { ApiError } from '../errors.js';

export interface BrowserPoolOptions {
  chromiumPath: string;
  /** Every request of the browser goes through this proxy (the egress guard). */
  proxyServer: string;
  /** Captures that may run at once in this process. */
  concurrency: number;
  /** Captures that may wait for a free slot; beyond this, requests are refused with 429 at once. */
  queueLimit: number;
  logger: Logger;
}

/** Flags that work on this kind of machine (see README): no sandbox as root, no GPU, no background traffic. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * One long-lived Chromium; each job runs in a fresh browser context (no cookie, storage or cache survives
 * into another job). Admission is bounded: `concurrency` running, `queueLimit` waiting, then an immediate
 * 429. A browser that died is relaunched on the next job.
 */
export class BrowserPool {
  private browser: Browser | undefined;
  private launching: Promise<Browser> | undefined;
  private running = 0;
  private readonly waiting: Waiter[] = [];
  restarts = 0;
  private stopped = false;

  constructor(private readonly options: BrowserPoolOptions) {}

  async start(): Promise<void> {
    await this.ensureBrowser();
  }

  isReady(): boolean {
    return this.browser?.isConnected() === true;
  }

  stats(): { running: number; waiting: number; concurrency: number; queueLimit: number } {
    return {
      running: this.running,
      waiting: this.waiting.length,
      concurrency: this.options.concurrency,
      queueLimit: this.options.queueLimit,
    };
  }

  /** Runs `job` in a new isolated context once a slot is free, or before `deadlineAt` fails with a timeout. */
  async withContext<T>(
    contextOptions: BrowserContextOptions,
    deadlineAt: number,
    job: (context: BrowserContext) => Promise<T>,
  ): Promise<T> {
    await this.admit(deadlineAt);
    let context: BrowserContext | undefined;
    try {
      const browser = await this.ensureBrowser();
      context = await browser.newContext(contextOptions);
      return await job(context);
    } finally {
      if (context) await context.close().catch(() => {});
      this.release();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const waiter of this.waiting.splice(0)) {
      waiter.reject(
        new ApiError(
          'ERR::SCRAPE::NO_BROWSER_AVAILABLE',
          'The service is shutting down; retry on another instance',
        ),
      );
    }
    const browser = this.browser ?? (await this.launching?.catch(() => undefined));
    this.browser = undefined;
    await browser?.close().catch(() => {});
  }

  private async admit(deadlineAt: number): Promise<void> {
    if (this.stopped)
      throw new ApiError('ERR::SCRAPE::NO_BROWSER_AVAILABLE', 'The service is shutting down; retry shortly');
    if (this.running < this.options.concurrency) {
      this.running += 1;
      return;
    }
    if (this.waiting.length >= this.options.queueLimit) {
      throw new ApiError(
        'ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED',
        `All ${this.options.concurrency} capture slots are busy and ${this.waiting.length} requests already wait; retry in a moment`,
        { retryAfterSeconds: 2 },
      );
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject,
      };
      const timer = setTimeout(
        () => {
          const index = this.waiting.indexOf(waiter);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(
            new ApiError(
              'ERR::SCRAPE::OPERATION_TIMEOUT',
              'The request waited for a free browser slot until its timeout; retry later or raise timeout',
              {
                retryAfterSeconds: 2,
              },
            ),
          );
        },
        Math.max(0, deadlineAt - Date.now()),
      );
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.resolve();
    else this.running -= 1;
  }

  private async ensureBrowser(): Promise<Browser> {
    if (this.browser?.isConnected()) return this.browser;
    this.launching ??= this.launch().finally(() => {
      this.launching = undefined;
    });
    return this.launching;
  }

  private async launch(): Promise<Browser> {
    if (this.browser) {
      this.restarts += 1;
      this.options.logger.warn('browser disconnected; launching a new one');
    }
    try {
      const browser = await chromium.launch({
        executablePath: findExecutable(this.options.chromiumPath),
        headless: true,
        args: [
          ...CHROMIUM_FLAGS,
          `--proxy-server=${this.options.proxyServer}`,
          // Send loopback through the proxy too (Chromium bypasses it for localhost by default) ...
          '--proxy-bypass-list=<-loopback>',
          // ... and never resolve a name itself: the proxy resolves, checks and pins every address.
          '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
        ],
      });
      this.browser = browser;
      return browser;
    } catch (error) {
      throw new ApiError(
        'ERR::SCRAPE::NO_BROWSER_AVAILABLE',
        `Chromium could not be started (${this.options.chromiumPath}); install it (apt-get install chromium) or set SNAPWIRE_CHROMIUM_PATH`,
        { cause: error, retryAfterSeconds: 5 },
      );
    }
  }
}

/** Playwright wants a path; a bare name such as `chromium` is looked up on PATH like a shell would. */
export function findExecutable(name: string): string {
  if (name.includes('/')) return name;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return name;
}
