# One image per service, from one Dockerfile:
#   docker build --build-arg SERVICE=worker -t drive-import/worker .
# SERVICE: gateway | import-service | metadata-service | storage-service | worker
# Plain Dockerfile syntax (no BuildKit-only features) so docker-compose 1.29's classic builder works too.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: full install (dev deps included: the Prisma CLI generates the client) ----------------
FROM ${NODE_IMAGE} AS build
# better-sqlite3 is a native addon compiled from source when no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
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
# --ignore-scripts: the root postinstall (prisma generate) needs the sources, copied later, and
# Prisma's engine download is not needed (Prisma 7 queries through driver adapters). The one
# install script the runtime needs, better-sqlite3's compile, is run explicitly.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3

# SERVICE is declared only now: every RUN after an ARG is cached per value, and the full install
# above is the same for all five images.
ARG SERVICE
RUN case "$SERVICE" in gateway|import-service|metadata-service|storage-service|worker) ;; \
      *) echo "build with --build-arg SERVICE=gateway|import-service|metadata-service|storage-service|worker (got '$SERVICE')" >&2; exit 1 ;; \
    esac

# Production dependencies of SERVICE alone, in /prod, from the npm cache filled above (no second
# download). npm still installs every workspace's own dependencies, but leaves out all dev ones.
RUN mkdir /prod \
 && cp --parents package.json package-lock.json */package.json packages/*/package.json tools/*/package.json /prod/ \
 && cd /prod \
 && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --workspace "$SERVICE" \
 && if [ -d node_modules/better-sqlite3 ]; then \
      cp -a /app/node_modules/better-sqlite3/build node_modules/better-sqlite3/ \
      && node -e "new (require('/prod/node_modules/better-sqlite3'))(':memory:').close()"; \
    fi
# tsx runs the TypeScript at runtime (there is no build step) but is a root devDependency: install
# the locked version on its own in /opt/tsx and link it, so `node --import tsx` resolves as in dev.
RUN TSX_VERSION="$(node -p "require('./package-lock.json').packages['node_modules/tsx'].version")" \
 && npm install --prefix /opt/tsx --no-save --no-package-lock --ignore-scripts --prefer-offline --no-audit --no-fund "tsx@$TSX_VERSION" \
 && ln -s /opt/tsx/node_modules/tsx /prod/node_modules/tsx

COPY . .
# The Prisma client (both schemas) is generated here, offline: generate needs no schema engine.
ENV PRISMA_SCHEMA_ENGINE_BINARY=/bin/false
RUN npm run generate --workspace @drive-import/metadata-service \
 && test -f "$SERVICE/src/main.ts"

# ---- runtime ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
ENV NODE_ENV=production \
    SERVICE=${SERVICE} \
    LOG_PRETTY=false
WORKDIR /app
# Code and dependencies stay root-owned (read-only to the service); only /data is writable:
# /data/db for SQLite, /data/objects for the local-disk store. Docker seeds a new named volume from
# the image's directory, so these owners carry over to the volumes mounted there.
RUN mkdir -p /data/db /data/objects && chown -R node:node /data
COPY --from=build /opt/tsx /opt/tsx
COPY --from=build /prod/node_modules ./node_modules
COPY --from=build /app/package.json ./
# The shared packages the services import, by name: packages/testing (test support, whose own
# dependencies are dev ones and so not in /prod either) and packages/local-stack (`npm start`) stay out.
COPY --from=build /app/packages/common ./packages/common
COPY --from=build /app/packages/drive ./packages/drive
COPY --from=build /app/packages/storage ./packages/storage
COPY --from=build /app/tools ./tools
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/frontend ./frontend
COPY --from=build /app/gateway ./gateway
COPY --from=build /app/import-service ./import-service
COPY --from=build /app/metadata-service ./metadata-service
COPY --from=build /app/storage-service ./storage-service
COPY --from=build /app/worker ./worker
USER node
EXPOSE 5000 5001 5002 5003 5004

# /health on the service's own port (<SERVICE>_PORT, else its default). Slim images have no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const s=process.env.SERVICE;const p=process.env[s.toUpperCase().replace(/-/g,'_')+'_PORT']||{gateway:5000,'import-service':5001,'metadata-service':5002,'storage-service':5003,worker:5004}[s];fetch('http://127.0.0.1:'+p+'/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# exec: node is PID 1 and receives SIGTERM itself (the services shut down gracefully on it).
CMD ["sh", "-c", "exec node --import tsx \"$SERVICE/src/main.ts\""]
