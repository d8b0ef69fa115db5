/**
 * The rules extraction engine against the same selectors run by hand with its parser, side by side in one
 * run on the same ~200 KB product page (generated here, deterministically: title, price, image, a spec
 * table, 400 reviews, links):
 *
 *   engine  compileTemplate once, then runTemplate per document (packages/server/src/extraction/rules.ts),
 *           in process: linkedom parse, the css/xpath queries, extractors, formatters, casts, deadline
 *           checks;
 *   hand    the same queries written directly: linkedom parseHTML + querySelectorAll / getAttribute /
 *           textContent, and the same xpath package for the one XPath rule; the same output (checked
 *           equal before timing);
 *   http    optional (--http): POST /extraction of a whole Snapwire on SQLite on loopback (key, credits,
 *           log row, body decoding, the envelope), one request at a time.
 *
 * Documents are run one at a time and the modes alternate document by document, so that a busy moment on a
 * shared machine lands on all of them. Per mode: documents/s (documents over the summed time), median and
 * p95 ms per document; the ratios are to hand, in documents/s (which a few stalls of a busy machine move)
 * and in medians (which they do not).
 *
 *   npm run bench:extraction                               # 300 documents per mode, at most 60 s
 *   npm run bench:extraction -- --docs 500 --seconds 120 --http
 *
 * Only loopback is contacted.
 */
import { isDeepStrictEqual } from 'node:util';
import os from 'node:os';
import { parseHTML } from 'linkedom';
import xpath from 'xpath';
import { parseTemplate } from '../packages/server/src/extraction/template.js';
import { compileTemplate, runTemplate } from '../packages/server/src/extraction/rules.js';
import type { TestService } from '../packages/server/test/helpers/service.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? (process.argv[index + 1] as string) : fallback;
}

const DOCS = Number(option('docs', '300'));
const SECONDS = Number(option('seconds', '60'));
const WARMUP = Number(option('warmup', '20'));
const WITH_HTTP = process.argv.includes('--http');
const BASE_URL = 'https://shop.test/p/widget-9000';

/** A deterministic product page of about 200 KB: the same bytes on every run. */
function productPage(): string {
  let seed = 42;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const words =
    'solid sturdy battery light bright quiet fast great value works well after months daily use'.split(' ');
  const sentence = (count: number) =>
    Array.from({ length: count }, () => words[Math.floor(random() * words.length)]).join(' ');
  const specs = Array.from(
    { length: 40 },
    (_, index) => `<tr><th>Spec ${index + 1}</th><td> ${sentence(3)} </td></tr>`,
  ).join('\n');
  const reviews = Array.from({ length: 400 }, (_, index) => {
    const day = String((index % 28) + 1).padStart(2, '0');
    return `<div class="review" id="r${index}">
  <span class="author"> Reviewer ${index} </span>
  <span class="rating" data-rating="${1 + Math.floor(random() * 5)}">stars</span>
  <time datetime="2026-${String((index % 12) + 1).padStart(2, '0')}-${day}">${day}</time>
  <p class="review-body">${sentence(30 + Math.floor(random() * 20))}</p>
  <a class="helpful" href="/reviews/${index}/helpful">Helpful</a>
</div>`;
  }).join('\n');
  const links = Array.from(
    { length: 120 },
    (_, index) => `<li><a href="/c/category-${index}">Category ${index}</a></li>`,
  ).join('');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Widget 9000</title></head>
<body>
<nav><ul>${links}</ul></nav>
<main>
<h1 class="product-title">
  Widget 9000 Pro
</h1>
<div class="buy"><span class="price">1299.99</span> <span class="currency">USD</span></div>
<img class="product-image" src="/img/widget-9000.jpg" alt="Widget 9000">
<table id="specs">
${specs}
</table>
<section class="reviews">
${reviews}
</section>
</main>
</body></html>`;
}

const TEMPLATE = parseTemplate({
  source: 'html',
  selectors: [
    { name: 'title', type: 'css', query: 'h1.product-title', extractor: { name: 'text' } },
    { name: 'price', type: 'css', query: 'span.price::text', cast: 'float' },
    {
      name: 'image',
      type: 'css',
      query: 'img.product-image::attr(src)',
      formatters: [{ name: 'absolute_url' }],
    },
    {
      name: 'specs',
      type: 'xpath',
      query: "//table[@id='specs']//tr",
      multiple: true,
      nested: [
        { name: 'name', type: 'css', query: 'th', extractor: { name: 'text' } },
        { name: 'value', type: 'css', query: 'td', extractor: { name: 'text' } },
      ],
    },
    {
      name: 'reviews',
      type: 'css',
      query: 'div.review',
      multiple: true,
      nested: [
        { name: 'author', type: 'css', query: '.author', extractor: { name: 'text' } },
        { name: 'rating', type: 'css', query: '.rating::attr(data-rating)', cast: 'int' },
        { name: 'date', type: 'css', query: 'time::attr(datetime)' },
        { name: 'body', type: 'css', query: 'p.review-body', extractor: { name: 'text' } },
      ],
    },
    {
      name: 'links',
      type: 'css',
      query: 'a[href]::attr(href)',
      multiple: true,
      formatters: [{ name: 'absolute_url' }],
    },
  ],
});
const compiled = compileTemplate(TEMPLATE);

function runEngine(html: string): Record<string, unknown> {
  const now = Date.now;
  return runTemplate(compiled, html, { url: BASE_URL, deadline: now() + 60_000, now });
}

const text = (node: Node | null | undefined) => (node?.textContent ?? '').replace(/\s+/g, ' ').trim();
const absolute = (href: string) => new URL(href.trim(), BASE_URL).href;
/** The xpath package's parse() takes the isHtml option linkedom needs; its types list the classic API. */
const specRows = (
  xpath as unknown as {
    parse(expression: string): { evaluate(options: { node: Node; isHtml: boolean }): { toArray(): Node[] } };
  }
).parse("//table[@id='specs']//tr");

/** The same queries and output, written directly against linkedom. */
function runByHand(html: string): Record<string, unknown> {
  // linkedom leaves a doctype unlinked from its next sibling, which hides the tree from the xpath package.
  const { document } = parseHTML(html.replace(/^\s*<!doctype[^>]*>/i, ''));
  const priceNode = document.querySelector('span.price')?.firstChild;
  const image = document.querySelector('img.product-image')?.getAttribute('src');
  return {
    title: text(document.querySelector('h1.product-title')),
    price: priceNode ? Number(priceNode.nodeValue) : null,
    image: image === null || image === undefined ? null : absolute(image),
    specs: specRows
      .evaluate({ node: document, isHtml: true })
      .toArray()
      .map((row) => {
        const element = row as Element;
        return { name: text(element.querySelector('th')), value: text(element.querySelector('td')) };
      }),
    reviews: Array.from(document.querySelectorAll('div.review'), (review) => ({
      author: text(review.querySelector('.author')),
      rating: Number.parseInt(review.querySelector('.rating')?.getAttribute('data-rating') ?? '', 10),
      date: review.querySelector('time')?.getAttribute('datetime') ?? null,
      body: text(review.querySelector('p.review-body')),
    })),
    links: Array.from(document.querySelectorAll('a[href]'), (anchor) =>
      absolute(anchor.getAttribute('href') ?? ''),
    ),
  };
}

type Mode = 'engine' | 'hand' | 'http';

async function runHttp(service: TestService, html: string): Promise<Record<string, unknown>> {
  const query = new URLSearchParams({
    key: liveKey,
    content_type: 'text/html',
    url: BASE_URL,
    extraction_template: `ephemeral:${Buffer.from(JSON.stringify(TEMPLATE)).toString('base64url')}`,
  });
  const response = await fetch(`${service.baseUrl}/extraction?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'text/html; charset=utf-8' },
    body: html,
  });
  const answer = (await response.json()) as { data?: Record<string, unknown> };
  if (response.status !== 200 || !answer.data) {
    throw new Error(`http: ${response.status} ${JSON.stringify(answer).slice(0, 300)}`);
  }
  return answer.data;
}

const html = productPage();
// Loaded only with --http: the service helpers need the built SDK (npm run build).
const helpers = WITH_HTTP ? await import('../packages/server/test/helpers/service.js') : undefined;
const liveKey = helpers?.LIVE_KEY ?? '';
const service = helpers
  ? await helpers.startService({ SNAPWIRE_DEFAULT_PLAN: 'ENTERPRISE' }, {}, { browsers: false })
  : undefined;
const modes: Mode[] = service ? ['engine', 'hand', 'http'] : ['engine', 'hand'];
const run = (mode: Mode): Promise<unknown> | unknown =>
  mode === 'engine' ? runEngine(html) : mode === 'hand' ? runByHand(html) : runHttp(service!, html);

const times: Record<Mode, number[]> = { engine: [], hand: [], http: [] };
const loadBefore = os.loadavg();
try {
  // Same answer from every mode, or the comparison means nothing.
  const expected = runByHand(html);
  for (const mode of modes) {
    const got = await run(mode);
    if (!isDeepStrictEqual(got, expected)) {
      throw new Error(`${mode} does not give the hand-written output: ${JSON.stringify(got).slice(0, 300)}`);
    }
  }
  for (let index = 0; index < WARMUP; index += 1) for (const mode of modes) await run(mode);
  const stopAt = performance.now() + SECONDS * 1000;
  for (let index = 0; index < DOCS && performance.now() < stopAt; index += 1) {
    // The order rotates too, so that neither mode always runs right after the other's garbage.
    for (let turn = 0; turn < modes.length; turn += 1) {
      const mode = modes[(index + turn) % modes.length]!;
      const started = performance.now();
      await run(mode);
      times[mode].push(performance.now() - started);
    }
  }
} finally {
  await service?.close();
}
const loadAfter = os.loadavg();

const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))] ?? 0;
const rate = (values: number[]) => values.length / (values.reduce((sum, value) => sum + value, 0) / 1000);
const LABELS: Record<Mode, string> = {
  engine: 'Snapwire rules engine (compileTemplate + runTemplate, in process)',
  hand: 'by hand: linkedom parseHTML + querySelectorAll (+ xpath for one rule)',
  http: 'Snapwire POST /extraction (whole service, SQLite, loopback)',
};
console.log(
  `${(Buffer.byteLength(html) / 1024).toFixed(0)} KB product page, ${times.engine.length} documents per mode, alternated; ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), Node ${process.version}; load average ${loadBefore.map((value) => value.toFixed(2)).join(' ')} before, ${loadAfter.map((value) => value.toFixed(2)).join(' ')} after; ${new Date().toISOString()}`,
);
const handRate = rate(times.hand);
console.log(
  '| mode | documents/s | median ms | p95 ms | ratio to by hand (documents/s) | ratio to by hand (medians) |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
const handMedian = quantile(times.hand, 0.5);
for (const mode of modes) {
  console.log(
    `| ${LABELS[mode]} | ${rate(times[mode]).toFixed(1)} | ${quantile(times[mode], 0.5).toFixed(2)} | ${quantile(times[mode], 0.95).toFixed(2)} | ${(rate(times[mode]) / handRate).toFixed(2)}x | ${(handMedian / quantile(times[mode], 0.5)).toFixed(2)}x |`,
  );
}
