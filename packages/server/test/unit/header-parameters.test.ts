// One parser of `headers[NAME]=VALUE` for /screenshot and /scrape (src/request/headers.ts): each API gives its
// limits and the names it refuses with why; the rest (token names, one line, no duplicates, values never
// echoed) is the same for both.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isApiError } from '../../src/errors.js';
import { parseHeaderParameters, parseHeaders, type HeaderRules } from '../../src/request/headers.js';
import { parseScrapeRequest } from '../../src/request/scrape-request.js';
import { parseScreenshotRequest } from '../../src/request/screenshot-request.js';

const rules: HeaderRules = {
  maxHeaders: 2,
  maxHeaderBytes: 16,
  refusedReason: (name) => (name === 'x-forbidden' ? 'it is ours' : undefined),
};

/** The CONFIG_ERROR reason `run` throws. */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(isApiError(error), `not an ApiError: ${String(error)}`);
    assert.equal(error.code, 'ERR::SCRAPE::CONFIG_ERROR');
    return error.reason;
  }
  assert.fail('no error thrown');
}

describe('parseHeaderParameters', () => {
  it('reads headers[NAME] only, names lower-case and trimmed, values as given', () => {
    assert.deepEqual(
      parseHeaderParameters(
        { url: 'https://example.com', 'headers[X-One]': 'A b', 'headers[ accept ]': '', other: 'x' },
        rules,
      ),
      { 'x-one': 'A b', accept: '' },
    );
    assert.deepEqual(parseHeaderParameters({ url: 'https://example.com' }, rules), {});
  });

  it("refuses a name by the rules' own reason, and a name that is not a token", () => {
    assert.equal(
      refusal(() => parseHeaderParameters({ 'headers[X-Forbidden]': 'v' }, rules)),
      'The header "x-forbidden" cannot be set with headers[x-forbidden]: it is ours',
    );
    assert.match(
      refusal(() => parseHeaderParameters({ 'headers[a b]': 'v' }, rules)),
      /is not valid/,
    );
  });

  it('refuses repeats, case duplicates, too many, and a value over the limit without echoing it', () => {
    assert.match(
      refusal(() => parseHeaderParameters({ 'headers[a]': ['1', '2'] }, rules)),
      /headers\[a\] was given 2 times/,
    );
    assert.match(
      refusal(() => parseHeaderParameters({ 'headers[A]': '1', 'headers[a]': '2' }, rules)),
      /"a" was given twice/,
    );
    assert.match(
      refusal(() =>
        parseHeaderParameters({ 'headers[a]': '1', 'headers[b]': '2', 'headers[c]': '3' }, rules),
      ),
      /At most 2 headers\[NAME\] parameters are accepted; got 3/,
    );
    const secret = 'secret-token-1234567890';
    const long = refusal(() => parseHeaderParameters({ 'headers[authorization]': secret }, rules));
    assert.equal(long, 'The value of headers[authorization] must be one line of at most 16 bytes');
    const twoLines = refusal(() => parseHeaderParameters({ 'headers[a]': 'x\r\ny' }, rules));
    assert.doesNotMatch(twoLines, /x\r\ny/);
  });
});

describe('the two call sites keep their own refused names and wording', () => {
  const scrape = (query: Record<string, string>) =>
    parseScrapeRequest(
      { url: 'https://example.com/', ...query },
      { method: 'GET', contentType: undefined, body: undefined },
      { maxTimeoutMs: 120_000 },
    );
  const screenshot = (query: Record<string, string>) =>
    parseScreenshotRequest({ url: 'https://example.com/', ...query }, { maxTimeoutMs: 120_000 });

  it('/scrape refuses framing headers and sends cookie and user-agent', () => {
    assert.equal(
      refusal(() => scrape({ 'headers[Transfer-Encoding]': 'chunked' })),
      'The header "transfer-encoding" cannot be set with headers[transfer-encoding]: Snapwire frames the request itself',
    );
    assert.deepEqual(scrape({ 'headers[Cookie]': 'a=1', 'headers[user-agent]': 'me' }).headers, {
      cookie: 'a=1',
      'user-agent': 'me',
    });
  });

  it('/screenshot refuses cookie and user-agent with the parameter to use instead', () => {
    assert.match(
      refusal(() => screenshot({ 'headers[cookie]': 'a=1' })),
      /cannot be set with headers\[cookie\]: use the cookies parameter$/,
    );
    assert.match(
      refusal(() => parseHeaders({ 'headers[proxy-authorization]': 'x' })),
      /proxy-\* headers belong to the egress proxy$/,
    );
    assert.equal(parseHeaders({ url: 'https://example.com/' }), undefined);
    assert.deepEqual(parseHeaders({ 'headers[Authorization]': 'Bearer x' }), { authorization: 'Bearer x' });
  });
});

describe("/scrape's country parameter", () => {
  const scrape = (query: Record<string, string>) =>
    parseScrapeRequest(
      { url: 'https://example.com/', ...query },
      { method: 'GET', contentType: undefined, body: undefined },
      { maxTimeoutMs: 120_000 },
    );

  it('takes ISO 3166-1 alpha-2 codes in the syntax /screenshot takes, canonical', () => {
    assert.equal(scrape({ country: 'US' }).country, 'us');
    assert.equal(scrape({ country: 'us, ca ,MX' }).country, 'us,ca,mx');
    assert.equal(scrape({ country: 'us:10,gb:5,-de' }).country, 'us:10,gb:5,-de');
    assert.equal(scrape({}).country, undefined);
    assert.equal(scrape({ country: '' }).country, undefined);
  });

  it('refuses a code that is not ISO 3166-1, or bad syntax, naming it', () => {
    assert.match(
      refusal(() => scrape({ country: 'uk' })),
      /"uk", which is not an ISO 3166-1 alpha-2.*gb/,
    );
    assert.match(
      refusal(() => scrape({ country: 'us,zz' })),
      /"zz", which is not an ISO 3166-1/,
    );
    assert.match(
      refusal(() => scrape({ country: '-xx' })),
      /"xx", which is not an ISO 3166-1/,
    );
    assert.match(
      refusal(() => scrape({ country: 'usa' })),
      /"usa"; use two-letter codes/,
    );
  });
});
