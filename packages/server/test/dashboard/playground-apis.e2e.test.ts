// The playground's Scrape and Extraction tabs (issues 21 item 9, 22 item 5), and the screenshot tab's
// fields after the one-renderer rewrite: real service (no browser), real HTTP, a signed-in session.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseHTML } from 'linkedom';
import { startFixtureServer, type FixtureServer, type Handler } from '../helpers/fixture-server.js';
import { startService, type TestService } from '../helpers/service.js';
import { ADMIN_PASSWORD, postForm, signIn } from './support.js';

const routes: Record<string, Handler> = {
  '/echo': (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      res
        .writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
        .end(`${req.method} ${req.headers['content-type'] ?? '-'} ${Buffer.concat(chunks).toString()}`);
    });
  },
  '/article': (_req, res) => {
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end('<html><body><h1>Playground title</h1><p>Some <b>bold</b> words.</p></body></html>');
  },
};

const PRODUCT = '<html><body><h1 class="title">Blue Widget</h1><span class="sku">BW-1</span></body></html>';

describe('the playground: Scrape and Extraction tabs', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let session = { cookie: '', csrf: '' };

  const get = async (path: string) => {
    const response = await fetch(`${service.baseUrl}${path}`, { headers: { cookie: session.cookie } });
    assert.equal(response.status, 200, path);
    return parseHTML(await response.text()).document;
  };
  const post = async (path: string, fields: Record<string, string>) => {
    const response = await postForm(
      service.baseUrl,
      path,
      { _csrf: session.csrf, project: 'default', env: 'LIVE', ...fields },
      session.cookie,
    );
    assert.equal(response.status, 200, path);
    return parseHTML(await response.text()).document;
  };
  const textOf = (document: Document, selector: string) =>
    (document.querySelector(selector)?.textContent ?? '').replace(/\s+/g, ' ').trim();

  before(async () => {
    fixtures = await startFixtureServer({ routes });
    service = await startService({ SNAPWIRE_ADMIN_PASSWORD: ADMIN_PASSWORD }, {}, { browsers: false });
    const signed = await signIn(service.baseUrl);
    session = { cookie: signed.cookie, csrf: signed.csrf };
    assert.ok(session.cookie && session.csrf, 'signed in');
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
  });

  it('every tab links the three APIs; the screenshot fields keep their kinds', async () => {
    const document = await get('/dashboard/playground');
    assert.deepEqual(
      [...document.querySelectorAll('#playground-tabs a')].map((a) => [a.getAttribute('href'), a.className]),
      [
        ['/dashboard/playground', 'on'],
        ['/dashboard/playground/scrape', ''],
        ['/dashboard/playground/extraction', ''],
      ],
    );
    const field = (name: string) => document.querySelector(`#playground [data-field="${name}"]`);
    assert.equal(field('url')?.querySelector('input[type=text][required]')?.getAttribute('name'), 'url');
    assert.equal(field('format')?.querySelector('select option[value=png]')?.textContent, 'png');
    assert.equal(field('auto_scroll')?.querySelector('input[type=checkbox]')?.getAttribute('value'), 'true');
    assert.equal(field('options')?.tagName, 'FIELDSET');
    assert.equal(field('options')?.querySelectorAll('input[type=checkbox]').length, 4);
    const timeout = field('timeout')?.querySelector('input[type=number]');
    assert.ok(timeout?.getAttribute('min') && timeout.getAttribute('max'), 'a number box with its bounds');
    assert.equal(field('js')?.querySelector('textarea')?.getAttribute('name'), 'js');
    assert.ok(field('capture')?.querySelector('datalist option[value=fullpage]'), 'suggestions');
    assert.equal(
      field('format')?.querySelector('select')?.getAttribute('aria-describedby'),
      'field-format-help',
      'each control names its help text',
    );
    const scrape = await get('/dashboard/playground/scrape');
    assert.equal(scrape.querySelector('#playground-tabs a.on')?.getAttribute('data-tab'), 'scrape');
    const extraction = await get('/dashboard/playground/extraction');
    assert.equal(extraction.querySelector('#playground-tabs a.on')?.getAttribute('data-tab'), 'extraction');
  });

  it('scrapes a page in the chosen format and shows the content answered, its log and the call in code', async () => {
    const url = `${fixtures.origin}/article`;
    const document = await post('/dashboard/playground/scrape', { url, format: 'markdown' });
    assert.equal(document.querySelector('#answer')?.getAttribute('data-status'), '200');
    assert.equal(
      document.querySelector('#scrape-answer-content')?.textContent,
      '# Playground title\n\nSome **bold** words.',
    );
    const logHref = document.querySelector('#answer-log a')?.getAttribute('href') ?? '';
    const logPage = await get(logHref);
    assert.equal(
      logPage.querySelector('#log-kind')?.getAttribute('data-kind'),
      'scrape',
      'logged as a scrape',
    );
    assert.equal(textOf(logPage, '#scrape-format'), 'markdown');
    assert.match(
      textOf(document, '#playground-curl'),
      /\/scrape\?key='"\$SNAPWIRE_KEY"'&url=http.*&format=markdown'$/,
    );
    assert.match(
      textOf(document, '#playground-scrapfly-sdk'),
      /new ScrapeConfig\(\{ url: "http[^"]+\/article", format: "markdown",/,
    );
    assert.equal(
      (document.querySelector('#playground select[name=format] option[selected]') as HTMLOptionElement | null)
        ?.value,
      'markdown',
      'the form keeps what was typed',
    );
  });

  it("sends the method and the body to the target; the target's 404 shows as its status", async () => {
    const document = await post('/dashboard/playground/scrape', {
      url: `${fixtures.origin}/echo`,
      method: 'PATCH',
      body: '{"name":"widget"}',
    });
    assert.equal(
      document.querySelector('#scrape-answer-content')?.textContent,
      'PATCH application/json {"name":"widget"}',
    );
    assert.match(
      textOf(document, '#playground-curl'),
      /^curl -X PATCH -H 'content-type: application\/json' --data-binary '\{"name":"widget"\}' /,
    );
    const missing = await post('/dashboard/playground/scrape', { url: `${fixtures.origin}/nothing-here` });
    assert.match(textOf(missing, '#answer-details'), /Target status 404/);
    assert.match(textOf(missing, '#answer-details'), /ERR::SCRAPE::BAD_UPSTREAM_RESPONSE/);
  });

  it('a refused scrape keeps the form, with the reason next to its field', async () => {
    const document = await post('/dashboard/playground/scrape', { url: 'ftp://example.test/file' });
    assert.match(textOf(document, '#playground-error'), /ERR::SCRAPE::BAD_PROTOCOL/);
    assert.match(textOf(document, '[data-field=url] .field-error'), /only http:\/\/ and https:\/\//);
    assert.equal(
      (document.querySelector('#playground input[name=url]') as HTMLInputElement | null)?.getAttribute(
        'value',
      ),
      'ftp://example.test/file',
    );
  });

  it('extracts data from a pasted document with a template and shows it, logged as an extraction', async () => {
    const template = {
      source: 'html',
      selectors: [
        { name: 'title', type: 'css', query: 'h1.title::text' },
        { name: 'sku', type: 'xpath', query: "//span[@class='sku']/text()" },
      ],
    };
    const document = await post('/dashboard/playground/extraction', {
      document: PRODUCT,
      content_type: 'text/html',
      extraction_template: JSON.stringify(template, null, 2),
    });
    assert.equal(document.querySelector('#answer')?.getAttribute('data-status'), '200');
    assert.deepEqual(JSON.parse(document.querySelector('#extraction-data')?.textContent ?? ''), {
      title: 'Blue Widget',
      sku: 'BW-1',
    });
    const logPage = await get(document.querySelector('#answer-log a')?.getAttribute('href') ?? '');
    assert.equal(logPage.querySelector('#log-kind')?.getAttribute('data-kind'), 'extraction');
    assert.equal(textOf(logPage, '#extraction-method'), 'rules template ephemeral');
    assert.match(textOf(document, '#playground-curl'), /extraction_template=ephemeral%3A[A-Za-z0-9_-]+/);
  });

  it('a broken template or a missing method is refused with its reason; no model configured is said plainly', async () => {
    const broken = await post('/dashboard/playground/extraction', {
      document: PRODUCT,
      extraction_template: '{"selectors": [',
    });
    assert.match(textOf(broken, '#playground-error'), /ERR::EXTRACTION::/);
    assert.ok(
      textOf(broken, '[data-field=extraction_template] .field-error'),
      'the reason is next to the template',
    );
    // linkedom leaves a textarea's character references as written; a browser decodes them.
    const typed = (broken.querySelector('#playground textarea[name=document]')?.textContent ?? '')
      .trim()
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&');
    assert.equal(typed, PRODUCT, 'the document stays as typed');
    const none = await post('/dashboard/playground/extraction', { document: PRODUCT });
    assert.match(
      textOf(none, '#playground-error'),
      /extraction_template.*extraction_prompt.*extraction_model/,
    );
    const prompt = await post('/dashboard/playground/extraction', {
      document: PRODUCT,
      extraction_prompt: 'What is sold here?',
    });
    assert.equal(prompt.querySelector('#answer')?.getAttribute('data-status'), '400');
    assert.match(textOf(prompt, '#answer-details'), /ERR::EXTRACTION::CONFIG_ERROR.*SNAPWIRE_LLM_BASE_URL/);
  });
});
