// The SDK's wire types (packages/sdk/src/wire.ts) are generated from this service's /openapi.json, and the
// SDK's own answer types are held against them at build time (packages/sdk/src/wire-check.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';
import { generateWireTypes, WIRE_FILE } from '../../../../scripts/sdk-wire-types.js';
import { startService, type TestService } from '../helpers/service.js';

type Document = Parameters<typeof generateWireTypes>[0];

/** The compiler's messages for the SDK's sources with `wire` in place of the generated file. */
function compileSdkWith(wire: string): string[] {
  const sdkSource = path.dirname(WIRE_FILE);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapwire-sdk-wire-'));
  try {
    fs.cpSync(sdkSource, dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'wire.ts'), wire);
    const program = ts.createProgram([path.join(dir, 'wire-check.ts')], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      skipLibCheck: true,
      types: ['node'],
      // Only the files wire-check.ts reaches (the answer types), not the whole client.
    });
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('the SDK wire types', () => {
  let service: TestService;
  let doc: Document;

  before(async () => {
    service = await startService({}, {}, { browsers: false });
    doc = (await (await fetch(`${service.baseUrl}/openapi.json`)).json()) as Document;
  });
  after(async () => service?.close());

  it('are what npm run sdk:wire-types makes of the served /openapi.json (regenerate when this fails)', async () => {
    const expected = await generateWireTypes(doc);
    assert.equal(fs.readFileSync(WIRE_FILE, 'utf8'), expected, 'run: npm run sdk:wire-types');
  });

  it('break the SDK build when the server stops documenting a field the SDK reads', async () => {
    const webhook = JSON.parse(JSON.stringify(doc)) as {
      paths: Record<
        string,
        Record<
          string,
          {
            responses: Record<
              string,
              {
                content: Record<
                  string,
                  { schema: { properties: Record<string, unknown>; required: string[] } }
                >;
              }
            >;
          }
        >
      >;
    };
    const schema =
      webhook.paths['/webhooks/{name}']!.get!.responses['200']!.content['application/json']!.schema;
    delete schema.properties.webhook_uuid;
    schema.required = schema.required.filter((name) => name !== 'webhook_uuid');
    const messages = compileSdkWith(await generateWireTypes(webhook as unknown as Document));
    assert.ok(
      messages.some((message) => message.includes('webhook_uuid')),
      `expected a compile error naming webhook_uuid, got: ${messages.join(' | ')}`,
    );
  });

  it('refuse an SDK answer the document leaves as a bare object', async () => {
    const bare = JSON.parse(JSON.stringify(doc)) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    bare.paths['/webhooks/jobs/{job}']!.get!.responses['200'] = {
      description: 'The job',
      content: { 'application/json': { schema: { type: 'object' } } },
    };
    await assert.rejects(
      generateWireTypes(bare as unknown as Document),
      /Job: GET \/webhooks\/jobs\/\{job\} documents its answer as a bare object/,
    );
  });
});
