# Mindmeet API image: the Fastify API (rooms, lobby, tokens, admin, /sfu proxy)
# plus the built web app it serves.
#
# Build context is the repository root:
#   docker build -f infra/api.Dockerfile -t mindmeet-api .
# (docker compose does this for the `api` service.)
#
# Services run their TypeScript directly (Node 22 type stripping): no compile
# step, only the web app is built (Vite). Plain Dockerfile syntax, no BuildKit-only
# features, so the classic builder used by docker-compose 1.x works too.

ARG NODE_IMAGE=node:22-bookworm-slim

# ---------------------------------------------------------------- build tools
FROM ${NODE_IMAGE} AS build-base
# Native addons (bufferutil, utf-8-validate, ...) fall back to node-gyp when no
# prebuilt binary matches.
RUN apt-get update \
	&& apt-get install -y --no-install-recommends python3 make g++ \
	&& rm -rf /var/lib/apt/lists/*
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
WORKDIR /app
# Every workspace manifest, so that package-lock.json matches the workspace list;
# only the workspaces selected with --workspace below get installed.
# (Adding a workspace to package.json means adding its manifest here.)
COPY package.json package-lock.json ./
COPY packages/protocol/package.json packages/protocol/
COPY services/api/package.json services/api/
COPY services/sfu/package.json services/sfu/
COPY web/package.json web/
COPY testing/package.json testing/

# ------------------------------------------- runtime dependencies (API only)
FROM build-base AS deps
# services/api and, through its workspace link, packages/protocol; no devDependencies.
RUN npm ci --omit=dev --workspace=services/api --include-workspace-root=false

# ------------------------------------------------------------- web app build
FROM build-base AS web
RUN npm ci --workspace=web --include-workspace-root=false
COPY tsconfig.base.json ./
COPY packages/protocol packages/protocol
COPY web web
RUN npm run build --workspace=web && test -f web/dist/index.html

# ------------------------------------------------------------------- runtime
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
	HOST=0.0.0.0 \
	PORT=3000 \
	WEB_DIST=/app/web/dist
WORKDIR /app
# Manifests + node_modules (workspace links are symlinks into /app, kept by COPY).
COPY --from=deps /app /app
COPY packages/protocol/src packages/protocol/src
COPY services/api/src services/api/src
COPY --from=web /app/web/dist web/dist
USER node
EXPOSE 3000
CMD ["node", "services/api/src/main.ts"]
