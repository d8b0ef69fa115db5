// Used by scripts/install.sh --for-tests: exits 0 when the test PostgreSQL answers a query, 1 otherwise
// (with the driver's one-line reason), within 5 seconds.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../packages/server/package.json', import.meta.url));
const pg = require('pg');
const client = new pg.Client({ connectionString: process.argv[2], connectionTimeoutMillis: 5000 });
try {
  await client.connect();
  await client.query('select 1');
  await client.end();
} catch (error) {
  process.stderr.write(`snapwire setup: PostgreSQL: ${error.message || error.code || String(error)}\n`);
  process.exit(1);
}
