// Issue 19.4: no source file over 400 lines of code unless it is one coherent thing and its first comment
// says why. eslint's max-lines holds every file but LONG_FILES (eslint.config.js); this holds LONG_FILES to
// saying why, and shows a deliberate violation fails the lint.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
// @ts-expect-error eslint.config.js is plain JavaScript without declarations.
import { LONG_FILES } from '../../../../eslint.config.js';

const root = path.resolve(import.meta.dirname, '../../../..');
const eslint = new ESLint({
  cwd: root,
  ruleFilter: ({ ruleId }) => ruleId === 'max-lines',
  overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
});

const longSource = (lines: number) =>
  Array.from({ length: lines }, (_, i) => `export const value${i} = ${i};`).join('\n') + '\n';

async function maxLinesFindings(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  assert.ok(result, 'eslint linted the text');
  return result.messages.filter((message) => message.ruleId === 'max-lines').map((m) => m.message);
}

describe('lint: source files stay under 400 lines of code', () => {
  it('refuses a source file of 401 lines of code, and counts neither comments nor blank lines', async () => {
    const findings = await maxLinesFindings('packages/server/src/jobs/probe.ts', longSource(401));
    assert.equal(findings.length, 1);
    assert.match(findings[0] ?? '', /Maximum allowed is 400/);
    const commented = `${'// a comment\n\n'.repeat(300)}${longSource(400)}`;
    assert.deepEqual(await maxLinesFindings('packages/server/src/jobs/probe.ts', commented), []);
  });

  it('lets a file of LONG_FILES be longer, and each of them says why in its first line', async () => {
    assert.deepEqual(await maxLinesFindings('packages/server/src/snapwire.ts', longSource(600)), []);
    for (const file of LONG_FILES as string[]) {
      const first = fs.readFileSync(path.join(root, file), 'utf8').split('\n')[0] ?? '';
      assert.match(first, /^\/\/ Over 400 lines as one coherent thing: \S/, `${file} says why first`);
    }
  });
});
