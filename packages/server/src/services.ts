import type { Logger } from 'pino';
import type { ConcurrencyTracker } from './accounts/concurrency.js';
import type { CreditLedger } from './accounts/credits.js';
import type { ProjectService } from './accounts/projects.js';
import type { Settings } from './config/settings.js';
import type { BrowserPool } from './engine/browser-pool.js';
import type { ScreenshotService } from './jobs/screenshot-service.js';
import type { LogStore } from './logs/log-store.js';
import type { BlobStore } from './results/blob-store.js';
import type { Store } from './store/database.js';
import type { AsyncScreenshots } from './jobs/async-screenshots.js';
import type { JobWorker } from './jobs/worker.js';
import type { JobQueue } from './queue/job-queue.js';
import type { AttemptHistory } from './webhooks/attempt-history.js';
import type { WebhookRegistry } from './webhooks/registry.js';
import type { WebhookService } from './webhooks/webhook-service.js';
import type { Clock } from './clock.js';
import type { RetentionRoom } from './logs/retention.js';

/** What the HTTP routes may use. Routes never touch SQL; they call these. */
export interface Services {
  settings: Settings;
  logger: Logger;
  store: Store;
  projects: ProjectService;
  credits: CreditLedger;
  concurrency: ConcurrencyTracker;
  pool: BrowserPool;
  screenshots: ScreenshotService;
  logs: LogStore;
  blobs: BlobStore;
  webhooks: WebhookRegistry;
  /** Every change to webhooks goes through it (limits hold for the API and the dashboard alike). */
  webhookService: WebhookService;
  /** Keeps every table to its retention (sweep() on demand; it also runs on an interval). */
  retention: RetentionRoom;
  /** The injected clock (tests move it). */
  clock: Clock;
  asyncScreenshots: AsyncScreenshots;
  queue: JobQueue;
  worker: JobWorker;
  attempts: AttemptHistory;
}
