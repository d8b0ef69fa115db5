#!/usr/bin/env bash
# Runs compose.yaml with podman-compose on a machine without an image registry: the images it names
# (postgres:15-bookworm, minio/minio) are pulled or built here as stand-ins (scripts/container-stand-ins.sh),
# Snapwire's image from the Dockerfile. Then: the api node and the worker node are healthy on one
# PostgreSQL, the README's curl line takes a screenshot through the api node (of a page on its loopback,
# allowed by SNAPWIRE_ALLOWED_NETWORKS=127.0.0.0/8 in an override file), the image lands in the bucket, the api node's Node
# process is killed and the restart policy brings it back with the same key working. Then it takes the
# fleet down with its volumes.
# Usage: bash scripts/compose-test.sh   (root; uses port 18080 unless SNAPWIRE_PORT says another)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/container-stand-ins.sh
source scripts/container-stand-ins.sh

# Without systemd, podman says on every run that it cannot schedule health checks by timer: this script runs
# them itself (podman healthcheck run), so those lines are left out.
podman() {
  command podman --runtime runc "$@" 2> >(grep -v -e 'systemd connection' -e 'Removing timer for container' >&2)
}
export SNAPWIRE_IMAGE="${SNAPWIRE_IMAGE:-localhost/snapwire:latest}"
export SNAPWIRE_PORT="${SNAPWIRE_PORT:-18080}"
export SNAPWIRE_PUBLIC_URL="http://localhost:$SNAPWIRE_PORT"
PROJECT=snapwire-compose-test
work="$(mktemp -d -t snapwire-compose-test.XXXXXX)"
# The one addition to compose.yaml: the egress guard lets the nodes through to their own loopback, where
# this test serves the page it captures (tests contact nothing else).
cat >"$work/loopback-pages.yaml" <<'EOF'
services:
  api:
    environment:
      SNAPWIRE_ALLOWED_NETWORKS: 127.0.0.0/8
  worker:
    environment:
      SNAPWIRE_ALLOWED_NETWORKS: 127.0.0.0/8
EOF
compose=(podman-compose --podman-args=--runtime=runc -p "$PROJECT" -f compose.yaml -f "$work/loopback-pages.yaml")
started_all=$SECONDS

step() { printf '\ncompose-test: %s\n' "$*"; }
ok() { printf 'compose-test:   ok: %s\n' "$*"; }
fail() {
  printf 'compose-test: FAILED: %s\n' "$*" >&2
  for service in api worker postgres s3 s3-bucket; do
    printf -- '--- %s\n' "$service" >&2
    podman logs --tail 15 "${PROJECT}_${service}_1" >&2 2>/dev/null || true
  done
  exit 1
}
cleanup() {
  "${compose[@]}" down -v >/dev/null 2>&1 || true
  podman volume ls -q | grep "^${PROJECT}_" | xargs -r podman volume rm -f >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
container() { echo "${PROJECT}_$1_1"; }
health() { curl -s "http://127.0.0.1:$SNAPWIRE_PORT/healthz" || true; }
# Runs a check until it passes, for at most SECONDS seconds of wall time.
wait_for() {
  local what="$1" seconds="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  while [ $SECONDS -lt $deadline ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 1
  done
  fail "$what (waited $seconds s)"
}
healthy() { timeout 20 podman --runtime runc healthcheck run "$(container "$1")" >/dev/null 2>&1; }

step "podman, podman-compose and the images compose.yaml names"
ensure_podman
postgres15
minio
if ! podman image exists "$SNAPWIRE_IMAGE"; then
  node22
  mapfile -t trust < <(build_trust_args)
  podman build --format docker --network host "${trust[@]}" -t "$SNAPWIRE_IMAGE" . >"$work/build.log" 2>&1 ||
    {
      tail -n 30 "$work/build.log"
      fail "building the Dockerfile"
    }
fi
ok "postgres:15-bookworm, minio/minio and $SNAPWIRE_IMAGE are here"

step "podman-compose up -d"
up_started=$SECONDS
"${compose[@]}" up -d >"$work/up.log" 2>&1 || {
  tail -n 30 "$work/up.log"
  fail "podman-compose up"
}
# podman-compose 1.0 starts in dependency order without waiting for health checks: a node that starts
# before PostgreSQL answers exits with the fix in its log, and its restart policy starts it again.
wait_for "the api node to be healthy" 240 healthy api
ok "api healthy $((SECONDS - up_started)) s after up: $(health)"
wait_for "the worker node to be healthy" 180 healthy worker
worker_health="$(podman exec "$(container worker)" node -e 'fetch("http://127.0.0.1:8080/healthz").then(r=>r.text()).then(console.log)')"
grep -q '"role":"worker"' <<<"$worker_health" && grep -q '"wakeups":"listening"' <<<"$worker_health" ||
  fail "worker health: $worker_health"
ok "worker healthy on the same PostgreSQL: $worker_health"
[ "$(podman exec "$(container api)" id -u)" = 10001 ] || fail "api does not run as uid 10001"

step "the keys from the logs, and a screenshot with the README's curl line"
logs="$( (podman logs "$(container api)"; podman logs "$(container worker)") 2>&1)"
key="$(grep -o -m1 'LIVE key: scp-live-[0-9a-f]*' <<<"$logs" | cut -d' ' -f3)"
[ -n "$key" ] || fail "no LIVE key in the nodes' logs"
grep -q 'user admin, password [A-Za-z0-9_-]\{20,\}' <<<"$logs" || fail "no admin password in the nodes' logs"
podman exec -d "$(container api)" >/dev/null node -e '
  require("http").createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<html><body style=\"margin:0;background:#1040d0\"><h1>Snapwire fleet</h1></body></html>");
  }).listen(8081, "127.0.0.1");'
readme_line="$(grep -m1 '^curl -o shot.jpg "http://localhost:8080/screenshot?key=\$SNAPWIRE_KEY' README.md)"
shot_line="${readme_line//http:\/\/localhost:8080/http://127.0.0.1:$SNAPWIRE_PORT}"
shot_line="${shot_line//https%3A%2F%2Fexample.com/http%3A%2F%2F127.0.0.1%3A8081%2F}"
is_jpeg() { [ "$(head -c 2 "$work/shot.jpg" 2>/dev/null | od -An -tx1 | tr -d ' ')" = ffd8 ]; }
capture() { rm -f "$work/shot.jpg" && (cd "$work" && SNAPWIRE_KEY="$key" bash -c "$shot_line" 2>/dev/null) && is_jpeg; }
wait_for "a screenshot through the api node" 30 capture
ok "$shot_line -> $(stat -c %s "$work/shot.jpg") bytes of JPEG"
objects="$(podman exec "$(container s3)" sh -c 'find /data -type f | grep -c shots || true')"
[ "${objects:-0}" -ge 1 ] || fail "no image in the bucket"
ok "the image is in the S3-compatible store ($objects object(s) under s3://snapwire/shots)"

step "a node dies: the restart policy brings it back"
host_pid="$(podman inspect --format '{{.State.Pid}}' "$(container api)")"
node_pid="$(cat "/proc/$host_pid/task/$host_pid/children" | awk '{print $1}')"
[ -n "$node_pid" ] && grep -q node "/proc/$node_pid/comm" || fail "the api node's Node process not found"
restarts_before="$(podman inspect --format '{{.RestartCount}}' "$(container api)")"
kill -KILL "$node_pid"
wait_for "the api container to be restarted" 60 bash -c "[ \"\$(command podman inspect --format '{{.RestartCount}}' $(container api))\" -gt $restarts_before ]"
wait_for "the restarted api node to be healthy" 180 healthy api
podman exec -d "$(container api)" >/dev/null node -e '
  require("http").createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<html><body style=\"margin:0;background:#1040d0\"><h1>Snapwire fleet</h1></body></html>");
  }).listen(8081, "127.0.0.1");'
wait_for "a screenshot with the same key after the restart" 30 capture
ok "killed (SIGKILL), restarted ($(podman inspect --format '{{.RestartCount}}' "$(container api)") restart(s)), healthy, the key still works"

printf '\ncompose-test: passed in %s s\n' "$((SECONDS - started_all))"
