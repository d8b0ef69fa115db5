#!/usr/bin/env node
// The committed launcher of the `snapwire` command. npm links bins when it installs, which in a fresh
// clone is before the build has made dist/: a bin pointing into dist/ would not be linked. This file is
// always there and loads the build when the command runs.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('snapwire: the CLI is not built yet (dist/main.js is missing); run: npm run build\n');
  process.exit(1);
}
await import(main.href);
