import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../store/schema.js';

type Work = (trx: Transaction<Database>) => Promise<void>;

/** Outcomes committed together at most; a bigger backlog is committed in several transactions. */
const MAX_BATCH = 128;

/**
 * Group commit for delivery outcomes: outcomes that arrive while a commit runs wait and are written
 * together in the next transaction, so a saturated worker pays one commit for many deliveries (a commit per
 * delivery was the largest store cost left in the delivery benchmark). Each outcome keeps its own
 * statements; if a batch fails, its outcomes are retried one transaction each, so one bad outcome never
 * sinks the others.
 */
export class OutcomeCommitter {
  private pending: Array<{ work: Work; resolve: () => void; reject: (error: unknown) => void }> = [];
  private draining = false;

  constructor(private readonly db: Kysely<Database>) {}

  commit(work: Work): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ work, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        void this.drain();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        // Yield to the event loop first: the SQLite driver commits synchronously, so outcomes of
        // deliveries that finished meanwhile are still waiting as I/O events; setImmediate runs after
        // them, and they join this batch instead of paying a commit each.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = this.pending.splice(0, MAX_BATCH);
        try {
          await this.db.transaction().execute(async (trx) => {
            for (const item of batch) await item.work(trx);
          });
          for (const item of batch) item.resolve();
        } catch {
          for (const item of batch) {
            try {
              await this.db.transaction().execute(item.work);
              item.resolve();
            } catch (error) {
              item.reject(error);
            }
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
