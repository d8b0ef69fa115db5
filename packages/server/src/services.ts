import type { Logger } from 'pino';
import type { ConcurrencyLeases } from './accounts/concurrency-leases.js';
import type { CreditLedger } from './accounts/credits.js';
import type { ProjectService } from './accounts/projects.js';
import type { Settings } from './config/settings.js';
import type { BrowserPool } from './engine/browser-pool.js';
import type { ScreenshotService } from './jobs/screenshot-service.js';
import type { ScrapeService } from './scrape/scrape-service.js';
import type { CrawlService } from './crawler/crawl-service.js';
import type { ExtractionService } from './jobs/extraction-service.js';
import type { TemplateStore } from './extraction/template-store.js';
import type { Clock } from './clock.js';
import type { LogQueries } from './logs/log-queries.js';
import type { LogStore } from './logs/log-store.js';
import type { MonitoringMetrics } from './logs/log-metrics.js';
import type { BlobStore } from './results/blob-store.js';
import type { ScreenshotComparisons } from './compare/screenshot-comparisons.js';
import type { DashboardRooms } from './dashboard/rooms.js';
import type { FleetMaintenance } from './store/fleet-maintenance.js';
import type { AsyncScreenshots } from './jobs/async-screenshots.js';
import type { AsyncScrapes } from './jobs/async-scrapes.js';
import type { AsyncExtractions } from './jobs/async-extractions.js';
import type { JobWorker } from './jobs/worker.js';
import type { JobQueue } from './queue/job-queue.js';
import type { AttemptHistory } from './webhooks/attempt-history.js';
import type { WebhookRegistry } from './webhooks/registry.js';
import type { Scheduler } from './schedules/scheduler.js';
import type { ScheduleStore } from './schedules/store.js';
import type { MonitorRunner } from './monitors/runner.js';
import type { MonitorStore } from './monitors/store.js';
import type { WebhookService } from './webhooks/webhook-service.js';
import type { RetentionSweeper } from './retention/retention-sweeper.js';
import type { AuditLog } from './audit/audit-log.js';
import type { SingleSignOn } from './team/single-sign-on.js';

/** What the HTTP routes may use. Routes never touch SQL; they call these. */
export interface Services {
  settings: Settings;
  logger: Logger;
  clock: Clock;
  /** True when every bundled migration has run (readiness). */
  storeMigrated(): Promise<boolean>;
  projects: ProjectService;
  credits: CreditLedger;
  concurrency: ConcurrencyLeases;
  pool: BrowserPool;
  screenshots: ScreenshotService;
  /** The Web Scraping API (/scrape). */
  scrapes: ScrapeService;
  /** The Crawler API (/crawl). */
  crawls: CrawlService;
  /** POST /extraction: rules templates and the operator's language model. */
  extractions: ExtractionService;
  /** Saved extraction templates per project and environment (/extraction/templates). */
  extractionTemplates: TemplateStore;
  logs: LogStore;
  /** Reads of the monitoring log across projects (the dashboard). */
  logQueries: LogQueries;
  /** Aggregates of the monitoring log (the monitoring API and the dashboard's overview). */
  logMetrics: MonitoringMetrics;
  blobs: BlobStore;
  /** Two stored screenshots compared (GET /screenshot/compare, visual change monitoring). */
  comparisons: ScreenshotComparisons;
  webhooks: WebhookRegistry;
  /** Every change to webhooks goes through it (limits hold for the API and the dashboard alike). */
  webhookService: WebhookService;
  /** Keeps every table to its retention (sweep() on demand; it also runs on an interval). */
  retention: RetentionSweeper;
  /** Who changed what and signed in from where (the dashboard's audit page; SNAPWIRE_AUDIT_RETENTION_DAYS). */
  audit: AuditLog;
  /** The dashboard's accounts, team and cross-room queries (dashboard/rooms.ts). */
  dashboard: DashboardRooms;
  /** The dashboard's OpenID Connect sign-in (SNAPWIRE_OIDC_*); undefined when not configured. */
  sso: SingleSignOn | undefined;
  asyncScreenshots: AsyncScreenshots;
  /** /scrape?webhook_name= and POST /extraction?webhook_name=: queued, run by the worker, delivered. */
  asyncScrapes: AsyncScrapes;
  asyncExtractions: AsyncExtractions;
  queue: JobQueue;
  worker: JobWorker;
  attempts: AttemptHistory;
  schedules: ScheduleStore;
  scheduler: Scheduler;
  /** Visual change monitors (docs/monitors.md) and the loop that runs them. */
  monitors: MonitorStore;
  monitorRunner: MonitorRunner;
  /**
   * The fleet: whether the wake-up listener is connected (PostgreSQL only; for /healthz), and the
   * once-per-fleet scheduler that maintenance sweeps (retention, lease recovery) register with.
   */
  fleet?: { wakeupsListening(): boolean | undefined; maintenance: FleetMaintenance };
}
