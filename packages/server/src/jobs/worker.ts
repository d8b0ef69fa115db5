import { PollingLoop } from '../queue/polling-loop.js';
import type { Logger } from 'pino';
import type { Caller, ProjectService } from '../accounts/projects.js';
import type { Clock } from '../clock.js';
import { ApiError, errorBody, isApiError } from '../errors.js';
import type { Claim, Job, JobQueue } from '../queue/job-queue.js';
import type { LogStore } from '../logs/log-store.js';
import { deliveryAnswerHeaders, deliveryRejectHeaders } from '../scrapfly-headers.js';
import type { BlobStore } from '../results/blob-store.js';
import type { DeliveryService } from '../webhooks/delivery-service.js';
import { readQueuedRequest } from '../request/queued-request.js';
import type { JobRunner, RunOutcome } from './job-runner.js';
import { ScreenshotFailure, type ScreenshotService } from './screenshot-service.js';

export interface WorkerSettings {
  /** Captures this process runs at once for asynchronous jobs. */
  captureSlots: number;
  /** Deliveries in flight at once. */
  deliverySlots: number;
  /** Longest sleep between looks at the queue (new jobs also wake the worker at once). */
  pollMs: number;
  /** How long a claim holds (SNAPWIRE_JOB_LEASE): a job held by a process that died runs again after it. */
  leaseMs?: number;
  /** Base of the error-reference links in delivered error bodies (SNAPWIRE_PUBLIC_URL). */
  publicUrl?: string;
  /** This node's id (in claim tokens, so a job's holder can be told). */
  nodeId?: string;
  /** Tells the other nodes of a fleet that a delivery became due (LISTEN/NOTIFY, queue/fleet-wakeups.ts). */
  announce?: () => void;
}

/** A capture interrupted this many times (crashes, kills) is given up and its error delivered instead. */
const MAX_CAPTURE_ATTEMPTS = 3;
/** Throttled jobs (project concurrency, full browser pool) are looked at again after this. */
const THROTTLE_BACKOFF_MS = 250;
/** A capture whose result could not be stored (blob store down) is tried again after this. */
const STORE_BACKOFF_MS = 2_000;
/** Sleep after a look that found nothing to claim, however due the next job seems. */
const IDLE_PAUSE_MS = 20;
/**
 * Claims are leased for the lease (SNAPWIRE_JOB_LEASE, 20 s unless set) and renewed four times a lease while
 * the work goes on, so a job held by a process that died is picked up again within one lease, while a slow
 * capture or a slow receiver never loses its lease (the lease always outlives the HTTP timeout: it is
 * renewed for as long as the call runs).
 */
const DEFAULT_LEASE_MS = 20_000;

/**
 * Runs the durable queue: captures accepted screenshots and runs accepted scrapes and extractions
 * (storing the result before scheduling its delivery, so a crash never runs twice what it already has)
 * and delivers stored payloads. One loop per process; any number of processes may run it against the
 * same PostgreSQL.
 */
export class JobWorker {
  readonly id: string;
  private capturing = 0;
  private delivering = 0;
  private readonly polling = new PollingLoop<number>({
    look: () => this.fill(),
    sleepAfter: (claimed) => this.sleepAfter(claimed ?? 0),
    lookFailed: (error) => this.logger.error({ err: error }, 'job worker: claiming failed'),
  });
  private readonly running = new Set<Promise<void>>();
  /** Deliveries in flight per project (fair sharing of the delivery slots). */
  private readonly projectDeliveries = new Map<string, number>();
  private fairRound = 0;
  private readonly leaseMs: number;

  constructor(
    private readonly queue: JobQueue,
    private readonly screenshots: ScreenshotService,
    private readonly projects: ProjectService,
    private readonly blobs: BlobStore,
    private readonly logs: LogStore,
    private readonly delivery: DeliveryService,
    private readonly clock: Clock,
    private readonly settings: WorkerSettings,
    private readonly logger: Logger,
    /** Runners of the other job kinds (scrape, extraction), by resource type; screenshots run here. */
    private readonly runners: Partial<Record<string, JobRunner>> = {},
  ) {
    this.leaseMs = settings.leaseMs ?? DEFAULT_LEASE_MS;
    this.id = `${settings.nodeId ?? `worker-${process.pid}`}-${Math.random().toString(36).slice(2, 8)}`;
  }

  start(): void {
    this.polling.start();
  }

  /** Look at the queue now (a job was added or a slot freed). */
  wake(): void {
    // Remembered when the loop is busy claiming, so that a wake-up is never lost.
    this.polling.wake();
  }

  /** Stops claiming and waits for the jobs in hand (bounded by their own timeouts). */
  async stop(): Promise<void> {
    await this.polling.stop();
    await Promise.allSettled([...this.running]);
  }

  /**
   * Sleeps until woken (a job was added or ended) or until the next job is due in a lane it would claim
   * for, at most pollMs. A lane it would not claim for (full, or waiting to claim a batch) needs no look:
   * a finishing job wakes the loop. After a look that claimed nothing it sleeps a little even when a job
   * seems due, so that a job another process holds cannot turn this loop into a busy one.
   */
  private async sleepAfter(claimed: number): Promise<number> {
    let wait = this.settings.pollMs;
    const lanes = this.lanesToClaim();
    if (lanes.length > 0) {
      const next = await this.queue.nextDueAt(lanes).catch(() => undefined);
      if (next !== undefined) wait = Math.min(wait, Math.max(0, next - this.clock.now()));
      if (claimed === 0) wait = Math.max(wait, Math.min(this.settings.pollMs, IDLE_PAUSE_MS));
    }
    return wait;
  }

  /**
   * The lanes worth a claim now. Deliveries are claimed in batches: one claim statement per freed slot was
   * the largest single store cost of a saturated run (measured: 0.16 ms of 0.35 ms per delivery), so the
   * worker looks again once an eighth of the slots are free, or when nothing is in flight. (Measured in
   * the delivery benchmark: a quarter gave 2,100-2,700 deliveries/s, an eighth 2,800-3,300, a sixteenth
   * 1,800-2,200, its extra claims each paying a commit.)
   */
  private lanesToClaim(): Array<'queued' | 'delivering'> {
    const lanes: Array<'queued' | 'delivering'> = [];
    const freeDeliveries = this.settings.deliverySlots - this.delivering;
    const batch = Math.max(1, Math.floor(this.settings.deliverySlots / 8));
    if (freeDeliveries > 0 && (freeDeliveries >= batch || this.delivering === 0)) lanes.push('delivering');
    if (this.capturing < this.settings.captureSlots) lanes.push('queued');
    return lanes;
  }

  /** Claims what the free slots can take; returns how many jobs it claimed. */
  private async fill(): Promise<number> {
    let claimed = 0;
    const lanes = this.lanesToClaim();
    if (lanes.includes('delivering')) {
      const claims = await this.claimDeliveriesFairly();
      const webhooks = await this.delivery.webhooksFor(claims);
      for (const claim of claims) {
        this.trackProject(claim.job.project_id, +1);
        this.track('delivering', claim, async () => {
          try {
            await this.delivery.deliver(claim, webhooks.get(claim.job.webhook_uuid));
          } finally {
            this.trackProject(claim.job.project_id, -1);
          }
        });
        claimed += 1;
      }
    }
    if (lanes.includes('queued')) {
      const free = this.settings.captureSlots - this.capturing;
      const claims = await this.queue.claim('queued', this.id, this.leaseMs, free);
      for (const claim of claims) this.track('capturing', claim, () => this.capture(claim));
      claimed += claims.length;
    }
    return claimed;
  }

  /**
   * Delivery slots shared fairly between projects: each project with deliveries waiting or in flight may
   * hold an equal share of the slots, so one project's backlog or slow receivers never hold every slot
   * while another project's deliveries wait. Slots a project does not need go to the others in the same
   * round (a project alone gets every slot).
   */
  private async claimDeliveriesFairly(): Promise<Claim[]> {
    let free = this.settings.deliverySlots - this.delivering;
    if (free <= 0) return [];
    const waiting = await this.queue.projectsWithDeliveries();
    if (waiting.length === 0) return [];
    const active = new Set([...this.projectDeliveries.keys(), ...waiting]);
    const share = Math.max(1, Math.ceil(this.settings.deliverySlots / active.size));
    // Start each round at another project, so that rounding never favours the same one.
    const offset = this.fairRound++ % waiting.length;
    const order = [...waiting.slice(offset), ...waiting.slice(0, offset)];
    const claims: Claim[] = [];
    let capped = false;
    for (const projectId of order) {
      if (free <= 0) break;
      const room = share - (this.projectDeliveries.get(projectId) ?? 0);
      if (room <= 0) {
        capped = true;
        continue;
      }
      if (room < free) capped = true;
      const got = await this.queue.claim(
        'delivering',
        this.id,
        this.leaseMs,
        Math.min(room, free),
        projectId,
      );
      claims.push(...got);
      free -= got.length;
    }
    // Work-conserving: when every project had its share and slots are left, they go to whoever has more.
    if (capped && free > 0)
      claims.push(...(await this.queue.claim('delivering', this.id, this.leaseMs, free)));
    return claims;
  }

  private trackProject(projectId: string, delta: number): void {
    const count = (this.projectDeliveries.get(projectId) ?? 0) + delta;
    if (count <= 0) this.projectDeliveries.delete(projectId);
    else this.projectDeliveries.set(projectId, count);
  }

  private track(lane: 'capturing' | 'delivering', claim: Claim, work: () => Promise<void>): void {
    this[lane] += 1;
    const heartbeat = setInterval(() => {
      this.queue
        .extend(claim, this.leaseMs)
        .then((held) => {
          if (!held)
            this.logger.warn({ job: claim.job.id }, 'job lease lost; another worker may take the job over');
        })
        .catch((error: unknown) => this.logger.warn({ err: error }, 'job lease renewal failed'));
    }, this.leaseMs / 4);
    const promise = work()
      .catch((error: unknown) => this.logger.error({ err: error }, `job worker: ${lane} failed`))
      .finally(() => {
        clearInterval(heartbeat);
        this[lane] -= 1;
        this.running.delete(promise);
        this.wake();
      });
    this.running.add(promise);
  }

  /**
   * Runs one claimed job (a screenshot here, other kinds by their runner), stores what is to be delivered
   * (the payload, or the error body) and makes its delivery due. Throttled jobs and jobs meeting a store
   * outage go back to the queue without counting an attempt.
   */
  private async capture(claim: Claim): Promise<void> {
    const { job } = claim;
    const project = await this.projects.findById(job.project_id);
    if (!project) return;
    const caller = { project, env: job.env };
    let outcome: RunOutcome;
    if (job.capture_attempts > MAX_CAPTURE_ATTEMPTS) {
      const what = job.resource_type === 'ping' ? 'job' : job.resource_type;
      outcome = {
        kind: 'error',
        error: new ApiError(
          'ERR::SCRAPE::DRIVER_CRASHED',
          `The ${what} was interrupted ${MAX_CAPTURE_ATTEMPTS} times (the service stopped while running it); submit the ${what} again`,
        ),
        logged: false,
      };
    } else {
      try {
        const runner = this.runners[job.resource_type];
        outcome = runner ? await runner.run(caller, job) : await this.runScreenshot(caller, job);
      } catch (caught) {
        if (!isApiError(caught)) throw caught;
        outcome = { kind: 'error', error: caught, logged: false };
      }
    }
    let payload: Buffer;
    let contentType: string;
    let headers: Record<string, string>;
    if (outcome.kind === 'error') {
      const { error } = outcome;
      if (error.code === 'ERR::THROTTLE::MAX_CONCURRENT_REQUEST_EXCEEDED') {
        // Jobs beyond the project's concurrency (or a full browser pool) wait in the queue.
        await this.queue.release(claim, this.clock.now() + THROTTLE_BACKOFF_MS);
        return;
      }
      if (error.code === 'ERR::API::SERVICE_UNAVAILABLE') {
        // The blob store is down: the job waits in the queue (no attempt counted) instead of failing.
        await this.queue.release(claim, this.clock.now() + STORE_BACKOFF_MS);
        return;
      }
      if (!outcome.logged) await this.recordFailedLog(caller, job.log_uuid, error);
      ({ payload, contentType, headers } = this.errorPayload(error, job.log_uuid));
    } else {
      ({ payload, contentType, headers } = outcome);
    }
    let blob: string;
    try {
      blob = await this.blobs.put(payload);
    } catch (error) {
      this.logger.warn(
        { err: error, job: job.id },
        'could not store a payload; the job will be captured again',
      );
      await this.queue.release(claim, this.clock.now() + STORE_BACKOFF_MS);
      return;
    }
    if (!(await this.queue.captured(claim, { blob, contentType, headers }))) {
      this.logger.warn(
        { job: job.id },
        'capture finished after its lease was taken over; the newer owner wins',
      );
      return;
    }
    this.settings.announce?.();
  }

  /** A queued screenshot: the image (or the capture's error, already in its log row). */
  private async runScreenshot(caller: Caller, job: Job): Promise<RunOutcome> {
    const request = readQueuedRequest(job.request);
    try {
      // Queue wait: from acceptance to this capture (retried captures count their earlier tries too).
      const outcome = await this.screenshots.take(caller, request, {
        ...(job.log_uuid ? { logUuid: job.log_uuid } : {}),
        queueWaitMs: Math.max(0, this.clock.now() - job.created_at),
      });
      return {
        kind: 'payload',
        payload: outcome.result.image,
        contentType: outcome.result.contentType,
        headers: deliveryAnswerHeaders(outcome),
      };
    } catch (caught) {
      if (caught instanceof ScreenshotFailure) return { kind: 'error', error: caught.error, logged: true };
      throw caught;
    }
  }

  private errorPayload(error: ApiError, logUuid: string | null) {
    const payload = Buffer.from(
      JSON.stringify(errorBody(error, logUuid ?? error.code, this.settings.publicUrl ?? '')),
    );
    return {
      payload,
      contentType: 'application/json',
      headers: deliveryRejectHeaders(error),
    };
  }

  /** Errors raised before the capture started (quota, interrupted captures) complete the pending log row here. */
  private async recordFailedLog(
    caller: { project: { id: string } },
    logUuid: string | null,
    error: ApiError,
  ) {
    if (logUuid)
      await this.logs.fail(caller.project.id, logUuid, error.definition.httpStatus, error.code, error.reason);
  }
}
