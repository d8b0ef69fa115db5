import { createRequire } from 'node:module';

/** The package's own version (package.json sits one level above dist/ and src/). */
export const CLI_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string })
  .version;
