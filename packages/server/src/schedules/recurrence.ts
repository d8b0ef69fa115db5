import { Cron } from 'croner';
import { formatDuration } from '../config/durations.js';
import { ApiError } from '../errors.js';

/**
 * When a schedule fires (docs/compat.md §6). The wire shape is the official SDK's ScheduleRecurrence:
 * `cron` wins when set, otherwise `interval` + `unit`; `days` limits the weekdays; `ends` stops it by a date
 * or a count of runs. Cron runs in `timezone` (an IANA name; also accepted as a `CRON_TZ=` prefix of the
 * expression, as Kubernetes and Go cron write it), default UTC.
 *
 * Cron is croner's: a maintained library with time zone support, so that "every day at 09:00 Paris" stays
 * at 09:00 local across daylight-saving changes. A wall-clock time that happens twice (the repeated hour
 * when clocks go back) fires once; one that does not exist (the hour skipped in spring) fires an hour
 * later that day, so a daily schedule never loses its day.
 */
export const UNITS = ['minute', 'hour', 'day', 'week', 'month'] as const;
export type Unit = (typeof UNITS)[number];

export interface RecurrenceInput {
  cron?: string | undefined;
  timezone?: string | undefined;
  interval?: number | undefined;
  unit?: Unit | undefined;
  days?: string[] | undefined;
  ends?: { type: 'date' | 'count'; date?: string | undefined; count?: number | undefined } | undefined;
}

/** A validated recurrence, ready to compute instants. */
export interface Recurrence {
  input: RecurrenceInput;
  cron: string | undefined;
  timezone: string;
  interval: number | undefined;
  unit: Unit | undefined;
  /** Allowed weekdays, 0 = Sunday; undefined = every day. */
  weekdays: Set<number> | undefined;
  endsAt: number | undefined;
  endsAfterCount: number | undefined;
}

const FIXED_UNIT_MS: Record<Exclude<Unit, 'month'>, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
};
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
/** Bounds the walk over instants excluded by `days` (a minute interval skipping a weekend is 2,880). */
const MAX_STEPS = 100_000;

const invalid = (reason: string) => new ApiError('ERR::SCHEDULER::INVALID_REQUEST', reason);

export function parseRecurrence(input: RecurrenceInput): Recurrence {
  let cron = input.cron?.trim() || undefined;
  let timezone = input.timezone?.trim() || undefined;
  if (cron) {
    const prefix = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(cron);
    if (prefix) {
      timezone ??= prefix[1];
      cron = prefix[2]!.trim();
    }
  }
  timezone ??= 'UTC';
  if (!isTimeZone(timezone)) {
    throw invalid(`recurrence.timezone "${timezone}" is not an IANA time zone name (e.g. Europe/Paris, UTC)`);
  }
  let interval: number | undefined;
  let unit: Unit | undefined;
  if (cron) {
    try {
      new Cron(cron, { timezone, paused: true }).nextRun();
    } catch (error) {
      throw invalid(
        `recurrence.cron "${cron}" is not a valid cron expression (5 or 6 fields, e.g. "0 9 * * 1-5"): ${(error as Error).message}`,
      );
    }
  } else {
    if (input.interval === undefined || input.unit === undefined) {
      throw invalid(
        'recurrence needs either cron (e.g. "0 9 * * *") or interval and unit (e.g. {"interval": 1, "unit": "hour"})',
      );
    }
    if (!Number.isInteger(input.interval) || input.interval < 1 || input.interval > 10_000) {
      throw invalid(`recurrence.interval must be a whole number from 1 to 10000; got ${input.interval}`);
    }
    if (!UNITS.includes(input.unit)) {
      throw invalid(`recurrence.unit must be one of ${UNITS.join(', ')}; got "${String(input.unit)}"`);
    }
    interval = input.interval;
    unit = input.unit;
  }
  let weekdays: Set<number> | undefined;
  if (input.days && input.days.length > 0) {
    weekdays = new Set(
      input.days.map((day) => {
        const name = day.trim().toLowerCase();
        const index = WEEKDAYS.findIndex((full) => full === name || full.slice(0, 3) === name);
        if (index < 0) {
          throw invalid(`recurrence.days: "${day}" is not a weekday (monday … sunday, or mon … sun)`);
        }
        return index;
      }),
    );
  }
  let endsAt: number | undefined;
  let endsAfterCount: number | undefined;
  if (input.ends) {
    if (input.ends.type === 'date') {
      endsAt = parseInstant(input.ends.date, 'recurrence.ends.date');
    } else if (input.ends.type === 'count') {
      const count = input.ends.count;
      if (count === undefined || !Number.isInteger(count) || count < 1) {
        throw invalid('recurrence.ends.count must be a whole number of runs, 1 or more');
      }
      endsAfterCount = count;
    } else {
      throw invalid('recurrence.ends.type must be "date" or "count"');
    }
  }
  return { input, cron, timezone, interval, unit, weekdays, endsAt, endsAfterCount };
}

/**
 * Runs of a cron expression looked at to find its shortest gap. Its fields repeat, so the gaps of the next
 * runs are the gaps it ever has (a burst a few times a year excepted when it lies further out).
 */
const PERIOD_SAMPLE_RUNS = 100;
/** The shortest calendar month: what `unit: month` is held to. */
const MONTH_MIN_MS = 28 * 86_400_000;

/**
 * Refuses a recurrence that fires more often than the operator allows (SNAPWIRE_MIN_SCHEDULE_INTERVAL):
 * an interval shorter than `minMs`, or a cron expression two of whose next runs (from `from`) are closer
 * than that. Cron gaps are measured in UTC: a time zone moves the runs, not the gaps between them (but for
 * the hour a daylight-saving change adds or removes).
 */
export function checkMinimumPeriod(recurrence: Recurrence, minMs: number, from: number): void {
  const allowed = `this Snapwire host runs a schedule at most once every ${formatDuration(minMs)} (the operator's SNAPWIRE_MIN_SCHEDULE_INTERVAL): choose a slower recurrence, or ask the operator to lower SNAPWIRE_MIN_SCHEDULE_INTERVAL`;
  if (!recurrence.cron) {
    const unit = recurrence.unit!;
    const period = recurrence.interval! * (unit === 'month' ? MONTH_MIN_MS : FIXED_UNIT_MS[unit]);
    if (period < minMs) {
      throw invalid(
        `recurrence {interval: ${recurrence.interval}, unit: "${unit}"} runs every ${formatDuration(period)}; ${allowed}`,
      );
    }
    return;
  }
  const cron = new Cron(recurrence.cron, { paused: true });
  let previous = cron.nextRun(new Date(from));
  for (let runs = 1; previous && runs < PERIOD_SAMPLE_RUNS; runs++) {
    const next = cron.nextRun(previous);
    if (!next) return;
    if (next.getTime() - previous.getTime() < minMs) {
      throw invalid(
        `recurrence.cron "${recurrence.cron}" has runs ${formatDuration(next.getTime() - previous.getTime())} apart; ${allowed}`,
      );
    }
    previous = next;
  }
}

/** An ISO 8601 date-time (with an offset or Z; a bare date-time is read as UTC) as epoch ms. */
export function parseInstant(value: string | undefined, field: string): number {
  if (!value) throw invalid(`${field} is required (ISO 8601, e.g. 2026-11-28T09:00:00Z)`);
  const hasZone = /(Z|[+-]\d\d:?\d\d)$/i.test(value.trim());
  const time = Date.parse(hasZone || !/T/.test(value) ? value : `${value}Z`);
  if (Number.isNaN(time)) {
    throw invalid(`${field} "${value}" is not an ISO 8601 date-time (e.g. 2026-11-28T09:00:00Z)`);
  }
  return time;
}

/**
 * The first instant of the recurrence strictly after `after`. Intervals count from `anchor` (the schedule's
 * scheduled_date, else its creation): anchor + k × interval; months are calendar months (UTC), a day past
 * the month's end landing on its last day. Undefined once `ends.date` is passed.
 */
export function nextInstant(recurrence: Recurrence, anchor: number, after: number): number | undefined {
  let candidate = firstAfter(recurrence, anchor, after);
  for (let steps = 0; candidate !== undefined && steps < MAX_STEPS; steps++) {
    if (recurrence.endsAt !== undefined && candidate > recurrence.endsAt) return undefined;
    if (!recurrence.weekdays || recurrence.weekdays.has(weekdayIn(candidate, recurrence.timezone))) {
      return candidate;
    }
    candidate = firstAfter(recurrence, anchor, candidate);
  }
  return undefined;
}

function firstAfter(recurrence: Recurrence, anchor: number, after: number): number | undefined {
  if (recurrence.cron) {
    const cron = new Cron(recurrence.cron, { timezone: recurrence.timezone, paused: true });
    return cron.nextRun(new Date(after))?.getTime();
  }
  const interval = recurrence.interval!;
  const unit = recurrence.unit!;
  if (after < anchor) return anchor;
  if (unit !== 'month') {
    const step = interval * FIXED_UNIT_MS[unit];
    return anchor + (Math.floor((after - anchor) / step) + 1) * step;
  }
  const start = new Date(anchor);
  const monthsBetween =
    (new Date(after).getUTCFullYear() - start.getUTCFullYear()) * 12 +
    new Date(after).getUTCMonth() -
    start.getUTCMonth();
  for (let k = Math.max(0, Math.floor(monthsBetween / interval) - 1); ; k++) {
    const candidate = addMonths(start, k * interval);
    if (candidate > after) return candidate;
  }
}

function addMonths(start: Date, months: number): number {
  const year = start.getUTCFullYear();
  const month = start.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(
    year,
    month,
    Math.min(start.getUTCDate(), lastDay),
    start.getUTCHours(),
    start.getUTCMinutes(),
    start.getUTCSeconds(),
    start.getUTCMilliseconds(),
  );
}

function weekdayIn(time: number, timeZone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'long' }).format(time).toLowerCase();
  return WEEKDAYS.indexOf(name);
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
