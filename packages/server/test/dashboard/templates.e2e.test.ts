// The dashboard's Templates page, as a new user would go: write a template in the editor, try it on a pasted
// document and on a URL, save it, then use it by name from Scrapfly's TypeScript SDK (unmodified).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExtractionConfig, ScrapflyClient } from 'scrapfly-sdk';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';
import { ADMIN_PASSWORD, postForm, signIn } from './support.js';

const PAGE = '<html><body><h1>Blue Widget</h1><p class="price">$19.50</p></body></html>';
const TEMPLATE = JSON.stringify({
  selectors: [
    { name: 'title', type: 'css', query: 'h1::text' },
    { name: 'price', type: 'css', query: '.price', extractor: { name: 'price' } },
  ],
});
const DATA = { title: 'Blue Widget', price: { amount: 19.5, currency: 'USD', raw: '$19.50' } };

/** The text of an HTML fragment as a reader sees it (the entities the page escapes, decoded). */
const decoded = (text: string) =>
  text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
const resultOf = (page: string) => {
  const match = /<pre id="template-result">([\s\S]*?)<\/pre>/.exec(page);
  assert.ok(match, 'the page shows a result');
  return JSON.parse(decoded(match[1]!)) as unknown;
};

describe('dashboard: extraction templates (editor, try, save, use by name)', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let session: { cookie: string; csrf: string };
  const form = (fields: Record<string, string>) => ({
    _csrf: session.csrf,
    project: 'default',
    env: 'LIVE',
    ...fields,
  });

  before(async () => {
    fixtures = await startFixtureServer({
      routes: {
        '/item': (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
        },
      },
    });
    service = await startService({ SNAPWIRE_ADMIN_PASSWORD: ADMIN_PASSWORD }, {}, { browsers: false });
    const signedIn = await signIn(service.baseUrl);
    assert.ok(signedIn.cookie && signedIn.csrf, 'signed in');
    session = { cookie: signedIn.cookie, csrf: signedIn.csrf };
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  it('the page lists no template yet and offers the editor', async () => {
    const response = await fetch(`${service.baseUrl}/dashboard/templates`, {
      headers: { cookie: session.cookie },
    });
    assert.equal(response.status, 200);
    const page = await response.text();
    assert.match(page, /No saved template in default \(LIVE\) yet/);
    assert.match(page, /<form method="post" action="\/dashboard\/templates\/try" id="template-editor">/);
    assert.match(page, /href="\/dashboard\/templates"[^>]*>Templates</, 'in the navigation');
  });

  it('tries a template on a pasted document, then on a URL', async () => {
    const pasted = await postForm(
      service.baseUrl,
      '/dashboard/templates/try',
      form({ template: TEMPLATE, document: PAGE, content_type: 'text/html' }),
      session.cookie,
    );
    assert.equal(pasted.status, 200);
    assert.deepEqual(resultOf(await pasted.text()), DATA);
    const scraped = await postForm(
      service.baseUrl,
      '/dashboard/templates/try',
      form({ template: TEMPLATE, document: '', url: `${fixtures.origin}/item` }),
      session.cookie,
    );
    assert.equal(scraped.status, 200);
    assert.deepEqual(resultOf(await scraped.text()), DATA);
  });

  it('a malformed rule: the editor keeps what was typed and names the path', async () => {
    const bad = '{"selectors": [{"name": "x", "type": "css", "query": "h1", "cast": "money"}]}';
    const response = await postForm(
      service.baseUrl,
      '/dashboard/templates/save',
      form({ name: 'bad', template: bad, document: PAGE }),
      session.cookie,
    );
    assert.equal(response.status, 400);
    const page = decoded(await response.text());
    assert.match(
      page,
      /ERR::EXTRACTION::INVALID_RULE: The extraction template is not valid at selectors\[0\]\.cast/,
    );
    assert.ok(page.includes(bad), 'the typed template is still in the editor');
  });

  it('saves it; the list shows it; the SDK uses it by name; delete removes it', async () => {
    const saved = await postForm(
      service.baseUrl,
      '/dashboard/templates/save',
      form({ name: 'widget', template: TEMPLATE, document: '' }),
      session.cookie,
    );
    assert.equal(saved.status, 303);
    assert.match(String(saved.headers.get('location')), /name=widget&msg=Saved%20widget/);
    const listed = await (
      await fetch(`${service.baseUrl}/dashboard/templates?project=default&env=LIVE&name=widget`, {
        headers: { cookie: session.cookie },
      })
    ).text();
    assert.match(listed, /extraction_template=persistent:widget/);
    assert.ok(decoded(listed).includes('"query": "h1::text"'), 'the saved template is loaded in the editor');

    const client = new ScrapflyClient({ key: LIVE_KEY, host: service.baseUrl });
    const result = await client.extract(
      new ExtractionConfig({ body: PAGE, content_type: 'text/html', extraction_template: 'widget' }),
    );
    assert.deepEqual(result.data, DATA);

    const deleted = await postForm(
      service.baseUrl,
      '/dashboard/templates/delete',
      form({ name: 'widget', template: TEMPLATE }),
      session.cookie,
    );
    assert.equal(deleted.status, 303);
    const after_ = await fetch(`${service.baseUrl}/extraction/templates/widget?key=${LIVE_KEY}`);
    assert.equal(after_.status, 404);
  });
});
