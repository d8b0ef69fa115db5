import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { ERROR_CATALOGUE } from '../../src/errors.js';
import { SCRAPE_PARAMETERS } from '../../src/request/scrape-request.js';
import { LIVE_KEY, startService, type TestService } from '../helpers/service.js';

type Operation = {
  parameters?: Array<{ name: string; in: string; required?: boolean; schema: Record<string, unknown> }>;
  responses: Record<
    string,
    { content?: Record<string, { schema: Record<string, unknown> }>; headers?: object }
  >;
  security?: unknown;
};

type EnvelopeSchema = { required: string[]; properties: Record<string, { required?: string[] }> };

/** Type-checks `source` against the generated `paths`; returns the compiler's messages. */
function typeCheck(dir: string, source: string): string[] {
  const file = path.join(dir, `sample-${Math.random().toString(36).slice(2)}.ts`);
  fs.writeFileSync(file, source);
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: true,
    types: [],
  });
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('the OpenAPI document', () => {
  let service: TestService;
  let doc: {
    openapi: string;
    servers: Array<{ url: string }>;
    paths: Record<string, Record<string, Operation>>;
    components: { securitySchemes: Record<string, Record<string, string>> };
  };

  before(async () => {
    // A public URL that is not where the test reaches the service: nothing may depend on it.
    service = await startService(
      { SNAPWIRE_PUBLIC_URL: 'http://snapwire.invalid:9' },
      {},
      { browsers: false },
    );
    const response = await fetch(`${service.baseUrl}/openapi.json`);
    assert.equal(response.status, 200);
    doc = await response.json();
  });
  after(async () => service?.close());

  it('is a valid OpenAPI document (swagger-parser)', async () => {
    await SwaggerParser.validate(structuredClone(doc) as never);
    assert.equal(doc.openapi, '3.1.0');
  });

  it('addresses the service relatively, so "Try it out" works at whatever address /docs is opened', () => {
    assert.deepEqual(
      doc.servers.map((server) => server.url),
      ['/'],
    );
  });

  it('declares the key as an apiKey in the query, required by every keyed route', () => {
    assert.deepEqual(doc.components.securitySchemes.apiKey, {
      type: 'apiKey',
      in: 'query',
      name: 'key',
      description: doc.components.securitySchemes.apiKey?.description,
    });
    for (const route of [
      '/screenshot',
      '/account',
      '/webhooks',
      '/screenshot/result/{logUuid}',
      '/screenshot/compare',
      '/screenshot/compare/diff',
      '/screenshot/logs',
      '/schedules/{id}',
      '/monitors',
      '/monitors/{id}',
      '/monitors/{id}/runs',
      '/monitors/{id}/runs/{run}/image/{which}',
    ]) {
      const get = doc.paths[route]?.get as Operation;
      assert.deepEqual(get.security, [{ apiKey: [] }], route);
      assert.ok(!get.parameters?.some((p) => p.name === 'key'), `${route} lists key as a plain parameter`);
      assert.ok(get.responses['401'], `${route} has no 401`);
    }
  });

  it('documents every answer of GET /screenshot', () => {
    const get = doc.paths['/screenshot']?.get as Operation;
    const ok = get.responses['200'];
    assert.deepEqual(Object.keys(ok?.content ?? {}).sort(), [
      'application/pdf',
      'image/gif',
      'image/jpeg',
      'image/png',
      'image/webp',
    ]);
    for (const header of ['X-Scrapfly-Api-Cost', 'X-Scrapfly-Upstream-Http-Code', 'X-Scrapfly-Log-Uuid'])
      assert.ok(header in (ok?.headers ?? {}), header);
    assert.ok(get.responses['201']?.content?.['application/json'], 'the 201 promise');
    for (const status of ['400', '422', '429', '504']) {
      const schema = get.responses[status]?.content?.['application/json']?.schema as {
        required?: string[];
        properties?: { code?: { enum?: string[] } };
      };
      assert.deepEqual(schema?.required, [
        'code',
        'error_id',
        'http_code',
        'links',
        'message',
        'reason',
        'retryable',
      ]);
      assert.deepEqual(schema.properties?.code?.enum, Object.keys(ERROR_CATALOGUE));
    }
    const notFound = doc.paths['/screenshot/result/{logUuid}']?.get?.responses['404'];
    assert.ok(
      notFound?.content?.['application/json'],
      'the stored image route answers 404 with the error schema',
    );
  });

  it('documents POST /extraction: the raw document as the body, its parameters and answers', () => {
    const operation = (
      doc.paths['/extraction'] as Record<
        string,
        Operation & { requestBody?: { content: Record<string, unknown> } }
      >
    ).post;
    assert.ok(operation?.requestBody?.content['text/html'], 'the document is the request body');
    assert.deepEqual(operation.security, [{ apiKey: [] }]);
    const names = (operation.parameters ?? []).map((parameter) => parameter.name);
    for (const name of [
      'content_type',
      'url',
      'charset',
      'extraction_template',
      'extraction_prompt',
      'extraction_model',
      'timeout',
    ]) {
      assert.ok(names.includes(name), name);
    }
    for (const status of ['200', '400', '404', '413', '422']) assert.ok(operation.responses[status], status);
  });

  it('documents /scrape on every method: each parameter the SDKs send, the body, the envelope and its headers', () => {
    const operations = doc.paths['/scrape'] as Record<
      string,
      Operation & { requestBody?: { content: Record<string, unknown> } }
    >;
    const components = (doc.components as unknown as { schemas: Record<string, EnvelopeSchema> }).schemas;
    const envelope = components.ScrapeEnvelope;
    assert.deepEqual(envelope?.required, ['uuid', 'config', 'context', 'result']);
    // What the Python SDK reads with [] (a KeyError for its users when missing): required in the document.
    for (const field of ['content', 'format', 'status', 'success', 'status_code', 'reason', 'log_url', 'url'])
      assert.ok(envelope?.properties.result?.required?.includes(field), `result.${field}`);
    for (const method of ['get', 'post', 'put', 'patch', 'head']) {
      const operation = operations[method];
      assert.ok(operation, `${method.toUpperCase()} /scrape`);
      const names = (operation.parameters ?? []).map((parameter) => parameter.name);
      for (const name of SCRAPE_PARAMETERS.filter((one) => one !== 'key'))
        assert.ok(names.includes(name), `${method} /scrape documents ${name}`);
      assert.ok(
        names.includes('headers') && names.includes('screenshots'),
        'headers[NAME], screenshots[NAME]',
      );
      assert.deepEqual(operation.security, [{ apiKey: [] }]);
      const hasBody = ['post', 'put', 'patch'].includes(method);
      assert.equal(
        Boolean(operation.requestBody),
        hasBody,
        `${method}: a body only where the method sends one`,
      );
      const ok = operation.responses['200'];
      assert.ok(
        ok?.headers && 'X-Scrapfly-Upstream-Http-Code' in ok.headers,
        `${method}: the answer headers`,
      );
      if (method === 'head') assert.equal(ok?.content, undefined, 'HEAD answers no body');
      else
        assert.deepEqual(ok?.content?.['application/json']?.schema, {
          $ref: '#/components/schemas/ScrapeEnvelope',
        });
      for (const status of ['400', '401', '422', '429', '504'])
        assert.ok(operation.responses[status], status);
    }
    assert.ok(operations.post?.requestBody?.content['application/json'], 'a JSON body');
    const format = operations.get?.parameters?.find((parameter) => parameter.name === 'format');
    assert.match('markdown:no_links,only_content', new RegExp(String(format?.schema.pattern)));
    assert.doesNotMatch('markdown:bold', new RegExp(String(format?.schema.pattern)));
  });

  it('documents the monitoring log kind: the filter and the field', () => {
    const list = doc.paths['/screenshot/logs']?.get as Operation;
    const kind = list.parameters?.find((parameter) => parameter.name === 'kind');
    assert.deepEqual(kind?.schema.enum, ['screenshot', 'scrape', 'extraction', 'crawl']);
    const log = list.responses['200']?.content?.['application/json']?.schema as {
      properties: {
        logs: { items: { required: string[]; properties: Record<string, { enum?: string[] }> } };
      };
    };
    assert.ok(log.properties.logs.items.required.includes('kind'));
    assert.deepEqual(log.properties.logs.items.properties.kind?.enum, [
      'screenshot',
      'scrape',
      'extraction',
      'crawl',
    ]);
    const metrics = doc.paths['/screenshot/monitoring/metrics']?.get as Operation;
    assert.ok(metrics.parameters?.some((parameter) => parameter.name === 'kind'));
    const extraction = doc.paths['/extraction']?.post as Operation;
    assert.ok(
      extraction.responses['200']?.headers && 'X-Scrapfly-Log-Uuid' in extraction.responses['200'].headers,
      "the extraction answer's headers",
    );
  });

  it('documents the saved extraction templates and /scrape extraction_template', () => {
    const collection = doc.paths['/extraction/templates'] as Record<string, Operation>;
    const one = doc.paths['/extraction/templates/{name}'] as Record<string, Operation>;
    assert.ok(collection.get?.responses['200'] && collection.post?.responses['201']);
    assert.ok(collection.post?.responses['409'], 'a name taken');
    for (const method of ['get', 'put', 'delete']) {
      assert.deepEqual(one[method]?.security, [{ apiKey: [] }], method);
    }
    assert.ok(one.put?.responses['200'] && one.put.responses['201'] && one.put.responses['400']);
    assert.ok(one.get?.responses['404'] && one.delete?.responses['204']);
    const scrape = doc.paths['/scrape']?.get as Operation;
    assert.ok(scrape.parameters?.some((parameter) => parameter.name === 'extraction_template'));
  });

  it('documents /mcp (key or bearer) and the schedule errors with their extra field', () => {
    const mcp = doc.paths['/mcp'] as Record<string, Operation>;
    assert.deepEqual(mcp.post?.security, [{ apiKey: [] }, { bearerKey: [] }]);
    assert.deepEqual(doc.components.securitySchemes.bearerKey?.scheme, 'bearer');
    assert.ok(mcp.post?.responses['200']?.content?.['application/json']);
    assert.ok(mcp.post?.responses['401']);
    for (const method of ['get', 'delete']) assert.ok(mcp[method]?.responses['405'], `${method} /mcp 405`);
    const cancel = doc.paths['/schedules/{id}']?.delete as Operation;
    assert.ok(cancel.responses['204'] && !cancel.responses['200']);
    const notFound = cancel.responses['404']?.content?.['application/json']?.schema as {
      required?: string[];
    };
    assert.ok(notFound.required?.includes('error'), 'schedule errors carry `error`');
  });

  it('documents a real answer on every route (no placeholder "Default Response")', () => {
    for (const [route, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const placeholders = Object.entries(operation.responses).filter(
          ([, response]) => (response as { description?: string }).description === 'Default Response',
        );
        assert.deepEqual(
          placeholders.map(([status]) => status),
          [],
          `${method.toUpperCase()} ${route}: declare its answers in schema.openapi.responses (src/http/openapi.ts)`,
        );
        assert.ok(operation.responses['400'], `${method.toUpperCase()} ${route} has the 400 answer`);
      }
    }
  });

  it('documents the parameters: required, enums, ranges, defaults, examples', () => {
    const params = Object.fromEntries(
      ((doc.paths['/screenshot']?.get as Operation).parameters ?? []).map((p) => [p.name, p]),
    );
    assert.equal(params.url?.required, true);
    assert.ok((params.url as { example?: string }).example);
    assert.deepEqual(params.format?.schema.enum, ['jpg', 'png', 'webp', 'gif', 'pdf']);
    assert.equal(params.format?.schema.default, 'jpg');
    assert.equal(params.timeout?.schema.minimum, 1000);
    assert.equal(params.timeout?.schema.default, 60000);
    assert.equal(params.rendering_wait?.schema.maximum, 60000);
    assert.deepEqual(params.vision_deficiency?.schema.enum?.constructor, Array);
    assert.ok(params.webhook_name && params.cache_ttl && params.js && params.country);
    // Snapwire extensions
    assert.equal(params.device_scale_factor?.schema.minimum, 1);
    assert.equal(params.device_scale_factor?.schema.maximum, 3);
    assert.deepEqual(params.pdf_paper?.schema.enum, ['a3', 'a4', 'a5', 'letter', 'legal', 'tabloid']);
    assert.equal((params.headers as { style?: string }).style, 'deepObject', 'headers[NAME]=VALUE');
    for (const name of [
      'cookies',
      'viewport_device',
      'user_agent',
      'hide_selectors',
      'click',
      'omit_background',
      'pdf_landscape',
      'pdf_print_background',
      'timezone',
      'geolocation',
    ])
      assert.ok(params[name], name);
  });

  it('generates types (openapi-typescript) that a sample call type-checks against', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-openapi-'));
    try {
      fs.writeFileSync(path.join(dir, 'api.ts'), astToString(await openapiTS(doc as never)));
      const sample = (format: string) => `
import type { paths } from './api';
type Shot = paths['/screenshot']['get'];
const query: Shot['parameters']['query'] = { url: 'https://example.com', format: '${format}', timeout: 30000 };
type Failure = Shot['responses'][422]['content']['application/json'];
const failure: Failure = { code: 'ERR::SCRAPE::NETWORK_ERROR', error_id: 'x', http_code: 422, links: {}, message: 'm', reason: 'r', retryable: true };
type Promised = Shot['responses'][201]['content']['application/json'];
const promised: Pick<Promised, 'job_uuid'> = { job_uuid: 'j' };
export { query, failure, promised };
`;
      assert.deepEqual(typeCheck(dir, sample('png')), []);
      // The check can fail: a format the document does not allow is a type error.
      assert.ok(typeCheck(dir, sample('bmp')).some((message) => message.includes('"bmp"')));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers CORS on the API (exposing X-Scrapfly-* headers) but never on the dashboard', async () => {
    const origin = { origin: 'http://another-origin.test' };
    const api = await fetch(`${service.baseUrl}/account?key=${LIVE_KEY}`, { headers: origin });
    assert.equal(api.headers.get('access-control-allow-origin'), '*');
    assert.match(api.headers.get('access-control-expose-headers') ?? '', /X-Scrapfly-Api-Cost/);
    const dashboard = await fetch(`${service.baseUrl}/dashboard/login`, { headers: origin });
    assert.equal(dashboard.headers.get('access-control-allow-origin'), null);
  });

  it('links every error body to this service’s own error reference, one anchor per code', async () => {
    const response = await fetch(
      `${service.baseUrl}/screenshot?key=${LIVE_KEY}&format=bmp&url=https%3A%2F%2Fa.test`,
    );
    const body = await response.json();
    const link = 'http://snapwire.invalid:9/docs/errors#ERR::SCRAPE::CONFIG_ERROR';
    assert.equal(body.links['Related Error Doc'], link);
    assert.equal(response.headers.get('x-scrapfly-reject-doc'), link);
    const page = await (await fetch(`${service.baseUrl}/docs/errors`)).text();
    for (const code of Object.keys(ERROR_CATALOGUE)) {
      const section = new RegExp(
        `<section id="${code}">[\\s\\S]*?Meaning:</strong> [^<]+[\\s\\S]*?What to do:</strong> [^<]+`,
      );
      assert.match(page, section, code);
    }
  });
});
