// session=NAME's cookie jar (src/scrape/cookie-jar.ts): what a browser would store and send back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CookieJar } from '../../src/scrape/cookie-jar.js';

const now = 1_700_000_000;

describe('a scrape session cookie jar', () => {
  it('sends a host-only cookie to its host only, a Domain cookie to the domain and its subdomains', () => {
    const jar = new CookieJar();
    jar.applySetCookies(
      ['sid=1; Path=/', 'wide=2; Domain=.shop.test; Path=/'],
      'http://www.shop.test/cart',
      now,
    );
    assert.equal(jar.headerFor('http://www.shop.test/', now), 'sid=1; wide=2');
    assert.equal(jar.headerFor('http://api.shop.test/x', now), 'wide=2');
    assert.equal(jar.headerFor('http://shop.test/', now), 'wide=2');
    assert.equal(jar.headerFor('http://other.test/', now), undefined);
  });

  it('a cookie for another site is not stored', () => {
    const jar = new CookieJar();
    jar.applySetCookies(['evil=1; Domain=bank.test'], 'http://shop.test/', now);
    assert.deepEqual(jar.list(now), []);
  });

  it('paths: the default is the directory, a longer path goes first, /a does not match /ab', () => {
    const jar = new CookieJar();
    jar.applySetCookies(['dir=1', 'top=2; Path=/'], 'http://shop.test/a/page', now);
    jar.applySetCookies(['deep=3; Path=/a/b'], 'http://shop.test/', now);
    assert.equal(jar.headerFor('http://shop.test/a/b/c', now), 'deep=3; dir=1; top=2');
    assert.equal(jar.headerFor('http://shop.test/ab', now), 'top=2');
  });

  it('Secure cookies go over https only; Max-Age wins over Expires; Max-Age=0 and past Expires delete', () => {
    const jar = new CookieJar();
    jar.applySetCookies(
      [
        's=1; Secure; Path=/',
        'short=1; Max-Age=60; Expires=Wed, 01 Jan 2100 00:00:00 GMT; Path=/',
        'gone=1; Path=/',
      ],
      'https://shop.test/',
      now,
    );
    assert.equal(jar.headerFor('http://shop.test/', now), 'short=1; gone=1');
    assert.equal(jar.headerFor('https://shop.test/', now), 's=1; short=1; gone=1');
    assert.equal(jar.headerFor('https://shop.test/', now + 61), 's=1; gone=1');
    jar.applySetCookies(['gone=; Max-Age=0; Path=/'], 'https://shop.test/', now);
    jar.applySetCookies(['s=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/'], 'https://shop.test/', now);
    assert.equal(jar.headerFor('https://shop.test/', now), 'short=1');
  });

  it('a new value replaces the old one of the same name, domain and path', () => {
    const jar = new CookieJar();
    jar.applySetCookies(['sid=1; Path=/'], 'http://shop.test/', now);
    jar.applySetCookies(['sid=2; Path=/'], 'http://shop.test/', now);
    assert.equal(jar.headerFor('http://shop.test/', now), 'sid=2');
  });

  it("the browser's cookies become the jar: a leading dot is a domain cookie, -1 a session cookie", () => {
    const jar = new CookieJar();
    jar.replaceWithBrowserCookies([
      { name: 'a', value: '1', domain: 'shop.test', path: '/', expires: -1, secure: false, httpOnly: false },
      {
        name: 'b',
        value: '2',
        domain: '.shop.test',
        path: '/',
        expires: now + 10,
        secure: false,
        httpOnly: true,
      },
    ]);
    assert.equal(jar.headerFor('http://shop.test/', now), 'a=1; b=2');
    assert.equal(jar.headerFor('http://x.shop.test/', now), 'b=2');
    assert.equal(jar.headerFor('http://shop.test/', now + 11), 'a=1');
  });
});
