#!/usr/bin/env bash
# Proves the container image (Dockerfile) on a machine without an image registry, with podman:
#   1. installs podman (Debian's packages) and makes the base image the Dockerfile names, pulled or built
#      here as a stand-in tagged like the official one (scripts/container-stand-ins.sh);
#   2. builds the Dockerfile unchanged and prints the image's size;
#   3. runs it as `docker run -p 8080:8080 -v VOLUME:/data IMAGE` would, prints the time from run to healthy
#      (the image's own HEALTHCHECK), reads the key and the admin password from its log;
#   4. takes a screenshot with the README's curl line of a page served inside the container on loopback
#      (SNAPWIRE_ALLOWED_NETWORKS=127.0.0.0/8 lets the egress guard through to it, as in tests);
#   5. checks every process runs as the non-root user, runs the CLI in the image, takes 50 captures with a
#      browser replaced every 10 jobs and finds no zombie process;
#   6. kills Chromium (a crash) and sees a replacement; restarts the container and captures again with the
#      same key (the data survived);
#   7. the faults with their fixes: the 64 MB /dev/shm in /healthz, an unwritable /data, an unreachable
#      DATABASE_URL host; then stops and removes what it made.
# Usage: bash scripts/image-test.sh   (root; about 10 minutes on 2 cores with the layers cached, 25 without)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
# shellcheck source=scripts/container-stand-ins.sh
source scripts/container-stand-ins.sh

IMAGE="${SNAPWIRE_IMAGE:-localhost/snapwire:latest}"
NAME="snapwire-image-test-$$"
VOLUME="$NAME-data"
work="$(mktemp -d -t snapwire-image-test.XXXXXX)"
started_all=$SECONDS

# podman as it runs here: the runc runtime (see scripts/container-stand-ins.sh).
# Without systemd, podman says on every run that it cannot schedule health checks by timer: this script runs
# them itself (podman healthcheck run), so those lines are left out.
podman() {
  command podman --runtime runc "$@" 2> >(grep -v -e 'systemd connection' -e 'Removing timer for container' >&2)
}
step() { printf '\nimage-test: %s\n' "$*"; }
ok() { printf 'image-test:   ok: %s\n' "$*"; }
fail() {
  printf 'image-test: FAILED: %s\n' "$*" >&2
  podman logs --tail 40 "$NAME" >&2 2>/dev/null || true
  exit 1
}
cleanup() {
  podman rm -f -t 5 "$NAME" "$NAME-shm" >/dev/null 2>&1 || true
  podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
health() { curl -s "http://127.0.0.1:$port/healthz" || true; }
# Waits (bounded) until the container's own HEALTHCHECK passes; prints the seconds it took.
wait_healthy() {
  local since=$SECONDS
  for _ in $(seq 1 180); do
    if podman healthcheck run "$NAME" >/dev/null 2>&1; then
      echo $((SECONDS - since))
      return 0
    fi
    [ "$(podman inspect --format '{{.State.Running}}' "$NAME")" = true ] || fail "the container stopped"
    sleep 1
  done
  fail "not healthy within 180 s: $(health)"
}

step "podman and the base image"
ensure_podman
node22

step "building the Dockerfile as it is"
build_started=$SECONDS
mapfile -t trust < <(build_trust_args)
podman build --format docker --network host "${trust[@]}" -t "$IMAGE" . >"$work/build.log" 2>&1 ||
  {
    tail -n 30 "$work/build.log"
    fail "the build failed"
  }
build_seconds=$((SECONDS - build_started))
size_bytes="$(podman image inspect --format '{{.Size}}' "$IMAGE")"
size="$(numfmt --to=iec --suffix=B "$size_bytes")"
ok "built $IMAGE in ${build_seconds} s; image size $size ($size_bytes bytes)"

step "running it: podman run -d -p 127.0.0.1:PORT:8080 -v $VOLUME:/data $IMAGE"
port="$(free_port)"
run_args=(-d --name "$NAME" -p "127.0.0.1:$port:8080" -v "$VOLUME:/data"
  -e SNAPWIRE_ALLOWED_NETWORKS=127.0.0.0/8 -e SNAPWIRE_BROWSER_RECYCLE_JOBS=10
  -e "SNAPWIRE_PUBLIC_URL=http://localhost:$port")
run_started=$SECONDS
podman run "${run_args[@]}" "$IMAGE" >/dev/null
to_healthy="$(wait_healthy)"
ok "healthy ${to_healthy} s after run ($((SECONDS - run_started)) s with this check's own start)"
first_log="$(podman logs "$NAME" 2>&1)"
key="$(grep -o -m1 'LIVE key: scp-live-[0-9a-f]*' <<<"$first_log" | cut -d' ' -f3)"
[ -n "$key" ] || fail "no LIVE key in the first start's log"
grep -q 'user admin, password [A-Za-z0-9_-]\{20,\} (generated now' <<<"$first_log" || fail "no admin password in the log"
ok "the log shows the LIVE key and the admin password of the first start"

step "non-root, tini as PID 1, the CLI in the image"
[ "$(podman exec "$NAME" id -u)" = 10001 ] || fail "podman exec runs as $(podman exec "$NAME" id -un)"
users="$(podman top "$NAME" user | tail -n +2 | sort -u | tr '\n' ' ')"
[ "$users" = "snapwire " ] || fail "processes run as: $users"
[ "$(podman top "$NAME" pid comm | awk '$1 == 1 {print $2}')" = tini ] || fail "PID 1 is not tini"
projects="$(podman exec "$NAME" snapwire projects list 2>&1)"
grep -q default <<<"$projects" || fail "snapwire projects list in the container: $projects"
help="$(podman run --rm "$IMAGE" snapwire --help)"
grep -q 'shot' <<<"$help" || fail "podman run IMAGE snapwire --help: $help"
ok "every process runs as snapwire (uid 10001) under tini; snapwire projects list / --help work"

step "a screenshot with the README's curl line, of a page served inside the container"
# A red page on the container's loopback (node is in the image); started again after a restart.
serve_page() {
  podman exec -d "$NAME" >/dev/null node -e '
    require("http").createServer((req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html><body style=\"margin:0;background:#d01010\"><h1>Snapwire image test</h1></body></html>");
    }).listen(8081, "127.0.0.1");'
}
serve_page
page="http://127.0.0.1:8081/"
readme_line="$(grep -m1 '^curl -o shot.jpg "http://localhost:8080/screenshot?key=\$SNAPWIRE_KEY' README.md)"
[ -n "$readme_line" ] || fail "the README's curl line is not where this script looks for it"
encoded_page="$(node -p 'encodeURIComponent(process.argv[1])' "$page")"
shot_line="${readme_line//http:\/\/localhost:8080/http://127.0.0.1:$port}"
shot_line="${shot_line//https%3A%2F%2Fexample.com/$encoded_page}"
capture() { (cd "$work" && SNAPWIRE_KEY="$key" bash -c "$shot_line" 2>/dev/null); }
is_jpeg() { [ "$(head -c 2 "$work/shot.jpg" 2>/dev/null | od -An -tx1 | tr -d ' ')" = ffd8 ]; }
# Captures until a JPEG comes back (bounded): the page server started by `podman exec -d` may not be
# listening yet, and curl exits 0 on the 422 that answers a page it cannot reach.
capture_jpeg() {
  rm -f "$work/shot.jpg"
  for _ in $(seq 1 "$1"); do capture && is_jpeg && return 0; sleep 1; done
  return 1
}
capture_jpeg 20 || fail "no JPEG: $(head -c 300 "$work/shot.jpg")"
red="$(node -e '
  require("sharp")(process.argv[1]).stats().then((s) => console.log(Math.round(s.channels[0].mean), Math.round(s.channels[1].mean)))' "$work/shot.jpg")"
[ "${red%% *}" -gt 150 ] && [ "${red##* }" -lt 80 ] || fail "the image is not the red page (mean R G: $red)"
ok "$shot_line -> $(stat -c %s "$work/shot.jpg") bytes of JPEG, the red page (mean R G: $red)"

step "50 captures (a browser replaced every 10), then no zombie process"
capture_started=$SECONDS
for i in $(seq 1 50); do
  status="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/screenshot?key=$key&url=$encoded_page&resolution=800x600&rendering_wait=0")"
  [ "$status" = 200 ] || fail "capture $i answered $status"
done
capture_seconds=$((SECONDS - capture_started))
sleep 2 # the last recycled browser's helpers exit and are reaped
zombies="$(podman top "$NAME" pid ppid state comm | awk 'NR > 1 && $3 ~ /Z/' || true)"
[ -z "$zombies" ] || fail "zombie processes: $zombies"
ok "50 captures in ${capture_seconds} s, $(podman top "$NAME" pid | tail -n +2 | wc -l) processes, none a zombie"

step "the 64 MB /dev/shm of a default container is named with its fix (log and /healthz)"
grep -q '/dev/shm has [0-9]* MB free.*--shm-size=1g' <<<"$(health)" || fail "/healthz: $(health)"
grep -q '/dev/shm has [0-9]* MB free' <<<"$(podman logs "$NAME" 2>&1)" || fail "no /dev/shm line in the log"
ok "/healthz and the log: $(health | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).problems[0].slice(0,90)+"…"))')"

step "Chromium crashes inside the container: replaced, and captures go on"
# Chromium's browser process (its helpers carry --type=), found and signalled from inside the container.
browser_pid="$(podman exec "$NAME" sh -c 'for d in /proc/[0-9]*; do
  c="$(tr "\0" " " <"$d/cmdline" 2>/dev/null)"
  case "$c" in *--type=*) ;; /usr/lib/chromium/chromium*) echo "${d#/proc/}" ;; esac
done' | sed -n 1p)"
[ -n "$browser_pid" ] || fail "no Chromium browser process found"
podman exec "$NAME" kill -SEGV "$browser_pid"
crashed() { grep -q 'browser crashed; starting a replacement' <<<"$(podman logs "$NAME" 2>&1)"; }
for _ in $(seq 1 60); do crashed && break; sleep 1; done
crashed || fail "the crash is not in the log"
wait_healthy >/dev/null
capture_jpeg 20 || fail "capture after the crash: $(head -c 300 "$work/shot.jpg")"
ok "the crash is logged, a new browser answers"

step "restart: the data survives (the same key works), the banner does not show the keys again"
restart_started=$SECONDS
podman restart -t 20 "$NAME" >/dev/null
restart_healthy="$(wait_healthy)"
serve_page
capture_jpeg 20 || fail "the key of the first start no longer works: $(head -c 300 "$work/shot.jpg")"
restart_log="$(podman logs "$NAME" 2>&1)"
grep -q 'were shown at its first start' <<<"$restart_log" || fail "the restart's banner"
[ "$(grep -c 'LIVE key:' <<<"$restart_log")" = 1 ] || fail "the keys were shown again"
ok "healthy ${restart_healthy} s after the restart; the first start's key still captures"

step "faults at start: each says its fix and exits 1 (a restart policy then tries again)"
mkdir -p "$work/root-owned" && chmod 755 "$work/root-owned"
out="$(podman run --rm -v "$work/root-owned:/data" "$IMAGE" 2>&1 || true)"
grep -q 'data folder /data (SNAPWIRE_DATA_DIR) is not writable .*chown -R 10001:10001' <<<"$out" ||
  fail "unwritable /data: $out"
ok "unwritable /data: $(grep -o 'Snapwire failed to start: .\{0,80\}' <<<"$out")…"
# No network at all: the host name cannot resolve, and nothing leaves this machine.
out="$(podman run --rm --network none -e DATABASE_URL=postgres://snapwire:secret-not-shown@db:5432/snapwire "$IMAGE" 2>&1 || true)"
grep -q 'PostgreSQL at db:5432/snapwire (DATABASE_URL) cannot be reached: its host name does not resolve' <<<"$out" ||
  fail "unreachable database: $out"
! grep -q secret-not-shown <<<"$out" || fail "the database password is in the log"
ok "unreachable DATABASE_URL host: $(grep -o 'Snapwire failed to start: .\{0,80\}' <<<"$out")…"

step "stopping"
stop_started=$SECONDS
podman stop -t 20 "$NAME" >/dev/null
[ "$(podman inspect --format '{{.State.ExitCode}}' "$NAME")" = 0 ] || fail "exit code $(podman inspect --format '{{.State.ExitCode}}' "$NAME") on stop"
ok "stopped in $((SECONDS - stop_started)) s with exit code 0"

printf '\nimage-test: passed. image %s: %s; build %s s; run to healthy %s s; restart to healthy %s s; 50 captures %s s; whole test %s s\n' \
  "$IMAGE" "$size" "$build_seconds" "$to_healthy" "$restart_healthy" "$capture_seconds" "$((SECONDS - started_all))"
