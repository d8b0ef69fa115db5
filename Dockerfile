# Snapwire's container image: the service (`docker run -p 8080:8080 -v snapwire:/data IMAGE`) and the CLI
# (`docker run --rm IMAGE snapwire --help`). README "Container" and docs/deploy.md say how to run it;
# scripts/image-test.sh builds this file unchanged and proves it.

# --- deps: every npm package (dev ones too, for the build), compiled for this Node -------------------
FROM node:22-bookworm-slim AS deps
# better-sqlite3 compiles when no prebuilt binary can be downloaded; node-gyp uses the image's own Node
# headers (/usr/local/include/node) instead of downloading them.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY packages/sdk/package.json packages/sdk/
COPY packages/sdk/cjs/package.json packages/sdk/cjs/
COPY packages/mcp/package.json packages/mcp/
COPY packages/server/package.json packages/server/
COPY packages/server/bin packages/server/bin
COPY packages/cli/package.json packages/cli/
COPY packages/cli/bin packages/cli/bin
RUN npm ci --no-audit --no-fund --loglevel=error

# --- build: the TypeScript packages ---------------------------------------------------------------
FROM deps AS build
COPY tsconfig.base.json ./
COPY packages packages
RUN npm run build

# --- production dependencies only (the compiled better-sqlite3 kept, not built again) ---------------
FROM deps AS prod-deps
# better-sqlite3 runs from its one compiled file; its C sources and object files are 26 MB.
RUN npm prune --omit=dev --no-audit --no-fund --loglevel=error \
  && cd node_modules/better-sqlite3 \
  && mv build/Release/better_sqlite3.node /tmp/ \
  && rm -rf build deps src \
  && mkdir -p build/Release && mv /tmp/better_sqlite3.node build/Release/

# --- the image ------------------------------------------------------------------------------------
FROM node:22-bookworm-slim
# Chromium and the fonts scripts/system-deps.sh installs (Latin, CJK, emoji), and tini: PID 1 that reaps
# every orphan (Chromium's helpers) and passes signals on.
RUN apt-get update \
  && apt-get install -y --no-install-recommends chromium fonts-noto-core fonts-noto-cjk \
    fonts-noto-color-emoji fonts-liberation tini \
  && rm -rf /var/lib/apt/lists/*
# The service's own user (uid 10001: `chown 10001:10001` gives it a host folder mounted at /data).
RUN groupadd --gid 10001 snapwire \
  && useradd --uid 10001 --gid snapwire --home-dir /home/snapwire --create-home --shell /usr/sbin/nologin \
    snapwire \
  && mkdir -p /data && chown snapwire:snapwire /data
WORKDIR /app
COPY --from=prod-deps /app/node_modules node_modules
COPY package.json ./
COPY --from=build /app/packages/sdk/package.json packages/sdk/
COPY --from=build /app/packages/sdk/dist packages/sdk/dist
COPY --from=build /app/packages/sdk/cjs packages/sdk/cjs
COPY --from=build /app/packages/mcp/package.json packages/mcp/
COPY --from=build /app/packages/mcp/dist packages/mcp/dist
COPY --from=build /app/packages/server/package.json packages/server/
COPY --from=build /app/packages/server/bin packages/server/bin
COPY --from=build /app/packages/server/dist packages/server/dist
COPY --from=build /app/packages/cli/package.json packages/cli/
COPY --from=build /app/packages/cli/bin packages/cli/bin
COPY --from=build /app/packages/cli/dist packages/cli/dist
RUN ln -s /app/packages/cli/bin/snapwire.js /usr/local/bin/snapwire

# Every setting of the README's Configuration table can be given with -e; these are the image's own.
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=8080 \
  SNAPWIRE_DATA_DIR=/data \
  SNAPWIRE_CHROMIUM_PATH=/usr/bin/chromium \
  TINI_SUBREAPER=1
VOLUME ["/data"]
EXPOSE 8080
USER snapwire
# Ready = store migrated and a browser up (what /healthz answers 200 for); the first start migrates and
# launches Chromium, hence the start period.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["snapwire", "serve"]
