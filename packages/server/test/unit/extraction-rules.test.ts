// The rules engine of the Extraction API (src/extraction/), without a service: templates in Scrapfly's
// rules format (docs/compat.md "Extraction API") run on HTML and JSON documents.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/errors.js';
import { compileTemplate, runTemplate } from '../../src/extraction/rules.js';
import { REGEX_INPUT_LIMIT } from '../../src/extraction/safe-regex.js';
import { parseTemplate } from '../../src/extraction/template.js';
import { parseLocalizedNumber } from '../../src/extraction/values.js';

const PRODUCT = `<html><head><title>Blue Widget</title></head><body>
<h1 class="title"> Blue <b>Widget</b> </h1>
<div class="price">Price: $1,299.99</div>
<ul id="reviews">
  <li class="review"><span class="author">Ann</span><p>Great &amp; <i>sturdy</i></p><a href="/u/ann">profile</a></li>
  <li class="review"><span class="author">Bob</span><p>Meh</p><a href="mailto:Bob@Example.com">mail</a></li>
</ul>
<img src="/img/widget.png" alt="widget">
<time datetime="2024-03-05T10:00:00Z">March 5</time>
<footer>Call +1 (555) 123-4567 or write to sales@shop.test <a href="https://other.test/x">x</a></footer>
</body></html>`;

const run = (template: unknown, document: string, url?: string) =>
  runTemplate(compileTemplate(parseTemplate(template)), document, {
    url,
    deadline: Date.now() + 10_000,
    now: Date.now,
  });

/** The ApiError a template is refused with. */
const refusal = (template: unknown): ApiError => {
  try {
    compileTemplate(parseTemplate(template));
  } catch (error) {
    assert.ok(error instanceof ApiError, String(error));
    return error;
  }
  assert.fail('the template was accepted');
};

describe('extraction rules engine', () => {
  it('css: elements as HTML, ::text as the own text nodes (parsel), ::attr(NAME)', () => {
    const data = run(
      {
        selectors: [
          { name: 'html', type: 'css', query: 'h1.title' },
          { name: 'text', type: 'css', query: 'h1::text', formatters: [{ name: 'trim' }] },
          { name: 'all_text', type: 'css', query: 'h1', formatters: [{ name: 'remove_html' }] },
          { name: 'alt', type: 'css', query: 'img::attr(alt)' },
          { name: 'missing', type: 'css', query: '.nothing' },
          { name: 'none', type: 'css', query: '.nothing', multiple: true },
        ],
      },
      PRODUCT,
    );
    assert.deepEqual(data, {
      html: '<h1 class="title"> Blue <b>Widget</b> </h1>',
      text: 'Blue',
      all_text: 'Blue Widget',
      alt: 'widget',
      missing: null,
      none: [],
    });
  });

  it('xpath 1.0: text(), @attr, functions, relative paths in nested rules', () => {
    const data = run(
      {
        selectors: [
          { name: 'count', type: 'xpath', query: 'count(//li)' },
          { name: 'title', type: 'xpath', query: 'normalize-space(//h1)' },
          { name: 'src', type: 'xpath', query: '//img/@src' },
          { name: 'has_footer', type: 'xpath', query: 'boolean(//footer)' },
          {
            name: 'authors',
            type: 'xpath',
            query: "//li[contains(@class, 'review')]",
            multiple: true,
            nested: [{ name: 'who', type: 'xpath', query: './span/text()' }],
          },
        ],
      },
      PRODUCT,
    );
    assert.deepEqual(data, {
      count: 2,
      title: 'Blue Widget',
      src: '/img/widget.png',
      has_footer: true,
      authors: [{ who: 'Ann' }, { who: 'Bob' }],
    });
  });

  it('nested and multiple: one object per match, absolute URLs against the document url', () => {
    const data = run(
      {
        selectors: [
          {
            name: 'reviews',
            type: 'css',
            query: 'li.review',
            multiple: true,
            nested: [
              { name: 'author', type: 'css', query: '.author::text', formatters: [{ name: 'uppercase' }] },
              { name: 'body', type: 'css', query: 'p', formatters: [{ name: 'remove_html' }] },
              { name: 'link', type: 'css', query: 'a::attr(href)', formatters: [{ name: 'absolute_url' }] },
            ],
          },
        ],
      },
      PRODUCT,
      'https://shop.test/p/1',
    );
    assert.deepEqual(data.reviews, [
      { author: 'ANN', body: 'Great & sturdy', link: 'https://shop.test/u/ann' },
      { author: 'BOB', body: 'Meh', link: 'mailto:Bob@Example.com' },
    ]);
  });

  it('extractors: price, image, links, emails, phone_numbers', () => {
    const data = run(
      {
        selectors: [
          { name: 'price', type: 'css', query: '.price', extractor: { name: 'price' } },
          { name: 'image', type: 'css', query: 'body', extractor: { name: 'image' } },
          { name: 'links', type: 'css', query: 'footer', extractor: { name: 'links' } },
          { name: 'emails', type: 'css', query: 'body', extractor: { name: 'emails' } },
          { name: 'phones', type: 'css', query: 'footer', extractor: { name: 'phone_numbers' } },
        ],
      },
      PRODUCT,
      'https://shop.test/p/1',
    );
    assert.deepEqual(data, {
      price: { amount: 1299.99, currency: 'USD', raw: 'Price: $1,299.99' },
      image: { url: 'https://shop.test/img/widget.png', alt: 'widget' },
      links: [{ url: 'https://other.test/x', text: 'x' }],
      emails: ['bob@example.com', 'sales@shop.test'],
      phones: ['+15551234567'],
    });
  });

  it('formatters and cast: datetime, date, number, unique, join, cast', () => {
    const data = run(
      {
        selectors: [
          { name: 'when', type: 'css', query: 'time::attr(datetime)', formatters: [{ name: 'datetime' }] },
          { name: 'day', type: 'css', query: 'time::attr(datetime)', formatters: [{ name: 'date' }] },
          { name: 'amount', type: 'css', query: '.price::text', cast: 'float' },
          { name: 'whole', type: 'css', query: '.price::text', cast: 'int' },
          {
            name: 'tags',
            type: 'regex',
            query: '(Ann|Bob|Ann)',
            multiple: true,
            formatters: [
              { name: 'lowercase' },
              { name: 'unique' },
              { name: 'join', args: { separator: ',' } },
            ],
          },
        ],
      },
      PRODUCT,
    );
    assert.deepEqual(data, {
      when: '2024-03-05T10:00:00.000Z',
      day: '2024-03-05',
      amount: 1299.99,
      whole: 1299,
      tags: 'ann,bob',
    });
  });

  it('regex: groups, named groups, flags', () => {
    const data = run(
      {
        selectors: [
          { name: 'price', type: 'regex', query: '\\$([\\d,.]+)', cast: 'float' },
          { name: 'named', type: 'regex', query: '(?P<first>ann)', options: { flags: 'i' } },
          { name: 'whole', type: 'regex', query: 'blue widget', options: { flags: 'i' } },
        ],
      },
      PRODUCT,
    );
    assert.deepEqual(data, { price: 1299.99, named: { first: 'Ann' }, whole: 'Blue Widget' });
  });

  it('jmespath on a JSON document, nested and multiple', () => {
    const document = JSON.stringify({
      product: {
        name: 'Widget',
        offers: [
          { price: '9.50', currency: 'EUR' },
          { price: '12', currency: 'USD' },
        ],
      },
    });
    const data = run(
      {
        source: 'json',
        selectors: [
          { name: 'name', type: 'jmespath', query: 'product.name', formatters: [{ name: 'uppercase' }] },
          {
            name: 'offers',
            type: 'jmespath',
            query: 'product.offers',
            multiple: true,
            nested: [
              { name: 'price', type: 'jmespath', query: 'price', cast: 'float' },
              { name: 'currency', type: 'jmespath', query: 'currency' },
            ],
          },
          {
            name: 'prices',
            type: 'jmespath',
            query: 'product.offers[].price',
            multiple: true,
            cast: 'float',
          },
        ],
      },
      document,
    );
    assert.deepEqual(data, {
      name: 'WIDGET',
      offers: [
        { price: 9.5, currency: 'EUR' },
        { price: 12, currency: 'USD' },
      ],
      prices: [9.5, 12],
    });
  });

  it('a malformed rule is refused with its path in the template', () => {
    const cases: Array<[unknown, RegExp]> = [
      [
        {
          selectors: [
            { name: 'a', type: 'css', query: 'p' },
            { name: 'b', type: 'css', query: 'li', nested: [{ name: 'c', type: 'css', query: 'p[[' }] },
          ],
        },
        /at selectors\[1\]\.nested\[0\]\.query: not a valid CSS selector/,
      ],
      [
        { selectors: [{ name: 'a', type: 'xpath', query: '//a[' }] },
        /at selectors\[0\]\.query: not a valid XPath/,
      ],
      [
        { selectors: [{ name: 'a', type: 'jmespath', query: 'a' }] },
        /at selectors\[0\]\.type: .*"source": "json"/,
      ],
      [
        { source: 'json', selectors: [{ name: 'a', type: 'jmespath', query: 'a[' }] },
        /selectors\[0\]\.query: not a valid JMESPath/,
      ],
      [
        { selectors: [{ name: 'a', type: 'regex', query: '(a)\\1' }] },
        /selectors\[0\]\.query: .*backreferences/,
      ],
      [
        { selectors: [{ name: 'a', type: 'css', qurey: 'p' }] },
        /at selectors\[0\]\.qurey: unknown field "qurey"/,
      ],
      [{ selectors: [{ name: 'a', type: 'css' }] }, /at selectors\[0\]\.query: required/],
      [
        { selectors: [{ name: 'a', type: 'css', query: 'p', formatters: [{ name: 'shout' }] }] },
        /selectors\[0\]\.formatters\[0\]\.name/,
      ],
      [
        { selectors: [{ name: 'a', type: 'css', query: 'p', extractor: { name: 'gold' } }] },
        /selectors\[0\]\.extractor\.name/,
      ],
      [{ selectors: [] }, /at selectors: /],
    ];
    for (const [template, message] of cases) {
      const error = refusal(template);
      assert.equal(error.code, 'ERR::EXTRACTION::INVALID_RULE');
      assert.equal(error.definition.httpStatus, 400);
      assert.match(error.reason, message);
    }
  });

  it('a ReDoS-prone regex runs in linear time on RE2, its input capped', () => {
    const document = `<p>${'a'.repeat(REGEX_INPUT_LIMIT * 2)}!</p>`;
    const started = Date.now();
    const data = run({ selectors: [{ name: 'evil', type: 'regex', query: '(a+)+$' }] }, document);
    // The match ends where the input was cut, not at the document's end.
    const matched = String(data.evil);
    assert.ok(
      matched.length > 0 && matched.length < REGEX_INPUT_LIMIT,
      `matched ${matched.length} characters`,
    );
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  });

  it('a run past its deadline stops with ERR::EXTRACTION::TIMEOUT', () => {
    let now = 0;
    const compiled = compileTemplate(
      parseTemplate({ selectors: [{ name: 'items', type: 'css', query: 'li', multiple: true }] }),
    );
    assert.throws(
      () => runTemplate(compiled, PRODUCT, { deadline: 1, now: () => (now += 1) }),
      (error: unknown) => error instanceof ApiError && error.code === 'ERR::EXTRACTION::TIMEOUT',
    );
  });

  it('numbers as pages write them', () => {
    assert.equal(parseLocalizedNumber('1,299.99'), 1299.99);
    assert.equal(parseLocalizedNumber('1.299,99 €'), 1299.99);
    assert.equal(parseLocalizedNumber('1 299,99'), 1299.99);
    assert.equal(parseLocalizedNumber('12.50 15.00'), 12.5);
    assert.equal(parseLocalizedNumber('1,299'), 1299);
    assert.equal(parseLocalizedNumber('none'), null);
  });
});
