import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  formatCountrySpec,
  parseCountryProxies,
  parseCountrySpec,
  pickCountry,
} from '../../src/engine/country.js';
import { ApiError } from '../../src/errors.js';
import { startUpstream } from '../helpers/country-upstream.js';
import { startService, type TestService } from '../helpers/service.js';
import { BLUE, RED, assertColor, expectImage, shoot } from './support.js';

describe('country parameter syntax and choice', () => {
  it('parses one code, a list, exclusions and weights, and writes them back canonically', () => {
    assert.deepEqual(parseCountrySpec('US'), { include: [{ code: 'us', weight: 1 }], exclude: [] });
    assert.equal(formatCountrySpec(parseCountrySpec(' us , CA,mx ')), 'us,ca,mx');
    assert.equal(formatCountrySpec(parseCountrySpec('-gb')), '-gb');
    assert.equal(formatCountrySpec(parseCountrySpec('us:10,gb:5')), 'us:10,gb:5');
    assert.equal(formatCountrySpec(parseCountrySpec('us:1,-fr')), 'us,-fr');
  });

  it('refuses malformed specs with a 400 that says what is wrong', () => {
    for (const [spec, reason] of [
      ['usa', /two-letter codes/],
      ['-', /exclusion is a minus/],
      ['us:0', /at least 1/],
      ['us,us', /twice/],
      ['us,-us', /both asks for and excludes/],
      [',', /empty/],
    ] as const) {
      assert.throws(
        () => parseCountrySpec(spec),
        (error: unknown) =>
          error instanceof ApiError &&
          error.code === 'ERR::SCRAPE::CONFIG_ERROR' &&
          reason.test(error.reason),
        spec,
      );
    }
  });

  it('picks among configured countries: weights, exclusions, and a clear 400 for a country with no proxy', () => {
    const configured = ['de', 'gb', 'us'];
    const sequence = (values: number[]) => {
      let i = 0;
      return () => values[i++ % values.length] as number;
    };
    // us:3,gb:1 -> tickets [0,3) us, [3,4) gb
    const weighted = parseCountrySpec('us:3,gb:1');
    assert.equal(
      pickCountry(weighted, configured, () => 0.0),
      'us',
    );
    assert.equal(
      pickCountry(weighted, configured, () => 0.74),
      'us',
    );
    assert.equal(
      pickCountry(weighted, configured, () => 0.76),
      'gb',
    );
    const counts: Record<string, number> = {};
    const random = sequence(Array.from({ length: 400 }, (_, i) => (i + 0.5) / 400));
    for (let i = 0; i < 400; i += 1) {
      const code = pickCountry(weighted, configured, random);
      counts[code] = (counts[code] ?? 0) + 1;
    }
    assert.deepEqual(counts, { us: 300, gb: 100 });
    const excluded = parseCountrySpec('-us,-de');
    for (const value of [0, 0.3, 0.6, 0.99])
      assert.equal(
        pickCountry(excluded, configured, () => value),
        'gb',
      );
    assert.throws(
      () => pickCountry(parseCountrySpec('us,fr'), configured),
      /No egress proxy is configured for country "fr" on this Snapwire host \(configured: de, gb, us\)/,
    );
    assert.throws(() => pickCountry(parseCountrySpec('-us,-de,-gb'), configured), /leaves no country/);
  });

  it('reads SNAPWIRE_COUNTRY_PROXIES', () => {
    assert.deepEqual(
      parseCountryProxies('us=http://u:p@10.0.0.5:3128|http://10.0.0.6:3128, GB=http://10.1.0.5:3128'),
      {
        us: ['http://u:p@10.0.0.5:3128', 'http://10.0.0.6:3128'],
        gb: ['http://10.1.0.5:3128'],
      },
    );
    assert.throws(() => parseCountryProxies('usa=http://x:1'), /COUNTRY=PROXY_URL/);
    assert.throws(() => parseCountryProxies('us=socks5://x:1'), /http:\/\/ proxy/);
  });
});

describe('engine: captures through a country egress proxy', () => {
  let service: TestService;
  let us: Awaited<ReturnType<typeof startUpstream>>;
  let gb: Awaited<ReturnType<typeof startUpstream>>;

  before(async () => {
    us = await startUpstream(RED);
    gb = await startUpstream(BLUE);
    service = await startService(
      { SNAPWIRE_COUNTRY_PROXIES: `us=${us.url},gb=${gb.url}` },
      { 'shop.test': '127.0.0.1' },
    );
  });
  after(async () => {
    await service?.close();
    await us?.close();
    await gb?.close();
  });

  // Any port: the upstream stand-ins send every tunnel to their own local site.
  const target = 'http://shop.test:8099/product';

  it('country=us goes through the us proxy, which is asked for the checked address, never the name', async () => {
    const image = expectImage(
      await shoot(service, { url: target, country: 'us', format: 'png', resolution: '400x300' }),
    );
    assertColor(image, 200, 150, RED, 'the us proxy carried it');
    // The document and the favicon: each request is a tunnel of its own.
    assert.ok(us.asked.length >= 1);
    assert.deepEqual([...new Set(us.asked)], ['127.0.0.1:8099'], 'CONNECT to the pinned IP address');
    assert.deepEqual(gb.asked, []);
  });

  it('country=-us (exclusion) and country=gb:5 (weighted, alone) go through gb', async () => {
    const usBefore = us.asked.length;
    for (const country of ['-us', 'gb:5', 'GB']) {
      const image = expectImage(
        await shoot(service, { url: target, country, format: 'png', resolution: '400x300' }),
      );
      assertColor(image, 200, 150, BLUE, `country=${country}`);
    }
    assert.equal(us.asked.length, usBefore, 'the us proxy was not used');
    assert.ok(gb.asked.length >= 3);
  });

  it('a country with no proxy answers a clear 400', async () => {
    const shot = await shoot(service, { url: target, country: 'fr' });
    assert.equal(shot.response.status, 400);
    assert.equal(shot.json?.code, 'ERR::SCRAPE::CONFIG_ERROR');
    assert.match(
      String(shot.json?.reason),
      /No egress proxy is configured for country "fr".*configured: gb, us/,
    );
  });

  it('the egress guard still refuses what the page is led to (a redirect to the metadata address)', async () => {
    const before = us.asked.length;
    const shot = await shoot(service, { url: 'http://shop.test:8099/to-metadata', country: 'us' });
    assert.equal(shot.response.status, 422, shot.bytes.toString());
    assert.equal(shot.json?.code, 'ERR::SCRAPE::DOMAIN_NOT_ALLOWED');
    assert.ok(
      us.asked.slice(before).every((authority) => !authority.startsWith('169.254')),
      `the upstream was never asked for the refused address: ${us.asked.slice(before).join(', ')}`,
    );
  });

  it('without country the egress proxies are not used', async () => {
    const before = us.asked.length + gb.asked.length;
    const shot = await shoot(service, { url: 'http://shop.test:1/' });
    assert.equal(
      shot.response.status,
      422,
      'nothing listens on port 1 of loopback: a direct connection fails',
    );
    assert.equal(us.asked.length + gb.asked.length, before);
  });
});
