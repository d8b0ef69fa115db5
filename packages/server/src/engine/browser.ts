// Over 400 lines as one coherent thing: one Chromium process (BrowserInstance) and the pages it lends
// (PageHandle): launch, pre-warmed contexts, acquire and release, loss, drain and close share one state.
import type { Logger } from 'pino';
import { CdpClosedError, type CdpSession } from './cdp.js';
import { ChromiumProcess, type ProcessInfo } from './chromium-process.js';

/** Why a page stopped being usable in the middle of a job. The pool retries the job once on a fresh page. */
export type LossKind = 'renderer-crash' | 'renderer-hang' | 'browser-gone';

export class PageLostError extends Error {
  constructor(
    readonly kind: LossKind,
    message: string,
  ) {
    super(message);
    this.name = 'PageLostError';
  }
}

/**
 * Blocks service-worker registration in every document of the page. The context is thrown away after the
 * job anyway (nothing survives into another job), but a worker could otherwise answer the page's requests
 * from a cache during the job.
 */
const NO_SERVICE_WORKERS = `(() => { try {
  if (navigator.serviceWorker) Object.defineProperty(navigator.serviceWorker, 'register', { value: () => Promise.reject(new DOMException('Service workers are disabled by Snapwire', 'SecurityError')) });
} catch {} })();`;

let nextPageId = 1;

/** One isolated browser context holding one page, attached through a flat CDP session. */
/**
 * A listener of the egress proxy of its own (PinningProxy.openSession()): what it refused or failed to
 * reach is known per page, not only per process.
 */
export interface EgressSession {
  server: string;
  failureFor(hostname: string): { kind: string; reason: string } | undefined;
  /** Whether a response is this session's own proxy answer (a verdict to trust). */
  isOwnAnswer?(headers: Record<string, unknown>): boolean;
  close(): Promise<void>;
}

/** What Target.targetCreated says of a new target (the fields read here). */
interface OpenedTarget {
  targetId: string;
  type: string;
  /** The target that opened this one (a pop-up's opener). */
  openerId?: string;
}

export class PageHandle {
  readonly id = nextPageId++;
  private lostError: PageLostError | undefined;
  private readonly lostListeners: Array<(error: PageLostError) => void> = [];
  /** Set when the job took it: a warm page is one nobody has used. */
  used = false;
  /** The page's own egress proxy listener, when the browser gives each context one. */
  egress: EgressSession | undefined;

  constructor(
    readonly browser: BrowserInstance,
    readonly browserContextId: string,
    readonly targetId: string,
    readonly session: CdpSession,
    readonly proxyServer: string | undefined,
  ) {}

  get lost(): PageLostError | undefined {
    return this.lostError;
  }

  lose(error: PageLostError): void {
    if (this.lostError) return;
    this.lostError = error;
    for (const listener of this.lostListeners.splice(0)) listener(error);
  }

  onLost(listener: (error: PageLostError) => void): void {
    if (this.lostError) listener(this.lostError);
    else this.lostListeners.push(listener);
  }
}

export interface BrowserOptions {
  id: number;
  executable: string;
  args: string[];
  /** Isolated contexts kept ready (context + page + enabled domains) so that a job starts on a ready page. */
  prewarm: number;
  /** Budget for launching and for one context disposal before the browser is declared hung. */
  launchTimeoutMs: number;
  logger: Logger;
  /** Called once when the process is gone, for whatever reason. */
  onExit: (browser: BrowserInstance, expected: boolean) => void;
  /** Called when a warm page became ready (a waiting job may want it). */
  onReady: (browser: BrowserInstance) => void;
  /** Gives each context (warm ones included) its own egress proxy listener, unless the job brings a proxy. */
  openEgressSession?: () => Promise<EgressSession>;
}

export type BrowserState = 'starting' | 'ready' | 'draining' | 'closing' | 'closed';

/**
 * One Chromium process: its pages, its pre-warmed contexts, its job count and age (for recycling).
 * Decisions (which browser, when to recycle, when a browser is hung) belong to the pool.
 */
export class BrowserInstance {
  state: BrowserState = 'starting';
  readonly startedAt = Date.now();
  /** Jobs that took a page from this browser since it started. */
  jobs = 0;
  /** Pages held by jobs right now. */
  running = 0;
  private process: ChromiumProcess | undefined;
  private readonly pages = new Map<string, PageHandle>();
  private readonly warm: PageHandle[] = [];
  private warming = 0;
  private disposing = 0;
  private expectedExit = false;
  private closedPromise: Promise<void> | undefined;

  constructor(readonly options: BrowserOptions) {}

  get id(): number {
    return this.options.id;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get warmCount(): number {
    return this.warm.length;
  }

  get reaped(): boolean {
    return this.process?.reaped ?? false;
  }

  processes(): ProcessInfo[] {
    return this.process?.descendants() ?? [];
  }

  async start(): Promise<void> {
    const process = ChromiumProcess.launch({
      executable: this.options.executable,
      args: this.options.args,
      onExit: (code, signal) => this.onProcessExit(code, signal),
    });
    this.process = process;
    const root = process.connection.root;
    // The pipe closes before the process is reaped: from that moment the browser takes no job.
    process.connection.onClose((reason) => {
      if (this.state === 'starting' || this.state === 'ready' || this.state === 'draining')
        this.state = 'closing';
      this.loseAll(new PageLostError('browser-gone', `the browser connection closed (${reason})`));
    });
    const version = await withTimeout(
      root.send<{ product: string }>('Browser.getVersion'),
      this.options.launchTimeoutMs,
      'Chromium did not answer after launch',
    ).catch(async (error: unknown) => {
      await process.kill();
      const tail = process.lastStderr.trim().split('\n').slice(-3).join(' | ');
      throw new Error(`${(error as Error).message}${tail ? ` (stderr: ${tail})` : ''}`, { cause: error });
    });
    // Pop-ups (window.open, target=_blank) are closed as they open: the capture is of the page asked
    // for, and a page cannot start renderers of its own (a pop-up storm) that take CPU from other jobs.
    root.on('Target.targetCreated', ({ targetInfo }: { targetInfo: OpenedTarget }) => {
      if (targetInfo.type === 'page' && targetInfo.openerId !== undefined) {
        root.send('Target.closeTarget', { targetId: targetInfo.targetId }).catch(() => {});
      }
    });
    await withTimeout(
      root.send('Target.setDiscoverTargets', { discover: true, filter: [{ type: 'page' }] }),
      this.options.launchTimeoutMs,
      'Chromium did not start reporting its pages',
    );
    this.options.logger.info(
      { browser: this.id, pid: process.pid, product: version.product },
      'browser ready',
    );
    if (this.state === 'starting') this.state = 'ready';
    this.fillWarm();
  }

  /** A fresh isolated page: a warm one when there is one (and no per-job proxy), else made now. */
  async acquire(proxyServer: string | undefined): Promise<PageHandle> {
    this.jobs += 1;
    this.running += 1;
    try {
      let page: PageHandle | undefined;
      if (proxyServer === undefined) {
        while (!page && this.warm.length > 0) {
          const candidate = this.warm.shift() as PageHandle;
          if (!candidate.lost) page = candidate;
          else this.dispose(candidate);
        }
      }
      page ??= await this.createPage(proxyServer);
      page.used = true;
      this.fillWarm();
      return page;
    } catch (error) {
      this.running -= 1;
      throw error;
    }
  }

  /** The job is done with the page: its context (cookies, storage, cache, workers) is destroyed. */
  release(page: PageHandle): void {
    this.running = Math.max(0, this.running - 1);
    this.dispose(page);
    this.fillWarm();
  }

  /** Stops taking jobs; closes itself when the running ones are done. */
  drain(): void {
    if (this.state !== 'ready' && this.state !== 'starting') return;
    this.state = 'draining';
    for (const page of this.warm.splice(0)) this.dispose(page);
    this.closeIfDrained();
  }

  closeIfDrained(): void {
    if (this.state === 'draining' && this.running === 0) void this.close();
  }

  /** Answers within `timeoutMs` when the browser process is responsive. */
  async ping(timeoutMs: number): Promise<boolean> {
    const process = this.process;
    if (!process?.isRunning) return false;
    try {
      await withTimeout(process.connection.root.send('Browser.getVersion'), timeoutMs, 'ping');
      return true;
    } catch {
      return false;
    }
  }

  /** Graceful close: Chromium shuts its renderers down; escalates to kill after a grace period. */
  close(): Promise<void> {
    if (this.closedPromise) return this.closedPromise;
    this.state = 'closing';
    this.expectedExit = true;
    for (const page of this.warm.splice(0)) page.lose(new PageLostError('browser-gone', 'browser closed'));
    this.closedPromise = (async () => {
      await this.process?.close();
      this.state = 'closed';
    })();
    return this.closedPromise;
  }

  /** Hung or misbehaving: no asking. Every page it held is lost (their jobs are retried elsewhere). */
  kill(reason: string): Promise<void> {
    this.options.logger.warn({ browser: this.id, pid: this.pid, reason }, 'killing browser');
    this.loseAll(new PageLostError('browser-gone', reason));
    if (this.closedPromise) return this.closedPromise.then(() => this.process?.kill());
    this.state = 'closing';
    this.closedPromise = (async () => {
      await this.process?.kill();
      this.state = 'closed';
    })();
    return this.closedPromise;
  }

  private onProcessExit(code: number | null, signal: NodeJS.Signals | null): void {
    const expected = this.expectedExit;
    if (!expected) {
      this.options.logger.warn(
        { browser: this.id, code, signal, stderr: this.process?.lastStderr.slice(-500) },
        'browser exited unexpectedly',
      );
    }
    this.state = 'closed';
    this.loseAll(new PageLostError('browser-gone', `the browser exited (${signal ?? `code ${code}`})`));
    this.options.onExit(this, expected);
  }

  private loseAll(error: PageLostError): void {
    for (const page of this.pages.values()) {
      page.lose(error);
      void page.egress?.close().catch(() => {});
    }
    this.warm.splice(0);
  }

  private fillWarm(): void {
    if (this.state !== 'ready' || this.warming > 0) return;
    if (this.warm.length + this.warming >= this.options.prewarm) return;
    this.warming += 1;
    this.createPage(undefined)
      .then((page) => {
        if (this.state === 'ready') {
          this.warm.push(page);
          this.options.onReady(this);
        } else this.dispose(page);
      })
      .catch((error: unknown) => {
        if (this.state === 'ready')
          this.options.logger.warn({ browser: this.id, err: error }, 'pre-warming a context failed');
      })
      .finally(() => {
        this.warming -= 1;
        // One at a time: a burst of renderer launches would steal the CPU from the running jobs.
        if (this.state === 'ready') setImmediate(() => this.fillWarm());
      });
  }

  /** Grants permissions to every origin of one context (a capture has nobody to answer a prompt). */
  async grantPermissions(browserContextId: string, permissions: string[]): Promise<void> {
    const process = this.process;
    if (!process?.isRunning) throw new PageLostError('browser-gone', 'the browser is not running');
    await process.connection.root.send('Browser.grantPermissions', { permissions, browserContextId });
  }

  private async createPage(proxyServer: string | undefined): Promise<PageHandle> {
    const process = this.process;
    if (!process || !process.isRunning) throw new PageLostError('browser-gone', 'the browser is not running');
    const connection = process.connection;
    const root = connection.root;
    const egress =
      proxyServer === undefined && this.options.openEgressSession
        ? await this.options.openEgressSession()
        : undefined;
    const contextProxy = proxyServer ?? egress?.server;
    let browserContextId: string;
    try {
      ({ browserContextId } = await root.send<{ browserContextId: string }>('Target.createBrowserContext', {
        disposeOnDetach: false,
        ...(contextProxy
          ? // Loopback goes through the proxy too (Chromium bypasses it for localhost by default).
            { proxyServer: contextProxy, proxyBypassList: '<-loopback>' }
          : {}),
      }));
    } catch (error) {
      void egress?.close().catch(() => {});
      throw error;
    }
    let targetId: string | undefined;
    try {
      ({ targetId } = await root.send<{ targetId: string }>('Target.createTarget', {
        url: 'about:blank',
        browserContextId,
      }));
      const { sessionId } = await root.send<{ sessionId: string }>('Target.attachToTarget', {
        targetId,
        flatten: true,
      });
      const session = connection.session(sessionId);
      const page = new PageHandle(this, browserContextId, targetId, session, proxyServer);
      page.egress = egress;
      this.pages.set(targetId, page);
      session.on('Inspector.targetCrashed', () =>
        page.lose(new PageLostError('renderer-crash', 'the page crashed its renderer process')),
      );
      session.on('detached', () => page.lose(new PageLostError('browser-gone', 'the page was detached')));
      session.on('__closed', () =>
        page.lose(new PageLostError('browser-gone', 'the browser connection closed')),
      );
      // Dialogs (alert/confirm/prompt) would stop the page until answered: accept them at once.
      session.on('Page.javascriptDialogOpening', () => {
        session.send('Page.handleJavaScriptDialog', { accept: true }).catch(() => {});
      });
      await Promise.all([
        session.send('Inspector.enable'),
        session.send('Page.enable'),
        session.send('Network.enable', { maxTotalBufferSize: 0, maxResourceBufferSize: 0 }),
        session.send('Network.setBypassServiceWorker', { bypass: true }),
        session.send('Page.addScriptToEvaluateOnNewDocument', { source: NO_SERVICE_WORKERS }),
        root.send('Browser.setDownloadBehavior', { behavior: 'deny', browserContextId }),
      ]);
      return page;
    } catch (error) {
      root.send('Target.disposeBrowserContext', { browserContextId }).catch(() => {});
      void egress?.close().catch(() => {});
      if (targetId) this.pages.delete(targetId);
      if (error instanceof CdpClosedError) throw new PageLostError('browser-gone', error.message);
      throw error;
    }
  }

  private dispose(page: PageHandle): void {
    this.pages.delete(page.targetId);
    void page.egress?.close().catch(() => {});
    const process = this.process;
    if (!process?.isRunning) return;
    this.disposing += 1;
    withTimeout(
      process.connection.root.send('Target.disposeBrowserContext', {
        browserContextId: page.browserContextId,
      }),
      this.options.launchTimeoutMs,
      'disposing a context',
    )
      .catch((error: unknown) => {
        if (!process.isRunning || error instanceof CdpClosedError) return;
        // A browser that cannot throw a context away is not one to keep.
        if ((error as Error).message.includes('timed out'))
          void this.kill('a context could not be disposed in time');
      })
      .finally(() => {
        this.disposing -= 1;
        this.closeIfDrained();
      });
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  promise.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
