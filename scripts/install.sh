#!/usr/bin/env bash
# The one installer behind `npm start` and `npm test`: checks Node, installs the Debian packages
# (scripts/system-deps.sh), runs `npm ci` when node_modules is missing or older than the lockfile, and
# builds. Long steps print what they do and how long they have taken; a failure ends with one line naming
# the command that fixes it, never a stack trace. `install.sh --for-tests` also makes sure the test
# PostgreSQL answers.
set -uo pipefail
cd "$(dirname "$0")/.."

say() { printf 'snapwire setup: %s\n' "$*"; }
fix() {
  printf 'snapwire setup: %s\n' "$1" >&2
  [ $# -gt 1 ] && printf '  fix: %s\n' "$2" >&2
  exit 1
}

# Runs a long step in the background, printing "still <what> (N s)" every 15 s, and its total time at the
# end. Its output goes to a log file that is shown (last lines) only when it fails.
run_step() {
  local what="$1" log
  shift
  log="$(mktemp -t snapwire-setup.XXXXXX)"
  local started=$SECONDS
  say "$what..."
  "$@" >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 1 15); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    kill -0 "$pid" 2>/dev/null && say "  still $what ($((SECONDS - started)) s)"
  done
  wait "$pid"
  local status=$?
  if [ "$status" -ne 0 ]; then
    tail -n 25 "$log" >&2
    rm -f "$log"
    return "$status"
  fi
  rm -f "$log"
  say "  done: $what ($((SECONDS - started)) s)"
}

# Node: 20.9+ runs the code (20 is past its end of life: use 22 or 24).
command -v node >/dev/null 2>&1 || fix "Node.js is not installed" "apt-get install -y nodejs npm (or install Node.js 22 or 24 from nodejs.org)"
command -v npm >/dev/null 2>&1 || fix "npm is not installed" "apt-get install -y npm"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=9)?0:1)' ||
  fix "Node.js $(node --version) is too old; Snapwire runs on Node 20.9+ (22 or 24 recommended)" "install Node.js 22 or 24 (nodejs.org or your distribution's packages)"
if [ "$(node -p 'process.versions.node.split(".")[0]')" = "20" ]; then
  say "Node $(node --version) works but is past its end of life; use Node 22 or 24"
fi

# System packages: Chromium and fonts.
bash scripts/system-deps.sh || fix "installing Chromium and the fonts failed" "apt-get update && apt-get install -y chromium fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji fonts-liberation"

# npm packages: install when node_modules is missing or older than the lockfile (or lost a native module).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] ||
  [ ! -e node_modules/typescript/bin/tsc ]; then
  run_step "installing npm packages with npm ci (better-sqlite3 compiles for a minute or two)" \
    npm ci --no-audit --no-fund --loglevel=error ||
    fix "npm ci failed (output above)" "apt-get install -y build-essential python3 (better-sqlite3 compiles with them), then run the command again"
fi
node -e 'new (require("better-sqlite3"))(":memory:").close()' 2>/dev/null ||
  fix "the SQLite driver (better-sqlite3) is not built for Node $(node --version)" "npm rebuild better-sqlite3 (needs build-essential and python3)"

# Build: incremental, quick when nothing changed; the first one takes a while.
build=(node node_modules/typescript/bin/tsc -b packages/sdk packages/sdk/tsconfig.cjs.json packages/mcp packages/server packages/cli)
if [ ! -f packages/server/dist/main.js ] || [ ! -f packages/cli/dist/main.js ]; then
  run_step "building the TypeScript packages (first build)" "${build[@]}" ||
    fix "the build failed (compiler output above)" "fix the reported error, then: npm run build"
else
  "${build[@]}" || fix "the build failed (compiler output above)" "fix the reported error, then: npm run build"
fi

if [ "${1:-}" = "--for-tests" ]; then
  url="${SNAPWIRE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
  # A local PostgreSQL that is installed but stopped is started (as CI does); anything else is named.
  if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -d "$url" 2>/dev/null &&
    command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    say "starting the local PostgreSQL for the store tests..."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start >/dev/null 2>&1 || true
    for _ in $(seq 1 30); do pg_isready -q -d "$url" 2>/dev/null && break; sleep 1; done
  fi
  node scripts/check-postgres.mjs "$url" ||
    fix "PostgreSQL does not answer at $url (the store tests run on it)" "apt-get install -y postgresql && pg_ctlcluster \$(ls /etc/postgresql) main start, with trust auth for 127.0.0.1 and a database named test; or set SNAPWIRE_TEST_DATABASE_URL"
fi
exit 0
