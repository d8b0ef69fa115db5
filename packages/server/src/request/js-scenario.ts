import { ApiError } from '../errors.js';
import type {
  ElementTarget,
  ScenarioAction,
  ScenarioStep,
  ScenarioStepKind,
} from '../engine/scenario-spec.js';
import { SCENARIO_ACTIONS } from '../engine/scenario-spec.js';

/**
 * js_scenario (docs/compat.md §7): base64url (padding optional) of a JSON list of steps, each an object
 * with one key, the action: `{"click": {"selector": "#buy"}}`, `{"wait": 500}`. Both SDKs send it so
 * (TypeScript `urlsafe_b64encode(JSON.stringify(...))`, Python `urlsafe_b64encode(json.dumps(...))`).
 * Every problem is a 400 naming the step's index in the list and what to change.
 */

export const SCENARIO_LIMITS = {
  maxSteps: 100,
  maxDecodedBytes: 64 * 1024,
  maxStepTimeoutMs: 60_000,
  defaultWaitForSelectorMs: 5_000,
  defaultWaitForNavigationMs: 10_000,
  defaultExecuteMs: 3_000,
  maxScrollRepeats: 50,
} as const;

const configError = (reason: string) => new ApiError('ERR::SCRAPE::CONFIG_ERROR', reason);

export function parseJsScenario(value: string): ScenarioStep[] {
  const compact = value.trim();
  if (!/^[A-Za-z0-9_+/-]+={0,2}$/.test(compact) || compact.replace(/=+$/, '').length % 4 === 1) {
    throw configError(
      'The js_scenario parameter is not valid base64url; encode the JSON list of steps with base64url (padding optional)',
    );
  }
  const decoded = Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (decoded.length > SCENARIO_LIMITS.maxDecodedBytes) {
    throw configError(
      `The js_scenario parameter decodes to ${decoded.length} bytes; the limit is ${SCENARIO_LIMITS.maxDecodedBytes} bytes (64 KB)`,
    );
  }
  let steps: unknown;
  try {
    steps = JSON.parse(decoded.toString('utf8'));
  } catch (error) {
    throw configError(`The js_scenario parameter is not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(steps) || steps.length === 0) {
    throw configError(
      'js_scenario must be a non-empty JSON list of steps, such as [{"click": {"selector": "#more"}}, {"wait": 500}]',
    );
  }
  if (steps.length > SCENARIO_LIMITS.maxSteps) {
    throw configError(`js_scenario has ${steps.length} steps; at most ${SCENARIO_LIMITS.maxSteps}`);
  }
  return steps.map((step, index) => parseStep(step, index));
}

function parseStep(step: unknown, index: number): ScenarioStep {
  const at = `js_scenario[${index}]`;
  if (typeof step !== 'object' || step === null || Array.isArray(step) || Object.keys(step).length !== 1) {
    throw configError(
      `${at} must be an object with exactly one key, the action (${SCENARIO_ACTIONS.join(', ')})`,
    );
  }
  const [action = '', options] = Object.entries(step)[0] ?? [];
  if (!(SCENARIO_ACTIONS as readonly string[]).includes(action)) {
    throw configError(`${at}: "${action}" is not a known step; use one of ${SCENARIO_ACTIONS.join(', ')}`);
  }
  const where = `${at} (${action})`;
  if (action === 'wait') {
    const ms = whole(options, where, 'the wait', 0, SCENARIO_LIMITS.maxStepTimeoutMs);
    return { action, config: { milliseconds: ms }, ms };
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw configError(`${where} takes an object of options, such as {"${action}": {"selector": "#id"}}`);
  }
  const config = options as Record<string, unknown>;
  const read = new Options(config, where);
  const parsed = parseOptions(action as Exclude<ScenarioAction, 'wait'>, read, where);
  read.refuseUnknown();
  return { ...parsed, config };
}

function parseOptions(
  action: Exclude<ScenarioAction, 'wait'>,
  read: Options,
  where: string,
): ScenarioStepKind {
  switch (action) {
    case 'click':
      return {
        action,
        target: read.selector(),
        ignoreIfNotVisible: read.boolean('ignore_if_not_visible') ?? false,
        multiple: read.boolean('multiple') ?? false,
      };
    case 'fill': {
      const value = read.get('value');
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw configError(`${where} needs "value", the text to type into the field`);
      }
      return { action, target: read.selector(), value: String(value), clear: read.boolean('clear') ?? false };
    }
    case 'wait_for_selector': {
      const state = read.oneOf('state', ['visible', 'hidden']) ?? 'visible';
      return {
        action,
        target: read.selector(),
        state,
        timeoutMs: read.timeout(SCENARIO_LIMITS.defaultWaitForSelectorMs),
      };
    }
    case 'wait_for_navigation':
      return { action, timeoutMs: read.timeout(SCENARIO_LIMITS.defaultWaitForNavigationMs) };
    case 'scroll': {
      const selector = read.get('selector') ?? 'bottom';
      const infinite = read.get('infinite');
      return {
        action,
        target: selector === 'bottom' ? 'bottom' : read.selector(),
        infinite:
          infinite === undefined
            ? 0
            : whole(infinite, where, 'infinite', 0, SCENARIO_LIMITS.maxScrollRepeats, 'repeats'),
      };
    }
    case 'execute': {
      const script = read.get('script');
      if (typeof script !== 'string' || script.trim() === '') {
        throw configError(`${where} needs "script", the JavaScript to run (its return value is the result)`);
      }
      return { action, script, timeoutMs: read.timeout(SCENARIO_LIMITS.defaultExecuteMs) };
    }
    case 'condition':
      return {
        action,
        target: read.selector(),
        state: read.oneOf('selector_state', ['existing', 'not_existing']) ?? 'existing',
        then: read.oneOf('action', ['exit_success', 'exit_failed', 'continue']) ?? 'continue',
      };
    case 'select': {
      const value = read.get('value') ?? read.get('values');
      const values = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(values) || values.length === 0 || values.some((item) => typeof item !== 'string')) {
        throw configError(
          `${where} needs "value", the option to choose (its value or its label), or "values", a list of them`,
        );
      }
      return { action, target: read.selector(), values: values as string[] };
    }
  }
}

/** The options of one step: each read by name, so that a misspelt one is refused instead of ignored. */
class Options {
  private readonly known = new Set<string>();

  constructor(
    private readonly config: Record<string, unknown>,
    private readonly where: string,
  ) {}

  get(name: string): unknown {
    this.known.add(name);
    return this.config[name];
  }

  selector(): ElementTarget {
    const value = this.get('selector');
    if (typeof value !== 'string' || value.trim() === '') {
      throw configError(`${this.where} needs "selector", a CSS selector or an XPath (starting with /)`);
    }
    return elementTargetOf(value);
  }

  boolean(name: string): boolean | undefined {
    const value = this.get(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') throw configError(`${this.where}: "${name}" must be true or false`);
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.get(name);
    if (value === undefined) return undefined;
    if (!(allowed as readonly unknown[]).includes(value)) {
      throw configError(`${this.where}: "${name}" must be one of ${allowed.join(', ')}`);
    }
    return value as T;
  }

  timeout(fallback: number): number {
    const value = this.get('timeout');
    return value === undefined
      ? fallback
      : whole(value, this.where, 'timeout', 0, SCENARIO_LIMITS.maxStepTimeoutMs);
  }

  refuseUnknown(): void {
    const unknown = Object.keys(this.config).filter((name) => !this.known.has(name));
    if (unknown.length > 0) {
      throw configError(
        `${this.where}: unknown option "${unknown[0]}"; this step takes ${[...this.known].join(', ')}`,
      );
    }
  }
}

function whole(
  value: unknown,
  where: string,
  what: string,
  min: number,
  max: number,
  unit = 'milliseconds',
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw configError(`${where}: ${what} must be a whole number of ${unit} from ${min} to ${max}`);
  }
  return value;
}

/** A CSS selector or an XPath: XPath starts with "/", "(" or an explicit "xpath=" prefix. */
export function elementTargetOf(value: string): ElementTarget {
  if (value.startsWith('xpath=')) return { kind: 'xpath', xpath: value.slice('xpath='.length) };
  if (value.startsWith('/') || value.startsWith('(')) return { kind: 'xpath', xpath: value };
  return { kind: 'selector', selector: value };
}
