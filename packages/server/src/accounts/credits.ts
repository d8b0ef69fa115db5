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

  async used(projectId: string): Promise<number> {
    const row = await this.db
      .selectFrom('credit_usage')
      .select('credits_used')
      .where('project_id', '=', projectId)
      .where('period', '=', periodOf(this.clock.now()))
      .executeTakeFirst();
    return row?.credits_used ?? 0;
  }

  /** Adds `credits` to this month's usage atomically (one upsert; safe with concurrent writers). */
  async charge(projectId: string, credits: number): Promise<number> {
    if (credits <= 0) return this.used(projectId);
    const period = periodOf(this.clock.now());
    await this.db
      .insertInto('credit_usage')
      .values({ project_id: projectId, period, credits_used: credits })
      .onConflict((oc) =>
        oc
          .columns(['project_id', 'period'])
          .doUpdateSet({ credits_used: sql`credit_usage.credits_used + ${credits}` }),
      )
      .execute();
    return this.used(projectId);
  }
}
