// js_scenario as both SDKs send it (docs/compat.md §7): base64url of a JSON list of one-key steps. A bad
// scenario is a 400 ERR::SCRAPE::CONFIG_ERROR naming the step's index and what to change.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isApiError } from '../../src/errors.js';
import { parseScrapeRequest } from '../../src/request/scrape-request.js';

const settings = { maxTimeoutMs: 120_000 };
const url = 'https://example.com/';
/** The TypeScript SDK's encoding (no padding); the Python SDK's keeps the `=`. */
const typescriptEncoded = (steps: unknown) => Buffer.from(JSON.stringify(steps)).toString('base64url');
const pythonEncoded = (steps: unknown) =>
  Buffer.from(JSON.stringify(steps)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

const parse = (scenario: string, extra: Record<string, string> = { render_js: 'true' }) =>
  parseScrapeRequest(
    { url, js_scenario: scenario, ...extra },
    { method: 'GET', contentType: undefined, body: undefined },
    settings,
  );

const refused = (scenario: string, pattern: RegExp, extra?: Record<string, string>) =>
  assert.throws(
    () => parse(scenario, extra),
    (error: unknown) => {
      assert.ok(isApiError(error), String(error));
      assert.equal(error.code, 'ERR::SCRAPE::CONFIG_ERROR');
      assert.equal(error.definition.httpStatus, 400);
      assert.match(error.reason, pattern);
      return true;
    },
  );

describe('js_scenario parameter', () => {
  const every = [
    { fill: { selector: '#name', value: 'Ada', clear: true } },
    { select: { selector: '#size', value: 'L' } },
    { click: { selector: 'button[type=submit]' } },
    { wait_for_navigation: { timeout: 4000 } },
    { wait_for_selector: { selector: '//h1', state: 'visible', timeout: 3000 } },
    { wait: 250 },
    { scroll: { selector: 'bottom', infinite: 2 } },
    { execute: { script: 'return document.title', timeout: 1000 } },
    { condition: { selector: '.sold-out', selector_state: 'existing', action: 'exit_success' } },
  ];

  it('reads every step kind, with or without padding, keeping what the caller wrote', () => {
    for (const encoded of [typescriptEncoded(every), pythonEncoded(every)]) {
      const steps = parse(encoded).browser.scenario ?? [];
      assert.deepEqual(
        steps.map((step) => step.action),
        every.map((step) => Object.keys(step)[0]),
      );
      assert.deepEqual(steps[0], {
        action: 'fill',
        target: { kind: 'selector', selector: '#name' },
        value: 'Ada',
        clear: true,
        config: { selector: '#name', value: 'Ada', clear: true },
      });
      assert.deepEqual(steps[4]?.action === 'wait_for_selector' && steps[4].target, {
        kind: 'xpath',
        xpath: '//h1',
      });
      assert.deepEqual(steps[5], { action: 'wait', ms: 250, config: { milliseconds: 250 } });
      assert.equal(steps[3]?.action === 'wait_for_navigation' && steps[3].timeoutMs, 4000);
    }
  });

  it('defaults: wait_for_selector 5 s visible, click without options, condition continues', () => {
    const [wait, click, condition] =
      parse(
        typescriptEncoded([
          { wait_for_selector: { selector: '#x' } },
          { click: { selector: '#x' } },
          { condition: { selector: '#x' } },
        ]),
      ).browser.scenario ?? [];
    assert.deepEqual(wait?.action === 'wait_for_selector' && [wait.state, wait.timeoutMs], ['visible', 5000]);
    assert.deepEqual(click?.action === 'click' && [click.ignoreIfNotVisible, click.multiple], [false, false]);
    assert.deepEqual(condition?.action === 'condition' && [condition.state, condition.then], [
      'existing',
      'continue',
    ]);
  });

  it('a bad scenario is a 400 naming the step index and what is wrong', () => {
    refused('not base64!', /js_scenario parameter is not valid base64url/);
    refused(typescriptEncoded({ click: {} }), /non-empty JSON list of steps/);
    refused(typescriptEncoded([]), /non-empty JSON list of steps/);
    refused(Buffer.from('[{"click":').toString('base64url'), /js_scenario parameter is not JSON/);
    refused(
      typescriptEncoded([{ wait: 10 }, { hover: { selector: '#a' } }]),
      /js_scenario\[1\]: "hover" is not a known step; use one of click, fill/,
    );
    refused(
      typescriptEncoded([{ click: { selector: '#a' }, wait: 1 }]),
      /js_scenario\[0\] must be an object with exactly one key/,
    );
    refused(
      typescriptEncoded([{ wait: 10 }, { wait: 10 }, { click: {} }]),
      /js_scenario\[2\] \(click\) needs "selector"/,
    );
    refused(
      typescriptEncoded([{ click: { selector: '#a', clik: true } }]),
      /js_scenario\[0\] \(click\): unknown option "clik"/,
    );
    refused(typescriptEncoded([{ fill: { selector: '#a' } }]), /js_scenario\[0\] \(fill\) needs "value"/);
    refused(
      typescriptEncoded([{ wait: -5 }]),
      /js_scenario\[0\] \(wait\): the wait must be a whole number of milliseconds from 0 to 60000/,
    );
    refused(typescriptEncoded([{ wait: 'long' }]), /js_scenario\[0\] \(wait\)/);
    refused(
      typescriptEncoded([{ wait_for_selector: { selector: '#a', state: 'attached' } }]),
      /"state" must be one of visible, hidden/,
    );
    refused(
      typescriptEncoded([{ condition: { selector: '#a', action: 'stop' } }]),
      /"action" must be one of exit_success, exit_failed, continue/,
    );
    refused(typescriptEncoded([{ execute: { script: '' } }]), /js_scenario\[0\] \(execute\) needs "script"/);
    refused(
      typescriptEncoded([{ select: { selector: '#s', value: 3 } }]),
      /js_scenario\[0\] \(select\) needs "value"/,
    );
    refused(typescriptEncoded([{ click: '#a' }]), /js_scenario\[0\] \(click\) takes an object of options/);
    refused(typescriptEncoded(Array.from({ length: 101 }, () => ({ wait: 1 }))), /101 steps; at most 100/);
  });

  it('needs render_js, as the SDKs only send it with a browser', () => {
    refused(typescriptEncoded([{ wait: 10 }]), /js_scenario needs render_js=true/, {});
  });
});
