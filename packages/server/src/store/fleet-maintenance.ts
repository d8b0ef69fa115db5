import type { Logger } from 'pino';
import type { FleetLock } from './fleet-lock.js';

export interface MaintenanceTask {
  /** Also the name of its lease row in `fleet_locks`. */
  name: string;
  /** How often the fleet as a whole runs it. */
  intervalMs: number;
  /** Longest the task may take; a node that dies mid-way blocks it for this long at most. */
  leaseMs: number;
  run(): Promise<void>;
}

/**
 * Periodic maintenance that runs once per fleet: every node ticks every task at its interval, and
 * FleetLock.runOncePerFleet lets one node run it and keeps the others out until the interval has passed.
 * A node that dies holding a task gives it back when the lease runs out.
 */
export class FleetMaintenance {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly lock: FleetLock,
    private readonly logger: Logger,
  ) {}

  /** Runs `task` once per fleet per interval (the first look comes after one interval). */
  schedule(task: MaintenanceTask): void {
    const timer = setInterval(() => void this.tick(task), task.intervalMs);
    timer.unref();
    this.timers.push(timer);
  }

  /** One look: runs the task here if no node ran it within its interval; true when it ran here. */
  async tick(task: MaintenanceTask): Promise<boolean> {
    const attempt = this.lock
      .runOncePerFleet(task.name, () => task.run(), {
        leaseMs: task.leaseMs,
        // A little under the interval, so that timer drift between nodes does not skip a round.
        holdForMs: Math.floor(task.intervalMs * 0.9),
      })
      .catch((error: unknown) => {
        this.logger.warn({ err: error, task: task.name }, 'fleet maintenance failed');
        return false;
      });
    this.running.add(attempt);
    try {
      return await attempt;
    } finally {
      this.running.delete(attempt);
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    await Promise.allSettled([...this.running]);
  }
}
