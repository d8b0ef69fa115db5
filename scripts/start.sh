#!/usr/bin/env bash
# `npm start`: install what is missing, build, and run the service on the embedded store.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/system-deps.sh

# npm dependencies: install when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing npm dependencies (npm ci; better-sqlite3 may compile for a minute or two)..."
  npm ci --no-audit --no-fund --loglevel=error
fi

# Incremental TypeScript build: quick when nothing changed.
node node_modules/typescript/bin/tsc -b packages/sdk packages/sdk/tsconfig.cjs.json packages/mcp packages/server packages/cli

exec node packages/server/dist/main.js
