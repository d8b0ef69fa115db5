import { z } from 'zod';

export const PLAN_NAMES = ['UNLIMITED', 'FREE', 'DISCOVERY', 'PRO', 'STARTUP', 'ENTERPRISE'] as const;
export type PlanName = (typeof PLAN_NAMES)[number];

/**
 * The plan of a project created without one (`snapwire projects create`, the dashboard's form, the
 * `default` project), unless the operator sets SNAPWIRE_DEFAULT_PLAN: the one place this default lives.
 * A self-hosted service has no quota to sell, so a new project is usable at once.
 */
export const DEFAULT_PLAN: PlanName = 'UNLIMITED';

export interface PlanLimits {
  /** Credits a project may spend per calendar month (UTC). */
  monthlyCredits: number;
  /** Captures of one project running at once. */
  concurrency: number;
  /** Asynchronous jobs that may wait for one webhook at once. */
  webhookQueueLimit: number;
  /** Days monitoring logs and stored images are kept. */
  retentionDays: number;
}

/**
 * Plan presets from docs/compat.md §2 (credits, webhook queue, retention). Scrapfly does not publish
 * concurrency per plan for screenshots; ours are sized for a self-hosted box and overridable per project.
 * UNLIMITED is Snapwire's own (no quota: its limits are far above what one service can spend, so the
 * browser pool's own limits are what hold); the others are Scrapfly's presets, for operators who resell.
 */
export const PLANS: Record<PlanName, PlanLimits> = {
  UNLIMITED: {
    monthlyCredits: 1_000_000_000_000,
    concurrency: 1_000,
    webhookQueueLimit: 1_000_000,
    retentionDays: 28,
  },
  FREE: { monthlyCredits: 1_000, concurrency: 1, webhookQueueLimit: 0, retentionDays: 7 },
  DISCOVERY: { monthlyCredits: 200_000, concurrency: 5, webhookQueueLimit: 500, retentionDays: 7 },
  PRO: { monthlyCredits: 1_000_000, concurrency: 20, webhookQueueLimit: 2_000, retentionDays: 14 },
  STARTUP: { monthlyCredits: 2_500_000, concurrency: 50, webhookQueueLimit: 5_000, retentionDays: 21 },
  ENTERPRISE: { monthlyCredits: 5_500_000, concurrency: 100, webhookQueueLimit: 10_000, retentionDays: 28 },
};

export const limitOverridesSchema = z
  .object({
    monthlyCredits: z.number().int().min(0),
    concurrency: z.number().int().min(1),
    webhookQueueLimit: z.number().int().min(0),
    retentionDays: z.number().int().min(1),
  })
  .partial()
  .strict();

export type LimitOverrides = z.infer<typeof limitOverridesSchema>;

export function effectiveLimits(plan: PlanName, overrides: LimitOverrides): PlanLimits {
  return { ...PLANS[plan], ...overrides };
}

export const SCREENSHOT_COST = 60;

/**
 * Credits of one extraction (POST /extraction), as Scrapfly prices its Extraction API: a rules template
 * costs 1, a prompt or an auto-extraction model (one language-model call, two with the retry) costs 5.
 * Failed extractions are not billed.
 */
export const EXTRACTION_COSTS = { template: 1, prompt: 5, model: 5 } as const;
