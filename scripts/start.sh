#!/usr/bin/env bash
# `npm start`: install what is missing and build (scripts/install.sh), then run the service.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh
exec node packages/server/dist/main.js
