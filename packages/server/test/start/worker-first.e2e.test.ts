import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { createDatabase, freePort, SERVER_MAIN } from '../fleet/support.js';
import { waitUntil } from '../helpers/wait-until.js';

// A fleet started all at once (docker compose, Kubernetes) may have a worker be the first node on a new
// database: it then creates the default project and the dashboard's admin account, so its banner must show
// what was generated, or nobody ever sees it.
describe('a worker that starts first on a new database', () => {
  it('shows the generated admin password and the default keys in its banner', async () => {
    const database = await createDatabase();
    let output = '';
    const child = spawn(process.execPath, [SERVER_MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(await freePort()),
        HOST: '127.0.0.1',
        DATABASE_URL: database.url,
        SNAPWIRE_ROLE: 'worker',
        SNAPWIRE_BROWSER_PREWARM: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitUntil(() => output.includes('Snapwire worker node') || child.exitCode !== null, {
        timeoutMs: 60_000,
        what: 'the worker banner',
      });
      assert.match(
        output,
        /Dashboard: +user admin, password [\w-]{20,} \(generated now and shown this once/,
        output,
      );
      assert.match(output, /LIVE key: scp-live-[0-9a-f]{32}/);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      await database.drop();
    }
  });
});
