import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/errors.js';
import { nextInstant, parseRecurrence } from '../../src/schedules/recurrence.js';
import { normaliseScreenshotConfig } from '../../src/schedules/screenshot-config.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** Instants from `anchor`, each strictly after the previous one. */
function instants(input: Parameters<typeof parseRecurrence>[0], anchor: string, count: number) {
  const recurrence = parseRecurrence(input);
  const out: Array<string | undefined> = [];
  let after = at(anchor) - 1;
  for (let i = 0; i < count; i++) {
    const next = nextInstant(recurrence, at(anchor), after);
    out.push(iso(next));
    if (next === undefined) break;
    after = next;
  }
  return out;
}

describe('schedule recurrence', () => {
  it('days keeps only the given weekdays (Friday 2026-11-27 -> Monday)', () => {
    assert.deepEqual(
      instants({ interval: 1, unit: 'day', days: ['monday', 'fri'] }, '2026-11-27T09:00:00Z', 3),
      ['2026-11-27T09:00:00.000Z', '2026-11-30T09:00:00.000Z', '2026-12-04T09:00:00.000Z'],
    );
  });

  it('months are calendar months; the 31st lands on the last day of shorter months', () => {
    assert.deepEqual(instants({ interval: 1, unit: 'month' }, '2027-01-31T06:00:00Z', 4), [
      '2027-01-31T06:00:00.000Z',
      '2027-02-28T06:00:00.000Z',
      '2027-03-31T06:00:00.000Z',
      '2027-04-30T06:00:00.000Z',
    ]);
  });

  it('ends.date stops the instants', () => {
    assert.deepEqual(
      instants(
        { interval: 2, unit: 'hour', ends: { type: 'date', date: '2026-11-27T13:00:00Z' } },
        '2026-11-27T09:00:00Z',
        5,
      ),
      ['2026-11-27T09:00:00.000Z', '2026-11-27T11:00:00.000Z', '2026-11-27T13:00:00.000Z', undefined],
    );
  });

  it('cron in a time zone: the 02:30 that does not exist (Paris, 29 March 2026) runs an hour later, still once a day', () => {
    assert.deepEqual(instants({ cron: '30 2 * * *', timezone: 'Europe/Paris' }, '2026-03-28T00:00:00Z', 3), [
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:30:00.000Z', // 03:30 CEST: 02:30 was skipped by the clocks
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('refuses what it cannot run, saying what to fix', () => {
    const refused = (input: Parameters<typeof parseRecurrence>[0], pattern: RegExp) =>
      assert.throws(
        () => parseRecurrence(input),
        (error: unknown) =>
          error instanceof ApiError &&
          error.code === 'ERR::SCHEDULER::INVALID_REQUEST' &&
          pattern.test(error.reason),
      );
    refused({ cron: '61 * * * *' }, /not a valid cron expression/);
    refused({ cron: '0 9 * * *', timezone: 'Mars/Olympus' }, /IANA time zone/);
    refused({ interval: 0, unit: 'hour' }, /whole number from 1/);
    refused({ interval: 1 }, /cron .* or interval and unit/);
    refused({ interval: 1, unit: 'day', days: ['someday'] }, /not a weekday/);
    refused({ interval: 1, unit: 'day', ends: { type: 'count', count: 0 } }, /ends.count/);
  });

  it('screenshot_config: API spelling and serialised SDK ScreenshotConfig give the same parameters', () => {
    const settings = { maxTimeoutMs: 120_000 };
    const api = normaliseScreenshotConfig(
      {
        url: 'https://example.com',
        options: 'dark_mode,block_banners',
        auto_scroll: 'true',
        js: 'ZG9jdW1lbnQudGl0bGU',
      },
      settings,
    );
    const sdk = normaliseScreenshotConfig(
      {
        url: 'https://example.com',
        options: ['dark_mode', 'block_banners'],
        auto_scroll: true,
        js: 'document.title',
      },
      settings,
    );
    assert.deepEqual(sdk.params, api.params);
    assert.throws(
      () => normaliseScreenshotConfig({ url: 'https://example.com', key: 'x' }, settings),
      /screenshot_config.key is not allowed/,
    );
    assert.throws(
      () => normaliseScreenshotConfig({ url: 'https://example.com', fromat: 'png' }, settings),
      /"fromat"/,
    );
  });
});
