#!/usr/bin/env node
import { runServer } from './run.js';

runServer().catch((error: unknown) => {
  process.stderr.write(`Snapwire failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
