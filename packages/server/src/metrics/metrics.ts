import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the engine metrics read from the pool at scrape time. */
export interface PoolGaugeSource {
  stats(): {
    running: number;
    waiting: number;
    concurrency: number;
    queueLimit: number;
    browsers: number;
    ready: number;
    warm: number;
  };
  readonly restartsByReason: Record<string, number>;
}

/**
 * The service's Prometheus registry (GET /metrics). One registry per service instance, so that two
 * services in one process (tests) do not share counters. Names follow Prometheus conventions: `_total`
 * counters, `_seconds` histograms, base units.
 */
export class Metrics {
  readonly registry = new Registry();
  /** Captures by outcome: `success`, `cache_hit`, or the error code (ERR::...). */
  readonly jobs: Counter<'outcome'>;
  /** Time from admission to image (captures that ran, hits excluded), by format and area. */
  readonly captureSeconds: Histogram<'format' | 'capture'>;
  /** Pages lost in the middle of a job (each loss is one retry or one DRIVER_CRASHED). */
  readonly pagesLost: Counter<'kind'>;

  constructor(
    options: {
      pool?: PoolGaugeSource;
      defaultMetrics?: boolean;
      /**
       * The fleet's node id and role, exposed as `snapwire_node_info{node,role} 1` (an info metric: the
       * other series keep their labels, and Prometheus joins on the scrape target).
       */
      node?: { id: string; role: string };
    } = {},
  ) {
    const registers = [this.registry];
    if (options.node) {
      new Gauge({
        name: 'snapwire_node_info',
        help: 'This node of the fleet (labels: node id, role)',
        labelNames: ['node', 'role'],
        registers,
      })
        .labels({ node: options.node.id, role: options.node.role })
        .set(1);
    }
    this.jobs = new Counter({
      name: 'snapwire_capture_jobs_total',
      help: 'Screenshot jobs by outcome: success, cache_hit, or the error code',
      labelNames: ['outcome'],
      registers,
    });
    this.captureSeconds = new Histogram({
      name: 'snapwire_capture_duration_seconds',
      help: 'Capture latency of successful captures (admission to encoded image), cache hits excluded',
      labelNames: ['format', 'capture'],
      buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30, 60, 120],
      registers,
    });
    this.pagesLost = new Counter({
      name: 'snapwire_pages_lost_total',
      help: 'Pages lost during a job (renderer-crash, renderer-hang, browser-gone); the job is retried once',
      labelNames: ['kind'],
      registers,
    });
    const pool = options.pool;
    if (pool) {
      const gauge = (
        name: string,
        help: string,
        read: (stats: ReturnType<PoolGaugeSource['stats']>) => number,
      ) =>
        new Gauge({
          name,
          help,
          registers,
          collect() {
            this.set(read(pool.stats()));
          },
        });
      gauge(
        'snapwire_browser_pool_browsers',
        'Chromium processes of the pool (starting, ready or draining)',
        (s) => s.browsers,
      );
      gauge('snapwire_browser_pool_ready_browsers', 'Chromium processes ready to take jobs', (s) => s.ready);
      gauge('snapwire_browser_pool_slots', 'Captures that may run at once', (s) => s.concurrency);
      gauge('snapwire_browser_pool_running', 'Captures running now', (s) => s.running);
      gauge('snapwire_browser_pool_queue_depth', 'Captures waiting for a slot', (s) => s.waiting);
      gauge('snapwire_browser_pool_queue_limit', 'Captures that may wait before 429', (s) => s.queueLimit);
      gauge(
        'snapwire_browser_pool_warm_contexts',
        'Pre-warmed isolated contexts ready for the next job',
        (s) => s.warm,
      );
      new Counter({
        name: 'snapwire_browser_restarts_total',
        help: 'Browsers replaced, by reason: recycle-jobs, recycle-age, crash, hang',
        labelNames: ['reason'],
        registers,
        collect() {
          this.reset();
          for (const [reason, count] of Object.entries(pool.restartsByReason)) this.inc({ reason }, count);
        },
      });
    }
    if (options.defaultMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: 'snapwire_' });
  }

  /** One finished job. */
  recordJob(outcome: string, seconds?: number, labels?: { format: string; capture: string }): void {
    this.jobs.inc({ outcome });
    if (seconds !== undefined && labels) this.captureSeconds.observe(labels, seconds);
  }
}
