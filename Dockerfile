# The sigops relay as a container image (README, "Container image").
#
#   docker build -t sigops .                       (or: podman build --format docker -t sigops .)
#   docker run -e SIGOPS_REPO=https://github.com/<org>/<config-repo> -p 25:2525 -p 9025:9025 sigops
#
# Two stages: `build` installs every dependency and bundles the command line with esbuild
# (scripts/build-image.mjs) into two plain ES modules; the final stage holds only node, those
# modules and git (for --repo). Bundled, the relay needs no node_modules, no TypeScript loader
# (tsx and its esbuild are runtime dependencies of bin/sigops, not of the bundle) and less memory.
#
# HEALTHCHECK is part of the Docker image format only: podman/buildah drop it from the OCI format
# they write by default, so build with `--format docker` there.

# Any image with Node 20 on a glibc Linux (the official one by default; the test builds from a
# Debian image made locally, test/container/image.test.ts).
ARG BASE=node:20-bookworm-slim

FROM ${BASE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Extra flags for npm ci: `--offline` when the registry is out of reach and the build mounts an
# npm cache at /root/.npm (podman build --volume), as the image test does.
ARG NPM_CI_FLAGS=""
# --ignore-scripts: no dependency's install script runs; esbuild finds its binary without one
RUN npm ci --no-audit --no-fund --ignore-scripts ${NPM_CI_FLAGS}
COPY tsconfig.json ./
COPY schemas ./schemas
COPY src ./src
COPY scripts/build-image.mjs scripts/container-healthcheck.mjs ./scripts/
RUN node scripts/build-image.mjs --outdir /out && cp scripts/container-healthcheck.mjs /out/healthcheck.mjs

FROM ${BASE}
# git for --repo (clone and pull): installed unless the base image has it already. Then every
# package manager and build tool the base image brings goes: the relay needs only `node`.
RUN set -eu; \
    if ! command -v git >/dev/null 2>&1; then \
      apt-get update; \
      apt-get install -y --no-install-recommends git ca-certificates; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    for tool in npm npx corepack yarn yarnpkg; do \
      p="$(command -v "$tool" || true)"; if [ -n "$p" ]; then rm -f "$p"; fi; \
    done; \
    rm -rf /usr/local/lib/node_modules /usr/lib/node_modules /usr/local/include/node /opt/yarn-*; \
    mkdir -p /var/lib/sigops; \
    chown 1000:1000 /var/lib/sigops
# The code belongs to root and is read-only for the relay's user.
COPY --from=build /out/ /app/

# Every relay flag has a variable (SIGOPS_ + the flag in capitals; `sigops relay --help`). A
# non-root process cannot bind port 25 everywhere (Kubernetes, --network host): the relay listens
# on 2525 in the container, published as 25 outside.
ENV NODE_ENV=production \
    SIGOPS_LISTEN=0.0.0.0:2525 \
    SIGOPS_HTTP=0.0.0.0:9025 \
    SIGOPS_STATE=/var/lib/sigops/state
# The state volume holds the usage records and, with --repo, the clone (./.sigops-config).
WORKDIR /var/lib/sigops
VOLUME ["/var/lib/sigops"]
EXPOSE 2525 9025
# Numeric, so a runtime can verify it is not root (Kubernetes runAsNonRoot); it is the official
# image's `node` user, and needs no entry in /etc/passwd elsewhere.
USER 1000:1000

# The relay drains on SIGTERM (up to --drain-timeout, 30 s): give `docker stop` / `podman stop`
# more than that (-t 40, --stop-timeout 40) or set SIGOPS_DRAIN_TIMEOUT below the runtime's grace.
STOPSIGNAL SIGTERM
# /healthz on SIGOPS_HTTP; no curl in the image, node asks (scripts/container-healthcheck.mjs).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
# node is PID 1 and the relay handles SIGTERM and SIGINT itself. --max-semi-space-size=4 is the
# tuning bin/sigops gives the relay (docs/relay.md, "Performance"). Arguments after the image name
# are more relay flags.
ENTRYPOINT ["node", "--max-semi-space-size=4", "/app/sigops.mjs", "relay"]
