# Mindmeet SFU image: mediasoup workers + protoo signaling.
#
# Build context is the repository root:
#   docker build -f infra/sfu.Dockerfile -t mindmeet-sfu .
# (docker compose does this for the `sfu` service.)
#
# mediasoup's normal install runs here: its postinstall downloads the prebuilt
# mediasoup-worker for this platform from GitHub and checks that it runs; if it
# cannot, it builds the worker from source (python3 + pip for meson/ninja, make,
# g++), which takes several minutes. Either way the binary ends up in
# node_modules/mediasoup/worker/out/Release/mediasoup-worker.
# Plain Dockerfile syntax, no BuildKit-only features.

ARG NODE_IMAGE=node:22-bookworm-slim

# ---------------------------------------------------------------------- build
FROM ${NODE_IMAGE} AS build
RUN apt-get update \
	&& apt-get install -y --no-install-recommends python3 python3-pip make g++ \
	&& rm -rf /var/lib/apt/lists/*
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
WORKDIR /app
# Every workspace manifest, so that package-lock.json matches the workspace list;
# only services/sfu (and packages/protocol through its workspace link) is installed.
# (Adding a workspace to package.json means adding its manifest here.)
COPY package.json package-lock.json ./
COPY packages/protocol/package.json packages/protocol/
COPY services/api/package.json services/api/
COPY services/sfu/package.json services/sfu/
COPY web/package.json web/
COPY testing/package.json testing/
RUN npm ci --omit=dev --workspace=services/sfu --include-workspace-root=false \
	&& cd services/sfu \
	&& env -u MEDIASOUP_WORKER_BIN node -e " \
		const { workerBin } = require('mediasoup'); \
		require('node:fs').accessSync(workerBin, require('node:fs').constants.X_OK); \
		console.log('mediasoup worker:', workerBin);"

# -------------------------------------------------------------------- runtime
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
	SFU_SIGNALING_HOST=0.0.0.0 \
	SFU_SIGNALING_PORT=4001 \
	SFU_LISTEN_IP=0.0.0.0 \
	SFU_RTC_PORT=40000
WORKDIR /app
# Manifests + node_modules, including the mediasoup worker binary.
COPY --from=build /app /app
COPY packages/protocol/src packages/protocol/src
COPY services/sfu/src services/sfu/src
USER node
# 4001: protoo signaling (compose network only). 40000+: media, worker i on
# SFU_RTC_PORT+i, UDP and TCP; publish them with the same numbers on the host.
EXPOSE 4001 40000-40003/udp 40000-40003/tcp
CMD ["node", "services/sfu/src/main.ts"]
