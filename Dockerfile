# One image per service, from one Dockerfile:
#   docker build --build-arg SERVICE=worker -t drive-import/worker .
# SERVICE: gateway | import-service | metadata-service | storage-service | worker | drive-emulator
# (the Drive emulator, for the compose file's demo profile). Each runs its compiled bundle,
# `node <service>/dist/main.js` (npm run build), with only the npm packages that bundle needs.
# Plain Dockerfile syntax (no BuildKit-only features) so docker-compose 1.29's classic builder works too.
# NODE_IMAGE builds, RUNTIME_IMAGE runs: both Node 24 (Node 20 is past its end of life). Without a
# registry, ops/images/build.sh makes both locally and passes them here.
ARG NODE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=node:24-bookworm-slim

# ---- build: full install (dev deps included: the Prisma CLI, esbuild, Vite) ----------------------
FROM ${NODE_IMAGE} AS build
# better-sqlite3 is a native addon compiled from source when no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# A CA bundle for npm behind a TLS-inspecting proxy: a path to a file mounted at build time
# (ops/images/build.sh: a read-only volume). Declared in this stage only, so no runtime image has it.
ARG NODE_EXTRA_CA_CERTS
WORKDIR /app

# Manifests first, so the install layers are cached until a package.json or the lock changes.
COPY package.json package-lock.json ./
COPY packages/common/package.json packages/common/
COPY packages/drive/package.json packages/drive/
COPY packages/storage/package.json packages/storage/
COPY packages/local-stack/package.json packages/local-stack/
COPY packages/testing/package.json packages/testing/
COPY tools/drive-emulator/package.json tools/drive-emulator/
COPY metadata-service/package.json metadata-service/
COPY storage-service/package.json storage-service/
COPY import-service/package.json import-service/
COPY worker/package.json worker/
COPY gateway/package.json gateway/
COPY frontend/package.json frontend/
# --ignore-scripts: the root postinstall (prisma generate) needs the sources, copied later, and
# Prisma's engine download is not needed (Prisma 7 queries through driver adapters). The one
# install script the runtime needs, better-sqlite3's compile, is run explicitly.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 \
 && node -e "new (require('better-sqlite3'))(':memory:').close()"

COPY . .
# The Prisma client (both schemas) is generated here, offline: generate needs no schema engine.
# Then every bundle and the web app, once for all images (nothing here depends on SERVICE).
ENV PRISMA_SCHEMA_ENGINE_BINARY=/bin/false
RUN npm run generate --workspace @drive-import/metadata-service \
 && node scripts/build.mjs

# SERVICE is declared only now: every RUN after an ARG is cached per value, and all the above is
# the same for every image.
ARG SERVICE
# /runtime: what the image ships, laid out as in the repository. The service's bundle and
# package.json (type: module), the npm packages the bundle needs (ops/images/runtime-deps.mjs: no
# dev dependencies, no other service's packages, no workspace sources, no tests), plus the files
# it reads: the built web app, frontend/dist (gateway), the SQL migrations (metadata-service).
RUN case "$SERVICE" in \
      gateway|import-service|metadata-service|storage-service|worker) dir="$SERVICE" ;; \
      drive-emulator) dir=tools/drive-emulator ;; \
      *) echo "build with --build-arg SERVICE=gateway|import-service|metadata-service|storage-service|worker|drive-emulator (got '$SERVICE')" >&2; exit 1 ;; \
    esac \
 && node ops/images/runtime-deps.mjs "$dir" /runtime \
 && mkdir -p "/runtime/$dir" && cp -a "$dir/dist" "$dir/package.json" "/runtime/$dir/" && cp package.json /runtime/ \
 && if [ "$dir" != "$SERVICE" ]; then ln -s "$dir" "/runtime/$SERVICE"; fi \
 && case "$SERVICE" in \
      gateway) mkdir -p /runtime/frontend && cp -a frontend/dist /runtime/frontend/ ;; \
      metadata-service) for p in sqlite sqlserver; do mkdir -p "/runtime/prisma/$p" && cp -a "prisma/$p/migrations" "/runtime/prisma/$p/"; done ;; \
    esac

# ---- runtime ---------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
ARG SERVICE
ENV NODE_ENV=production \
    SERVICE=${SERVICE} \
    LOG_PRETTY=false
WORKDIR /app
# Code and dependencies stay root-owned (read-only to the service); only /data is writable:
# /data/db for SQLite, /data/objects for the local-disk store. Docker seeds a new named volume from
# the image's directory, so these owners carry over to the volumes mounted there.
RUN mkdir -p /data/db /data/objects && chown -R node:node /data
COPY --from=build /runtime ./
USER node
EXPOSE 5000 5001 5002 5003 5004 5010

# /health on the service's own port (<SERVICE>_PORT, else its default). Slim images have no curl.
# One expression without spaces: podman's Docker API splits a CMD healthcheck's arguments at spaces.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env[process.env.SERVICE.toUpperCase().replace(/-/g,'_')+'_PORT']||{gateway:5000,'import-service':5001,'metadata-service':5002,'storage-service':5003,worker:5004}[process.env.SERVICE])+'/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# exec: node is PID 1 and receives SIGTERM itself (the services shut down gracefully on it).
# Arguments after the image name reach the service (the Drive emulator takes its tree as flags).
ENTRYPOINT ["sh", "-c", "exec node \"$SERVICE/dist/main.js\" \"$@\"", "--"]
