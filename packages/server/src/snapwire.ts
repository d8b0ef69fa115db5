import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ConcurrencyTracker } from './accounts/concurrency.js';
import { CreditLedger } from './accounts/credits.js';
import type { Environment } from './accounts/keys.js';
import { ProjectService } from './accounts/projects.js';
import { systemClock, type Clock } from './clock.js';
import type { Settings } from './config/settings.js';
import { EgressGuard } from './egress/guard.js';
import { PinningProxy } from './egress/pinning-proxy.js';
import { EgressPolicy } from './egress/policy.js';
import { SystemResolver, type Resolver } from './egress/resolver.js';
import { BrowserPool } from './engine/browser-pool.js';
import { CountryEgress } from './engine/country-egress.js';
import { Metrics } from './metrics/metrics.js';
import { ResultsJanitor } from './results/janitor.js';
import { ScreenshotCache } from './results/screenshot-cache.js';
import { buildApp } from './http/app.js';
import { ScreenshotService } from './jobs/screenshot-service.js';
import { createLogger } from './logger.js';
import { LogStore } from './logs/log-store.js';
import { RetentionRoom } from './logs/retention.js';
import { BlobStore } from './results/blob-store.js';
import type { Services } from './services.js';
import { GuardedHttpClient, checkWebhookUrl } from './egress/http-client.js';
import { AsyncScreenshots } from './jobs/async-screenshots.js';
import { JobWorker } from './jobs/worker.js';
import { JobQueue } from './queue/job-queue.js';
import { AttemptHistory } from './webhooks/attempt-history.js';
import { DeliveryService } from './webhooks/delivery-service.js';
import { guardedTransport } from './webhooks/guarded-transport.js';
import { WebhookRegistry } from './webhooks/registry.js';
import { WebhookService } from './webhooks/webhook-service.js';
import { RetryPolicy } from './webhooks/retry-policy.js';
import type { WebhookTransport } from './webhooks/transport.js';
import { migrateToLatest, openStore } from './store/database.js';

export interface SnapwireOptions {
  /** Name resolution for every outbound connection; tests give their own. */
  resolver?: Resolver;
  clock?: Clock;
  logger?: Logger;
  /** PostgreSQL schema (tests isolate runs with it). */
  postgresSchema?: string;
  /** How deliveries are sent; the egress-guarded client unless a test or benchmark gives another. */
  transport?: WebhookTransport;
  /** Leave the job worker stopped (tests that drive it by hand). */
  startWorker?: boolean;
}

export interface Snapwire {
  app: FastifyInstance;
  services: Services;
  /** Keys of the default project when this start created it (shown once), else undefined. */
  createdDefaultKeys: Record<Environment, string> | undefined;
  /** The address the server listens on, after listen(). */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** Wires the whole service: store (migrated), accounts, egress proxy, browser pool, HTTP app. */
export async function createSnapwire(settings: Settings, options: SnapwireOptions = {}): Promise<Snapwire> {
  const logger = options.logger ?? createLogger(settings.logLevel);
  const clock = options.clock ?? systemClock;
  const store = await openStore({
    databaseUrl: settings.databaseUrl,
    dataDir: settings.dataDir,
    ...(options.postgresSchema ? { postgresSchema: options.postgresSchema } : {}),
  });
  // Closed in reverse order of opening; each step is named so a slow shutdown says which part is slow.
  const closers: Array<[string, () => Promise<void>]> = [['store', () => store.close()]];
  const closeAll = async () => {
    for (const [name, close] of closers.reverse()) {
      const started = Date.now();
      await close().catch((error: unknown) => logger.error({ err: error, part: name }, 'close failed'));
      logger.debug({ part: name, ms: Date.now() - started }, 'closed');
    }
  };

  try {
    await migrateToLatest(store);
    const projects = new ProjectService(store.db, clock);
    const createdDefaultKeys = await projects.ensureDefault(settings.defaultPlan, {
      ...(settings.bootstrapLiveKey ? { LIVE: settings.bootstrapLiveKey } : {}),
      ...(settings.bootstrapTestKey ? { TEST: settings.bootstrapTestKey } : {}),
    });
    const guard = new EgressGuard(
      new EgressPolicy(settings.allowedNetworks, settings.deniedNetworks),
      options.resolver ?? new SystemResolver(),
    );
    const proxy = new PinningProxy(guard, (failure) => logger.debug({ failure }, 'egress refused or failed'));
    const proxyServer = await proxy.start();
    closers.push(['proxy', () => proxy.stop()]);
    const pool = new BrowserPool({
      chromiumPath: settings.chromiumPath,
      proxyServer,
      openEgressSession: () => proxy.openSession(),
      concurrency: settings.browserConcurrency,
      queueLimit: settings.browserQueue,
      queueWaitMs: settings.browserQueueWaitMs,
      browsers: settings.browsers,
      ...(settings.browserPrewarm !== undefined ? { prewarm: settings.browserPrewarm } : {}),
      recycleAfterJobs: settings.browserRecycleJobs,
      recycleAfterMs: settings.browserRecycleAfterMs,
      browserHangTimeoutMs: settings.browserHangTimeoutMs,
      rendererHangTimeoutMs: settings.rendererHangTimeoutMs,
      rendererMaxHeapMb: settings.rendererMaxHeapMb,
      extraArgs: settings.chromiumArgs,
      strictSiteIsolation: settings.strictSiteIsolation,
      logger,
    });
    closers.push(['pool', () => pool.stop()]);
    await pool.start();
    const countries = new CountryEgress(guard, settings.countryProxies, logger);
    closers.push(['countries', () => countries.stop()]);
    const metrics = new Metrics({ pool });
    pool.onPageLost = (kind) => metrics.pagesLost.inc({ kind });
    const cache = new ScreenshotCache(store.db);
    const credits = new CreditLedger(store.db, clock);
    const concurrency = new ConcurrencyTracker();
    const logs = new LogStore(store.db);
    const blobs = new BlobStore(path.join(settings.dataDir, 'blobs'));
    const janitor = new ResultsJanitor(
      blobs,
      cache,
      async () => {
        const days = (await projects.list()).map((project) => project.limits.retentionDays);
        return days.length > 0 ? Math.max(...days) : 28;
      },
      () => clock.now(),
      logger,
    );
    // One retention room for every table and the results folder, on the injected clock.
    const retention = new RetentionRoom({
      db: store.db,
      clock,
      projects: () => projects.list(),
      sweepResults: () => janitor.sweep(),
      logger,
    });
    retention.start(settings.resultsSweepIntervalMs);
    closers.push(['retention', () => retention.stop()]);
    const screenshots = new ScreenshotService({
      credits,
      concurrency,
      pool,
      guard,
      proxy,
      blobs,
      logs,
      clock,
      publicUrl: settings.publicUrl,
      logger,
      capture: {
        loadImages: settings.loadImages,
        maxFullpageHeight: settings.maxFullpageHeight,
        maxOutputPixels: settings.maxOutputPixels,
        bannerWaitMs: settings.bannerWaitMs,
      },
      cache,
      countries,
      metrics,
    });
    const queue = new JobQueue(store.db, store.dialect, clock);
    const webhookClient = new GuardedHttpClient(guard, { defaultTimeoutMs: settings.webhookTimeoutMs });
    // Its kept-alive connections to receivers are closed after the worker stops (closers run in reverse).
    closers.push(['webhook-client', () => webhookClient.close()]);
    const transport = options.transport ?? guardedTransport(webhookClient);
    const delivery = new DeliveryService(
      store.db,
      queue,
      blobs,
      transport,
      new RetryPolicy(settings.webhookRetrySchedule),
      clock,
      {
        publicUrl: settings.publicUrl,
        timeoutMs: settings.webhookTimeoutMs,
        disableAfter: settings.webhookDisableAfter,
        operatorNotifyUrl: settings.operatorNotifyUrl,
      },
      logger,
    );
    const worker = new JobWorker(
      queue,
      screenshots,
      projects,
      blobs,
      logs,
      delivery,
      clock,
      {
        captureSlots: settings.browserConcurrency,
        deliverySlots: settings.webhookConcurrency,
        pollMs: settings.queuePollMs,
      },
      logger,
    );
    const webhooks = new WebhookRegistry(store.db, clock, async (url) => {
      await checkWebhookUrl(url, guard);
    });
    const asyncScreenshots = new AsyncScreenshots(
      store.db,
      store.dialect,
      queue,
      webhooks,
      blobs,
      clock,
      settings.publicUrl,
      () => worker.wake(),
    );
    const webhookService = new WebhookService(
      store.db,
      store.dialect,
      webhooks,
      queue,
      asyncScreenshots,
      clock,
      settings.webhookSecretGraceMs,
      () => worker.wake(),
    );
    const services: Services = {
      clock,
      retention,
      webhookService,
      settings,
      logger,
      store,
      projects,
      credits,
      concurrency,
      pool,
      screenshots,
      logs,
      blobs,
      webhooks,
      asyncScreenshots,
      queue,
      worker,
      attempts: new AttemptHistory(store.db),
    };
    const app = await buildApp(services);
    closers.push(['app', () => app.close()]);
    // Closed first (closers run in reverse): stop taking jobs, then the HTTP server, then the browsers.
    if (options.startWorker !== false) worker.start();
    closers.push(['worker', () => worker.stop()]);
    return {
      app,
      services,
      createdDefaultKeys,
      async listen() {
        return app.listen({ port: settings.port, host: settings.host });
      },
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
