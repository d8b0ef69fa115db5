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
import { buildApp } from './http/app.js';
import { ScreenshotService } from './jobs/screenshot-service.js';
import { createLogger } from './logger.js';
import { LogStore } from './logs/log-store.js';
import { BlobStore } from './results/blob-store.js';
import type { Services } from './services.js';
import { migrateToLatest, openStore } from './store/database.js';

export interface SnapwireOptions {
  /** Name resolution for every outbound connection; tests give their own. */
  resolver?: Resolver;
  clock?: Clock;
  logger?: Logger;
  /** PostgreSQL schema (tests isolate runs with it). */
  postgresSchema?: string;
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
  const closers: Array<() => Promise<void>> = [() => store.close()];
  const closeAll = async () => {
    for (const close of closers.reverse())
      await close().catch((error: unknown) => logger.error({ err: error }, 'close failed'));
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
    closers.push(() => proxy.stop());
    const pool = new BrowserPool({
      chromiumPath: settings.chromiumPath,
      proxyServer,
      concurrency: settings.browserConcurrency,
      queueLimit: settings.browserQueue,
      logger,
    });
    closers.push(() => pool.stop());
    await pool.start();
    const credits = new CreditLedger(store.db, clock);
    const concurrency = new ConcurrencyTracker();
    const logs = new LogStore(store.db);
    const blobs = new BlobStore(path.join(settings.dataDir, 'blobs'));
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
    });
    const services: Services = {
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
    };
    const app = await buildApp(services);
    closers.push(() => app.close());
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
