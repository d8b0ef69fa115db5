import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Clock } from '../clock.js';

export function periodOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 7);
}

/** Monthly credit accounting per project, in the store so that every process sees the same balance. */
export class CreditLedger {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** `executor`: a caller's transaction (a scrape's closing rows are one commit). */
  async used(projectId: string, executor: Kysely<Database> = this.db): Promise<number> {
    const row = await executor
      .selectFrom('credit_usage')
      .select('credits_used')
      .where('project_id', '=', projectId)
      .where('period', '=', periodOf(this.clock.now()))
      .executeTakeFirst();
    return row?.credits_used ?? 0;
  }

  /**
   * Adds `credits` to this month's usage atomically (one upsert; safe with concurrent writers) and answers
   * the usage after it, read by the same statement.
   */
  async charge(projectId: string, credits: number, executor: Kysely<Database> = this.db): Promise<number> {
    if (credits <= 0) return this.used(projectId, executor);
    const period = periodOf(this.clock.now());
    const row = await executor
      .insertInto('credit_usage')
      .values({ project_id: projectId, period, credits_used: credits })
      .onConflict((oc) =>
        oc
          .columns(['project_id', 'period'])
          .doUpdateSet({ credits_used: sql`credit_usage.credits_used + ${credits}` }),
      )
      .returning('credits_used')
      .executeTakeFirstOrThrow();
    return Number(row.credits_used);
  }
}
