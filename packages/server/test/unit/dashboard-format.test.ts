import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { humanValue, lineChart } from '../../src/dashboard/charts.js';
import { csvCell } from '../../src/dashboard/pages/logs.js';
import { ScreenshotConfig } from 'scrapfly-sdk';
import { z } from 'zod';
import { fieldKinds, fieldOfError } from '../../src/dashboard/playground-fields.js';
import {
  apiParameters,
  curlFor,
  scrapflyConfigFor,
  scrapflySdkCallFor,
  sdkCallFor,
} from '../../src/dashboard/pages/playground.js';
import { screenshotQueryDoc } from '../../src/http/routes/screenshot.js';

describe('dashboard formatting', () => {
  it('writes every number one way: counts in full with separators, durations and rates in their units', () => {
    assert.equal(
      humanValue(4400),
      '4,400',
      'a count in full, not "4.4 k" on one card and "4,400" on another',
    );
    assert.equal(humanValue(999_820), '999,820');
    assert.equal(humanValue(1_000_000), '1,000,000', 'a million too: the same format on every card');
    assert.equal(humanValue(47), '47');
    assert.equal(humanValue(1234, 'ms'), '1.2 s');
    assert.equal(humanValue(850, 'ms'), '850 ms');
    assert.equal(humanValue(90_000, 'ms'), '1.5 min');
    assert.equal(humanValue(99.5, 'percent'), '99.5 %');
  });

  it('draws a gap, not a zero, where a bucket has no value', () => {
    const svg = lineChart(
      'rate',
      ['a', 'b', 'c', 'd', 'e'],
      [{ name: 'r', color: '#000', values: [50, 60, null, 70, 80] }],
    );
    assert.equal((svg.match(/<polyline/g) ?? []).length, 2, 'two runs around the gap');
    const lone = lineChart('rate', ['a', 'b', 'c'], [{ name: 'r', color: '#000', values: [null, 60, null] }]);
    assert.equal((lone.match(/class="dot"/g) ?? []).length, 1, 'a lone value is a dot');
    assert.match(
      lineChart('n', ['a'], [{ name: 'n', color: '#000', values: [47] }]),
      />50</,
      'the axis ends on a round value',
    );
  });

  it('draws counts as bars, so traffic that sits in one bucket of 24 is a bar and not a lone dot', () => {
    const labels = Array.from({ length: 24 }, (_, hour) => `${hour}h`);
    const values = labels.map((_, hour) => (hour === 23 ? 5 : 0));
    const chart = lineChart('Requests', labels, [{ name: 'success', color: '#000', values }], {
      kind: 'bars',
    });
    assert.equal((chart.match(/<rect class="chart-bar"/g) ?? []).length, 1, 'one bar, in the busy hour');
    const height = Number(/height="([\d.]+)"/.exec(chart)?.[1]);
    assert.ok(height > 50, `the bar is drawn to its value (height ${height} of 100)`);
  });
  it('quotes CSV cells and defuses spreadsheet formulas', () => {
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvCell('-1+1'), "'-1+1");
    assert.equal(csvCell(-5), '-5', 'numbers stay numbers');
    assert.equal(csvCell(null), '');
  });

  it("turns the playground's form into the API call, the curl and the SDK call", () => {
    const form = {
      url: 'https://example.com/?a=1',
      format: 'png',
      rendering_wait: '0',
      auto_scroll: 'true',
      'options[dark_mode]': 'true',
      'options[block_banners]': 'true',
      js: "document.title='x'",
      country: '',
      device_scale_factor: '2',
      omit_background: 'true',
      cookies: 'a=1; Path=/\nb=2',
    };
    const params = apiParameters(form);
    assert.equal(params.country, undefined, 'empty fields are left out');
    assert.equal(params.options, 'dark_mode,block_banners', 'ticked options as a comma list');
    assert.deepEqual(params.cookies, ['a=1; Path=/', 'b=2'], 'one cookie per line');
    assert.equal(
      Buffer.from(String(params.js), 'base64url').toString(),
      "document.title='x'",
      'js sent base64url',
    );
    const curl = curlFor('http://localhost:8080', params);
    assert.match(curl, /url=https%3A%2F%2Fexample.com%2F%3Fa%3D1/, 'the URL is encoded');
    assert.match(curl, /key='"\$SNAPWIRE_KEY"'/, 'the key comes from the shell');
    assert.match(curl, /cookies=a%3D1%3B%20Path%3D%2F&cookies=b%3D2/, 'a repeated parameter repeats');
    const sdk = sdkCallFor('http://localhost:8080', form);
    assert.match(sdk, /rendering_wait: 0,/, 'numbers as numbers');
    assert.match(sdk, /device_scale_factor: 2,/, 'every number field');
    assert.match(sdk, /auto_scroll: true,/, 'booleans as booleans');
    assert.match(sdk, /omit_background: true,/, 'extension booleans too');
    assert.match(sdk, /options: \["dark_mode", "block_banners"\],/, 'options as a list');
    assert.match(sdk, /cookies: \["a=1; Path=\/", "b=2"\],/, 'cookies as a list');
    assert.match(sdk, /js: "document.title='x'",/, 'js as plain JavaScript');
  });

  it("writes the scrapfly-sdk snippet that makes the playground's call (checked with scrapfly-sdk itself)", () => {
    const form = {
      url: 'https://example.com/',
      format: 'webp',
      capture: 'fullpage',
      resolution: '1280x800',
      rendering_wait: '500',
      timeout: '30000',
      'options[dark_mode]': 'true',
      auto_scroll: 'true',
      js: 'document.body.style.zoom = 2',
      cache: 'true',
      cache_ttl: '60',
      vision_deficiency: 'tritanopia',
      webhook_name: 'shots',
      device_scale_factor: '2',
    };
    const snippet = scrapflySdkCallFor('http://localhost:8080', form);
    assert.match(
      snippet,
      /new ScrapflyClient\(\{\n {2}key: process\.env\.SNAPWIRE_KEY!,\n {2}host: "http:\/\/localhost:8080",\n\}\)/,
    );
    assert.match(snippet, /new ScreenshotConfig\(\{/);
    assert.match(
      snippet,
      /Not in scrapfly-sdk's ScreenshotConfig \(Snapwire extensions\):\n\/\/ device_scale_factor\./,
    );
    // The snippet's fields, given to the real ScreenshotConfig, send what the playground sends.
    const { fields } = scrapflyConfigFor(form);
    const config = new ScreenshotConfig(
      Object.fromEntries(fields.map(([name, literal]) => [name, JSON.parse(literal) as unknown])) as never,
    );
    const sent = Object.fromEntries(
      Object.entries(config.toApiParams({ key: 'k' }))
        .filter(([name]) => name !== 'key')
        .map(([name, value]) => [name, String(value)]),
    );
    const { device_scale_factor: extension, js, ...expected } = apiParameters(form);
    assert.equal(extension, '2', 'the extension goes through the API and @snapwire/sdk only');
    const decode = (value: unknown) => Buffer.from(String(value), 'base64url').toString();
    assert.equal(decode(sent.js), decode(js), 'the same script');
    delete sent.js;
    assert.deepEqual(sent, expected);
  });

  it('shows every closed list of the API as a select, every boolean as a box, every number as a number field', () => {
    const kinds = fieldKinds(120_000);
    for (const [name, schema] of Object.entries(screenshotQueryDoc.shape)) {
      let inner: z.ZodType = schema;
      while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault)
        inner = inner.unwrap() as z.ZodType;
      const kind = kinds[name]?.kind;
      if (inner instanceof z.ZodEnum) {
        assert.equal(kind, 'select', `${name} is a select`);
        const values = kinds[name]?.kind === 'select' ? kinds[name].values : [];
        assert.deepEqual([...values], inner.options, `${name} offers exactly the values the API accepts`);
      }
      if (inner instanceof z.ZodBoolean)
        assert.ok(kind === 'checkbox' || kind === 'choice', `${name} is a box`);
      if (inner instanceof z.ZodNumber) assert.equal(kind, 'number', `${name} is a number field`);
    }
    assert.equal(kinds.options?.kind, 'checks', 'options: one box per option');
    assert.equal(kinds.viewport_device?.kind, 'select', 'the device presets are a select');
  });

  it('puts a refusal next to the field it is about', () => {
    const sent = ['url', 'format', 'resolution', 'cache', 'cache_ttl', 'cookies'];
    assert.equal(fieldOfError('The resolution parameter "big" must be WIDTHxHEIGHT', sent), 'resolution');
    assert.equal(fieldOfError('The cache_ttl parameter must be between 1 and 5 seconds', sent), 'cache_ttl');
    assert.equal(fieldOfError('The cookie "a" has SameSite=x; use Strict, Lax or None', sent), 'cookies');
    assert.equal(fieldOfError('The capture failed', ['url']), undefined, 'no field: shown above the form');
  });
});
