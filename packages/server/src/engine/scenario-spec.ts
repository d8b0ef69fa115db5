import { ApiError, type ErrorCode } from '../errors.js';

/**
 * A js_scenario as the engine runs it (docs/compat.md §7, "js_scenario"): parsed and validated by
 * request/js-scenario.ts, run on the rendered page by engine/js-scenario.ts. Times are milliseconds.
 */

export type ElementTarget = { kind: 'selector'; selector: string } | { kind: 'xpath'; xpath: string };

export const SCENARIO_ACTIONS = [
  'click',
  'fill',
  'wait',
  'wait_for_selector',
  'wait_for_navigation',
  'scroll',
  'execute',
  'condition',
  'select',
] as const;
export type ScenarioAction = (typeof SCENARIO_ACTIONS)[number];

export type ScenarioStep = ScenarioStepKind & {
  /** The step's options as the caller wrote them: repeated in result.browser_data.js_scenario.steps. */
  config: Record<string, unknown>;
};

/** What each action does, with its options read. */
export type ScenarioStepKind =
  | { action: 'click'; target: ElementTarget; ignoreIfNotVisible: boolean; multiple: boolean }
  | { action: 'fill'; target: ElementTarget; value: string; clear: boolean }
  | { action: 'wait'; ms: number }
  | { action: 'wait_for_selector'; target: ElementTarget; state: 'visible' | 'hidden'; timeoutMs: number }
  | { action: 'wait_for_navigation'; timeoutMs: number }
  /** 'bottom': to the end of the page (`infinite` more times as it grows); an element: into view. */
  | { action: 'scroll'; target: ElementTarget | 'bottom'; infinite: number }
  | { action: 'execute'; script: string; timeoutMs: number }
  | {
      action: 'condition';
      target: ElementTarget;
      state: 'existing' | 'not_existing';
      then: 'exit_success' | 'exit_failed' | 'continue';
    }
  | { action: 'select'; target: ElementTarget; values: string[] };

/** One step's outcome, as the SDKs read it (TypeScript `ResultData.browser_data.js_scenario.steps`). */
export interface ScenarioStepOutcome {
  action: ScenarioAction;
  config: Record<string, unknown>;
  /** Seconds. */
  duration: number;
  executed: boolean;
  result: unknown;
  success: boolean;
}

export interface ScenarioOutcome {
  /** Seconds. */
  duration: number;
  /** How many steps ran. */
  executed: number;
  response: null;
  steps: ScenarioStepOutcome[];
}

/** A scenario that ended the scrape: the error, with every step's outcome up to the one that failed. */
export class ScenarioError extends ApiError {
  constructor(
    code: ErrorCode,
    reason: string,
    readonly outcome: ScenarioOutcome,
    options: { retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(code, reason, options);
  }
}
