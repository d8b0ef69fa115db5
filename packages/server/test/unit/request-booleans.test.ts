// Every boolean parameter of GET /screenshot reads the same spellings (docs/compat.md §1: true/false in any
// letter case, and 1/0). Issue 18 item 8: omit_background=True and pdf_landscape=True were refused while
// cache=True was accepted, because the capture extensions had a case-sensitive reader of their own.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { isApiError } from '../../src/errors.js';
import { screenshotQueryDoc } from '../../src/http/routes/screenshot.js';
import { parseScreenshotRequest, type ScreenshotRequest } from '../../src/request/screenshot-request.js';

const settings = { maxTimeoutMs: 120_000 };
const url = 'https://example.com/';

/** What each boolean needs beside it to apply (omit_background: a format with transparency; pdf_*: pdf). */
const CONTEXT: Record<string, Record<string, string>> = {
  auto_scroll: {},
  cache: {},
  cache_clear: { cache: 'true' },
  omit_background: { format: 'png' },
  pdf_landscape: { format: 'pdf' },
  pdf_print_background: { format: 'pdf' },
};

/** The parameters the API reference documents as booleans (so a boolean added later is covered here). */
function documentedBooleans(): string[] {
  const isBoolean = (schema: z.ZodType): boolean => {
    let current = schema as z.ZodType & { def: { innerType?: z.ZodType } };
    while (current.def.innerType) current = current.def.innerType as typeof current;
    return current instanceof z.ZodBoolean;
  };
  return Object.entries(screenshotQueryDoc.shape)
    .filter(([, schema]) => isBoolean(schema as z.ZodType))
    .map(([name]) => name)
    .sort();
}

const parse = (query: Record<string, string>): ScreenshotRequest =>
  parseScreenshotRequest({ url, ...query }, settings);

describe('boolean parameters of GET /screenshot', () => {
  it('the list below is every boolean the API reference documents', () => {
    assert.deepEqual(Object.keys(CONTEXT).sort(), documentedBooleans());
  });

  for (const [name, context] of Object.entries(CONTEXT)) {
    it(`${name} accepts True, TRUE, true, 1, False, FALSE, false and 0 exactly like cache does`, () => {
      for (const [spellings, canonical] of [
        [['True', 'TRUE', 'tRuE', '1'], 'true'],
        [['False', 'FALSE', 'fAlSe', '0'], 'false'],
      ] as const) {
        const expected = parse({ ...context, [name]: canonical });
        for (const spelling of spellings) {
          // cache is the parameter that always read any letter case: the same spelling passes there too.
          assert.equal(
            parse({ cache: spelling }).cache !== undefined,
            canonical === 'true',
            `cache=${spelling}`,
          );
          assert.deepEqual(parse({ ...context, [name]: spelling }), expected, `${name}=${spelling}`);
        }
      }
    });

    it(`${name} refuses anything else with a CONFIG_ERROR naming it`, () => {
      for (const value of ['yes', 'on', 'truee', '2']) {
        assert.throws(
          () => parse({ ...context, [name]: value }),
          (error: unknown) =>
            isApiError(error) &&
            error.code === 'ERR::SCRAPE::CONFIG_ERROR' &&
            error.reason === `The ${name} parameter "${value}" must be true or false`,
          `${name}=${value}`,
        );
      }
    });
  }

  it('omit_background=True and pdf_landscape=TRUE take effect', () => {
    assert.equal(parse({ format: 'png', omit_background: 'True' }).omitBackground, true);
    assert.equal(parse({ format: 'pdf', pdf_landscape: 'TRUE' }).pdf?.landscape, true);
    assert.equal(parse({ format: 'pdf', pdf_print_background: 'False' }).pdf?.printBackground, false);
  });
});
