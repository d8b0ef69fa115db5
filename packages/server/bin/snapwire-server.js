#!/usr/bin/env node
// Committed launcher of `snapwire-server` (npm links bins at install time, before the build makes dist/).
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('snapwire-server: not built yet (dist/main.js is missing); run: npm run build\n');
  process.exit(1);
}
await import(main.href);
