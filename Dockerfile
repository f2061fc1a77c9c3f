# syntax=docker/dockerfile:1
#
# One Dockerfile, three images: build with `--target receiver`, `--target worker` or
# `--target poller` (docker-compose.yml does this for you). Always name the target: without
# one, docker builds the last stage (worker).
#
# Why one file with targets and not one image with three commands: the three processes are
# deployed, scaled and rolled out separately, and each image carries only its own
# `pnpm deploy` tree (plus the ops CLI), with the right EXPOSE/HEALTHCHECK/CMD baked in, so
# `docker run <image>` does the right thing with no command override. The build stage is
# shared, so building all three costs one install and one `tsc` run.
#
#   docker build --target receiver -t greenapi-archiver-receiver .
#   docker build --target worker   -t greenapi-archiver-worker .
#   docker build --target poller   -t greenapi-archiver-poller .
#
# Every image also has the ops CLI: `docker exec <container> archiver status`.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---------------------------------------------------------------------------------------
# build: install the whole workspace, compile, then `pnpm deploy` each app into /out/<app>
# ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
ENV CI=true
# pnpm from npm, pinned to root package.json's `packageManager`; corepack is not used
# (unreliable signature/key checks, and it is no longer bundled with Node 25+).
RUN npm install --global pnpm@12.4.2 && pnpm --version
WORKDIR /src

# 1) Download every package named in the lockfile. This layer depends on the lockfile only,
#    so source edits do not re-download anything.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    --mount=type=cache,id=pnpm-metadata,target=/root/.cache/pnpm \
    pnpm fetch --store-dir /pnpm/store

# 2) Link the workspace offline from the store and compile every package and app to dist/.
COPY . .
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    --mount=type=cache,id=pnpm-metadata,target=/root/.cache/pnpm \
    pnpm install --frozen-lockfile --offline --store-dir /pnpm/store
RUN pnpm build

# 3) One self-contained production tree per app. pnpm 12 no longer needs
#    `injectWorkspacePackages` (nor `--legacy`) for this: `deploy` rewrites workspace:
#    dependencies to file: ones and copies them (with their dist/) into the target's own
#    node_modules; devDependencies are left out with --prod. `deploy` re-checks the lockfile
#    against the registry's metadata, so it runs online (--prefer-offline reuses the cache).
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    --mount=type=cache,id=pnpm-metadata,target=/root/.cache/pnpm \
    set -eu; \
    for app in receiver worker poller cli; do \
      pnpm --filter "@archiver/${app}" deploy --prod --prefer-offline \
        --store-dir /pnpm/store "/out/${app}"; \
      rm -rf "/out/${app}/src" "/out/${app}/test" "/out/${app}"/tsconfig*.json; \
      test -f "/out/${app}/dist/main.js"; \
    done; \
    chmod -R a+rX,go-w /out

# ---------------------------------------------------------------------------------------
# runtime: what the three images share (Node, the ops CLI, the health probe, a non-root user)
# ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
COPY --from=build /out/cli /app/cli
COPY infra/docker/healthcheck.mjs /app/healthcheck.mjs
COPY --chmod=0755 infra/docker/archiver /usr/local/bin/archiver
# Code stays root-owned and read-only to the process; uid/gid 1000 is the image's `node`
# user, given numerically so Kubernetes can verify runAsNonRoot.
USER 1000:1000
# `node` runs as PID 1 (exec form, no shell): SIGTERM from `docker stop` / Kubernetes reaches
# the process directly and its own handler drains it. The processes start no children, so
# there are no zombies to reap; use `docker run --init` / compose `init: true` to add tini.
STOPSIGNAL SIGTERM

FROM runtime AS poller
COPY --from=build /out/poller /app/poller
WORKDIR /app/poller
EXPOSE 9465
# /healthz on POLLER_METRICS_PORT (default 9465), apart from the worker's METRICS_PORT.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/app/healthcheck.mjs", "poller"]
CMD ["node", "dist/main.js"]

FROM runtime AS receiver
COPY --from=build /out/receiver /app/receiver
WORKDIR /app/receiver
EXPOSE 3000
# /healthz on PORT (default 3000); node's fetch, because slim images have no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/app/healthcheck.mjs", "receiver"]
CMD ["node", "dist/main.js"]

FROM runtime AS worker
COPY --from=build /out/worker /app/worker
WORKDIR /app/worker
EXPOSE 9464
# /healthz on METRICS_PORT (default 9464).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/app/healthcheck.mjs", "worker"]
CMD ["node", "dist/main.js"]
