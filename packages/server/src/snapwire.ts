// Over 400 lines as one coherent thing: the composition root: every room is built and wired here, in
// start order, and closed in reverse; split up, the order would be spread over files that import each other.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { ConcurrencyLeases } from './accounts/concurrency-leases.js';
import { CreditLedger } from './accounts/credits.js';
import type { Environment } from './accounts/keys.js';
import { ProjectService } from './accounts/projects.js';
import { startStopwatch, systemClock, type Clock } from './clock.js';
import type { Settings } from './config/settings.js';
import { operatorEndpointGuard, pinnedDispatcher } from './egress/operator-endpoint.js';
import { EgressGuard } from './egress/guard.js';
import { PinningProxy } from './egress/pinning-proxy.js';
import { EgressPolicy } from './egress/policy.js';
import { SystemResolver, type Resolver } from './egress/resolver.js';
import { BrowserPool } from './engine/browser-pool.js';
import { CountryEgress } from './egress/country-proxy.js';
import { Metrics } from './metrics/metrics.js';
import { ResultsJanitor } from './results/janitor.js';
import { ScreenshotCache } from './results/screenshot-cache.js';
import { buildApp } from './http/app.js';
import { ScreenshotService } from './jobs/screenshot-service.js';
import { ScrapeCache } from './scrape/scrape-cache.js';
import { ScrapeSessionStore } from './scrape/session-store.js';
import { ScrapeService } from './scrape/scrape-service.js';
import { CrawlEvents } from './crawler/crawl-events.js';
import { renderForCrawl } from './scrape/render-page.js';
import { CrawlService } from './crawler/crawl-service.js';
import { CrawlStore } from './crawler/crawl-store.js';
import { CrawlWorker } from './crawler/crawl-worker.js';
import { chooseLogFormat, createLogger } from './logger.js';
import { LogQueries } from './logs/log-queries.js';
import { LogStore } from './logs/log-store.js';
import { MonitoringMetrics } from './logs/log-metrics.js';
import { LocalBlobStore, type BlobStore } from './results/blob-store.js';
import { S3BlobStore } from './results/s3-blob-store.js';
import { FleetLock, withStartupLock } from './store/fleet-lock.js';
import { FleetMaintenance } from './store/fleet-maintenance.js';
import { FleetWakeups } from './queue/fleet-wakeups.js';
import { RetentionSweeper } from './retention/retention-sweeper.js';
import { AuditLog } from './audit/audit-log.js';
import { LOGIN_WINDOW_MS, sweepExpiredSignIns } from './dashboard/auth.js';
import { sweepExpiredChallenges } from './dashboard/two-factor.js';
import { createDashboardRooms } from './dashboard/rooms.js';
import { SingleSignOn } from './team/single-sign-on.js';
import type { Services } from './services.js';
import { GuardedHttpClient, checkWebhookUrl } from './egress/http-client.js';
import { AsyncScreenshots } from './jobs/async-screenshots.js';
import { JobWorker } from './jobs/worker.js';
import type { AsyncJobDeps } from './jobs/async-jobs.js';
import { AsyncScrapes } from './jobs/async-scrapes.js';
import { AsyncExtractions } from './jobs/async-extractions.js';
import { ScrapeJobRunner } from './jobs/scrape-jobs.js';
import { ExtractionJobRunner } from './jobs/extraction-jobs.js';
import { JobQueue } from './queue/job-queue.js';
import { AttemptHistory } from './webhooks/attempt-history.js';
import { DeliveryService } from './webhooks/delivery-service.js';
import { guardedTransport } from './webhooks/guarded-transport.js';
import { WebhookRegistry } from './webhooks/registry.js';
import { WebhookService } from './webhooks/webhook-service.js';
import { RetryPolicy } from './webhooks/retry-policy.js';
import type { WebhookTransport } from './webhooks/transport.js';
import { isMigrated, migrateToLatest, openStore, type Store } from './store/database.js';
import { Scheduler } from './schedules/scheduler.js';
import { ScheduleStore } from './schedules/store.js';
import { MonitorRunner } from './monitors/runner.js';
import { MonitorStore } from './monitors/store.js';
import { ensureAdminAccount } from './admin/admin-password.js';
import { reachableUrls, type BoundAddress } from './listen-addresses.js';
import { removeStaleProfileFolders } from './engine/profile-folders.js';
import { ExtractionService } from './jobs/extraction-service.js';
import { OpenAiCompatibleModel } from './extraction/model-client.js';
import { TemplateStore } from './extraction/template-store.js';
import { ScreenshotComparisons } from './compare/screenshot-comparisons.js';

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
  /** Leave the scheduler loop stopped (tests that call its tick by hand). */
  startScheduler?: boolean;
  /** Launch no browser (tests of the APIs that need none, such as /extraction). */
  startBrowsers?: boolean;
}

export interface Snapwire {
  app: FastifyInstance;
  services: Services;
  /** The store the rooms were built over: for tests and scripts that read rows; the faces never get it. */
  store: Store;
  /** Keys of the default project when this start created it (shown once), else undefined. */
  createdDefaultKeys: Record<Environment, string> | undefined;
  /** The dashboard admin's password when this start generated it (shown once), else undefined. */
  createdAdminPassword: string | undefined;
  /** Whether this start found an existing store (a restart) rather than creating it. */
  restarted: boolean;
  /** The URLs the server is reachable at, after listen() (wildcard binds expanded to interfaces). */
  listeningUrls(): string[];
  /** The address the server listens on, after listen(). */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** Pages one node fetches at once over all crawls; each crawl's max_concurrency holds fleet-wide. */
const CRAWL_SLOTS_PER_NODE = 16;
/** A page's fetch is bounded by this; the lease (SNAPWIRE_CRAWL_LEASE) should outlast it. */
const CRAWL_PAGE_TIMEOUT_MS = 30_000;

/** The blob store of SNAPWIRE_BLOB_STORE: the data folder, or an S3-compatible bucket. */
function openBlobStore(settings: Settings): BlobStore {
  const location = settings.blobStore;
  if (location.kind === 'local') return new LocalBlobStore(path.join(settings.dataDir, 'blobs'));
  return new S3BlobStore({
    bucket: location.bucket,
    prefix: location.prefix,
    endpoint: settings.s3Endpoint,
    forcePathStyle: settings.s3ForcePathStyle,
    region: settings.awsRegion,
    ...(settings.awsCredentials ? { credentials: settings.awsCredentials } : {}),
  });
}

/** Wires the whole service: store (migrated), accounts, egress proxy, browser pool, HTTP app. */
export async function createSnapwire(settings: Settings, options: SnapwireOptions = {}): Promise<Snapwire> {
  // Every line of a node's log names the node, so that a fleet's logs can be read together.
  const logger = (
    options.logger ?? createLogger(settings.logLevel, chooseLogFormat(settings.logFormat))
  ).child({
    node: settings.nodeId,
  });
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
      const elapsed = startStopwatch();
      await close().catch((error: unknown) => logger.error({ err: error, part: name }, 'close failed'));
      logger.debug({ part: name, ms: elapsed() }, 'closed');
    }
  };

  try {
    const projects = new ProjectService(store.db, clock);
    // N nodes starting at once migrate and create the default project one after the other.
    const createdDefaultKeys = await withStartupLock(store, async () => {
      await migrateToLatest(store);
      return projects.ensureDefault(settings.defaultPlan, {
        ...(settings.bootstrapLiveKey ? { LIVE: settings.bootstrapLiveKey } : {}),
        ...(settings.bootstrapTestKey ? { TEST: settings.bootstrapTestKey } : {}),
      });
    });
    // Made here, not by the dashboard, so that the start banner can show a generated password once.
    const createdAdminPassword = await ensureAdminAccount(store.db, clock, settings.adminPassword);
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
    const leftovers = removeStaleProfileFolders();
    if (leftovers > 0)
      logger.info({ folders: leftovers }, 'removed browser profile folders left by a crashed run');
    if (options.startBrowsers !== false) await pool.start();
    const countries = new CountryEgress(guard, settings.countryProxies, logger);
    closers.push(['countries', () => countries.stop()]);
    const metrics = new Metrics({ pool, node: { id: settings.nodeId, role: settings.role } });
    pool.onPageLost = (kind) => metrics.pagesLost.inc({ kind });
    const cache = new ScreenshotCache(store.db);
    const credits = new CreditLedger(store.db, clock);
    const concurrency = new ConcurrencyLeases(store.db, clock, settings.nodeId, logger);
    concurrency.start();
    closers.push(['concurrency-leases', () => concurrency.stop()]);
    const fleetLock = new FleetLock(store, concurrency.holder, () => clock.now());
    const maintenance = new FleetMaintenance(fleetLock, logger);
    closers.push(['maintenance', () => maintenance.stop()]);
    // Slots of nodes that died are taken over by the next acquirer of the same scope anyway; this sweep
    // keeps the table small and the usage figures exact for scopes nobody is acquiring.
    maintenance.schedule({
      name: 'concurrency-lease-recovery',
      intervalMs: 30_000,
      leaseMs: 60_000,
      run: async () => {
        const recovered = await concurrency.recoverExpired();
        if (recovered > 0) logger.info({ recovered }, 'expired concurrency slots recovered');
      },
    });
    const logs = new LogStore(store.db);
    const blobs = openBlobStore(settings);
    if (blobs instanceof S3BlobStore) closers.push(['blob-store', async () => blobs.close()]);
    if (store.dialect === 'postgres' && blobs.kind === 'local') {
      logger.warn(
        'PostgreSQL with the local blob store: every node of a fleet must share SNAPWIRE_DATA_DIR, or use SNAPWIRE_BLOB_STORE=s3://BUCKET/PREFIX (see docs/deploy.md)',
      );
    }
    const janitor = new ResultsJanitor(
      blobs,
      cache,
      async () => {
        const days = (await projects.list()).map((project) => project.limits.retentionDays);
        return days.length > 0 ? Math.max(...days) : 28;
      },
      () => clock.now(),
      logger,
      // Defined below; only called when a sweep runs, after the start.
      () => monitors.keptBlobs(),
    );
    // One retention room for every table and the results folder, on the injected clock, run once per
    // fleet per interval (store/fleet-maintenance.ts).
    const scrapeSessions = new ScrapeSessionStore(store.db);
    const audit = new AuditLog(store.db, clock);
    // The dashboard's OpenID provider is an operator-configured endpoint, like the language model.
    const ssoDispatcher = settings.oidc ? pinnedDispatcher(operatorEndpointGuard(guard)) : undefined;
    if (ssoDispatcher) closers.push(['sso-client', () => ssoDispatcher.close()]);
    const sso =
      settings.oidc && ssoDispatcher
        ? new SingleSignOn(settings.oidc, settings.publicUrl, ssoDispatcher)
        : undefined;
    const retention = new RetentionSweeper({
      db: store.db,
      clock,
      projects: () => projects.list(),
      sweepResults: () => janitor.sweep(),
      sweepScrapeSessions: (now) => scrapeSessions.sweep(now),
      logger,
      sweepSignIns: async (now) => {
        const swept = await sweepExpiredSignIns(store.db, now, LOGIN_WINDOW_MS);
        await sweepExpiredChallenges(store.db, now);
        return swept;
      },
      auditRetentionDays: settings.auditRetentionDays,
      sweepAudit: (cutoff) => audit.sweep(cutoff),
    });
    retention.start(settings.resultsSweepIntervalMs, (task) => maintenance.schedule(task));
    closers.push(['retention', () => retention.stop()]);
    const screenshots = new ScreenshotService({
      credits,
      concurrency,
      nodeId: settings.nodeId,
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
    // Scrapes without a browser: their own guarded client (connections kept per project).
    const scrapeClient = new GuardedHttpClient(guard, { defaultTimeoutMs: settings.maxTimeoutMs });
    closers.push(['scrape-client', () => scrapeClient.close()]);
    const extractionTemplates = new TemplateStore(store.db, clock);
    const scrapes = new ScrapeService({
      db: store.db,
      templates: extractionTemplates,
      credits,
      concurrency,
      http: scrapeClient,
      pool,
      guard,
      proxy,
      logs,
      clock,
      publicUrl: settings.publicUrl,
      logger,
      nodeId: settings.nodeId,
      maxBodyBytes: settings.scrapeMaxBodyBytes,
      maxRedirects: settings.scrapeMaxRedirects,
      inlineMaxBytes: settings.scrapeInlineMaxBytes,
      capture: {
        loadImages: settings.loadImages,
        maxFullpageHeight: settings.maxFullpageHeight,
        maxOutputPixels: settings.maxOutputPixels,
        bannerWaitMs: settings.bannerWaitMs,
      },
      cache: new ScrapeCache(cache, blobs),
      blobs,
      sessions: scrapeSessions,
      countries,
    });
    // The Crawler API: the frontier in the store, one worker loop per node over every active crawl.
    // A crawl's webhook events are jobs of the webhook queue, delivered by the job worker below.
    const queue = new JobQueue(store.db, store.dialect, clock);
    const crawlEvents = new CrawlEvents(queue, blobs, clock, settings.publicUrl, () => {
      worker.wake();
      wakeups?.announce();
    });
    const crawlStore = new CrawlStore(store.db, store.dialect, clock, crawlEvents);
    const crawlWorker = new CrawlWorker(
      crawlStore,
      scrapeClient,
      blobs,
      credits,
      projects,
      clock,
      {
        nodeId: settings.nodeId,
        slots: CRAWL_SLOTS_PER_NODE,
        leaseMs: settings.crawlLeaseMs,
        pollMs: settings.queuePollMs,
        fetch: {
          maxBodyBytes: settings.scrapeMaxBodyBytes,
          maxRedirects: settings.scrapeMaxRedirects,
          timeoutMs: Math.min(settings.maxTimeoutMs, CRAWL_PAGE_TIMEOUT_MS),
        },
      },
      logger,
      { logs, concurrency },
      // Browser crawls (rendering_delay, render_js) render each page as /scrape?render_js=true does.
      (request, projectId) =>
        renderForCrawl(
          {
            pool,
            guard,
            proxy,
            blobs,
            clock,
            maxBodyBytes: settings.scrapeMaxBodyBytes,
            capture: {
              loadImages: settings.loadImages,
              maxFullpageHeight: settings.maxFullpageHeight,
              maxOutputPixels: settings.maxOutputPixels,
              bannerWaitMs: settings.bannerWaitMs,
            },
          },
          request,
          projectId,
        ),
      // prompt and model extraction_rules: POST /extraction's model path, billed and logged as it is.
      settings.llm
        ? async (crawl, page) => {
            const project = await projects.findById(crawl.projectId);
            if (!project) throw new Error(`no project ${crawl.projectId}`);
            const outcome = await extractions.extractPage({ project, env: crawl.env }, page);
            return { data: outcome.result.data, cost: outcome.cost };
          }
        : undefined,
    );
    const webhooks = new WebhookRegistry(store.db, clock, async (url) => {
      await checkWebhookUrl(url, guard);
    });
    const crawls = new CrawlService(
      crawlStore,
      blobs,
      credits,
      clock,
      () => crawlWorker.wake(),
      webhooks,
      extractionTemplates,
      settings.llm !== undefined,
    );
    // Its kept-alive connections to the operator's model are closed at shutdown.
    const modelDispatcher = settings.llm ? pinnedDispatcher(operatorEndpointGuard(guard)) : undefined;
    if (modelDispatcher) closers.push(['model-client', () => modelDispatcher.close()]);
    const extractions = new ExtractionService({
      credits,
      concurrency,
      logs,
      clock,
      logger,
      maxDocumentBytes: settings.extractionMaxBytes,
      model:
        settings.llm && modelDispatcher
          ? new OpenAiCompatibleModel(settings.llm, logger, modelDispatcher)
          : undefined,
      templates: extractionTemplates,
      nodeId: settings.nodeId,
    });
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
      concurrency,
    );
    // LISTEN/NOTIFY on PostgreSQL: a job queued or made due on any node wakes every node's worker.
    const databaseUrl = store.dialect === 'postgres' ? settings.databaseUrl : undefined;
    const wakeups = databaseUrl
      ? new FleetWakeups(
          databaseUrl,
          options.postgresSchema,
          (channel) => sql`select pg_notify(${channel}, '')`.execute(store.db),
          () => worker.wake(),
          logger,
        )
      : undefined;
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
        leaseMs: settings.jobLeaseMs,
        publicUrl: settings.publicUrl,
        nodeId: settings.nodeId,
        ...(wakeups ? { announce: () => wakeups.announce() } : {}),
      },
      logger,
      {
        scrape: new ScrapeJobRunner(scrapes, blobs),
        extraction: new ExtractionJobRunner(extractions, blobs),
      },
    );
    const asyncScreenshots = new AsyncScreenshots(
      store.db,
      queue,
      webhooks,
      blobs,
      clock,
      settings.publicUrl,
      () => {
        worker.wake();
        wakeups?.announce();
      },
    );
    const asyncJobDeps: AsyncJobDeps = {
      db: store.db,
      queue,
      webhooks,
      clock,
      publicUrl: settings.publicUrl,
      wake: () => {
        worker.wake();
        wakeups?.announce();
      },
    };
    const asyncScrapes = new AsyncScrapes(asyncJobDeps, blobs);
    const asyncExtractions = new AsyncExtractions(asyncJobDeps, blobs, extractions);
    const scheduler = new Scheduler(
      store.db,
      store.dialect,
      asyncScreenshots,
      projects,
      clock,
      { pollMs: settings.schedulerPollMs, maxTimeoutMs: settings.maxTimeoutMs },
      logger,
      asyncScrapes,
      crawls,
    );
    const schedules = new ScheduleStore(store.db, store.dialect, webhooks, clock, {
      maxTimeoutMs: settings.maxTimeoutMs,
      maxSchedules: settings.maxSchedules,
      minIntervalMs: settings.minScheduleIntervalMs,
    });
    const monitors = new MonitorStore(store.db, webhooks, clock, {
      maxTimeoutMs: settings.maxTimeoutMs,
      minIntervalMs: settings.minScheduleIntervalMs,
      maxMonitors: settings.maxSchedules,
    });
    const monitorRunner = new MonitorRunner(
      {
        db: store.db,
        dialect: store.dialect,
        screenshots,
        projects,
        blobs,
        webhooks,
        queue,
        clock,
        logger,
        wakeDeliveries: () => {
          worker.wake();
          wakeups?.announce();
        },
      },
      {
        pollMs: settings.schedulerPollMs,
        maxTimeoutMs: settings.maxTimeoutMs,
        publicUrl: settings.publicUrl,
      },
    );
    const webhookService = new WebhookService(
      store.db,
      webhooks,
      queue,
      asyncScreenshots,
      clock,
      settings.webhookSecretGraceMs,
      () => worker.wake(),
    );
    const services: Services = {
      retention,
      audit,
      sso,
      webhookService,
      settings,
      logger,
      clock,
      storeMigrated: () => isMigrated(store),
      dashboard: createDashboardRooms(store, clock, settings.dashboardSessionTtlMs),
      projects,
      credits,
      concurrency,
      pool,
      screenshots,
      scrapes,
      crawls,
      extractions,
      extractionTemplates,
      logs,
      logQueries: new LogQueries(store.db),
      logMetrics: new MonitoringMetrics(store.db),
      blobs,
      comparisons: new ScreenshotComparisons(logs, blobs),
      webhooks,
      asyncScreenshots,
      asyncScrapes,
      asyncExtractions,
      queue,
      worker,
      attempts: new AttemptHistory(store.db),
      schedules,
      scheduler,
      monitors,
      monitorRunner,
      fleet: { wakeupsListening: () => wakeups?.listening, maintenance },
    };
    const app = await buildApp(services);
    closers.push(['app', () => app.close()]);
    // Closed first (closers run in reverse): stop taking jobs, then the HTTP server, then the browsers.
    if (wakeups) {
      await wakeups.start();
      closers.push(['wakeups', () => wakeups.stop()]);
    }
    if (options.startWorker !== false) worker.start();
    closers.push(['worker', () => worker.stop()]);
    if (options.startWorker !== false) crawlWorker.start();
    closers.push(['crawl-worker', () => crawlWorker.stop()]);
    // Stopped before the worker (closers run in reverse): no new jobs while the worker drains.
    if (options.startScheduler !== false) scheduler.start();
    closers.push(['scheduler', () => scheduler.stop()]);
    if (options.startScheduler !== false) monitorRunner.start();
    closers.push(['monitors', () => monitorRunner.stop()]);
    return {
      app,
      services,
      store,
      createdDefaultKeys,
      createdAdminPassword,
      restarted: createdDefaultKeys === undefined,
      listeningUrls: () =>
        reachableUrls(app.addresses().filter((bound): bound is BoundAddress => typeof bound !== 'string')),
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
