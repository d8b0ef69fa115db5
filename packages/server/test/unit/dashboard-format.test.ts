import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { humanValue, lineChart } from '../../src/dashboard/charts.js';
import { csvCell } from '../../src/dashboard/pages/logs.js';
import { apiParameters, curlFor, sdkCallFor } from '../../src/dashboard/pages/playground.js';

describe('dashboard formatting', () => {
  it('writes axes and cards in human units', () => {
    assert.equal(humanValue(4400), '4.4 k');
    assert.equal(humanValue(1_250_000), '1.3 M');
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
    assert.equal((lone.match(/<circle/g) ?? []).length, 1, 'a lone value is a dot');
    assert.match(
      lineChart('n', ['a'], [{ name: 'n', color: '#000', values: [47] }]),
      />50</,
      'the axis ends on a round value',
    );
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
      options: 'dark_mode,block_banners',
      js: "document.title='x'",
      country: '',
    };
    const params = apiParameters(form);
    assert.equal(params.country, undefined, 'empty fields are left out');
    assert.equal(
      Buffer.from(params.js ?? '', 'base64url').toString(),
      "document.title='x'",
      'js sent base64url',
    );
    const curl = curlFor('http://localhost:8080', params);
    assert.match(curl, /url=https%3A%2F%2Fexample.com%2F%3Fa%3D1/, 'the URL is encoded');
    assert.match(curl, /key='"\$SNAPWIRE_KEY"'/, 'the key comes from the shell');
    const sdk = sdkCallFor('http://localhost:8080', form);
    assert.match(sdk, /rendering_wait: 0,/, 'numbers as numbers');
    assert.match(sdk, /auto_scroll: true,/, 'booleans as booleans');
    assert.match(sdk, /options: \["dark_mode", "block_banners"\],/, 'options as a list');
    assert.match(sdk, /js: "document.title='x'",/, 'js as plain JavaScript');
  });
});
