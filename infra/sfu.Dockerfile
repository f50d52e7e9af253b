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
#
# Offline / air-gapped builds: put a prebuilt worker (same mediasoup version as
# package-lock.json, linked against glibc <= Debian 12's) at
#   infra/mediasoup-worker/mediasoup-worker
# (git ignores it) and the build uses it instead: MEDIASOUP_WORKER_BIN is set
# for `npm ci`, so mediasoup's postinstall neither downloads nor builds
# anything, and the binary is copied to where mediasoup looks by default.
# A worker linked against Debian's shared libraries (as
# ../shared/tools/mediasoup-worker/build.sh makes it: libuv1, libsrtp2-1, …)
# needs those packages in the image: list them, space-separated, in
#   infra/mediasoup-worker/packages
# (also ignored by git). mediasoup's own prebuilt workers need none.
# The build still needs the npm registry and a Debian mirror (or local
# mirrors of them); see docs/OPERATIONS.md, "Offline install".
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
# The directory always exists (its README.md is committed); the worker in it is optional.
COPY infra/mediasoup-worker/ /tmp/prebuilt-worker/
RUN set -e; \
	prebuilt=/tmp/prebuilt-worker/mediasoup-worker; \
	if [ -f "$prebuilt" ]; then \
		if [ -s /tmp/prebuilt-worker/packages ]; then \
			apt-get update; \
			apt-get install -y --no-install-recommends $(cat /tmp/prebuilt-worker/packages); \
			rm -rf /var/lib/apt/lists/*; \
		fi; \
		chmod 0755 "$prebuilt"; \
		if ldd "$prebuilt" 2>&1 | grep -q "not found"; then \
			ldd "$prebuilt" >&2; \
			echo "infra/mediasoup-worker/mediasoup-worker cannot run in this image (built against a newer glibc/libstdc++?)" >&2; \
			exit 1; \
		fi; \
		echo "mediasoup worker: prebuilt one from infra/mediasoup-worker/"; \
		MEDIASOUP_WORKER_BIN="$prebuilt" npm ci --omit=dev --workspace=services/sfu --include-workspace-root=false; \
		release="$(node -p "require('node:path').resolve(require.resolve('mediasoup', { paths: ['/app/services/sfu'] }), '../../../worker/out/Release')")"; \
		mkdir -p "$release"; \
		cp "$prebuilt" "$release/mediasoup-worker"; \
	else \
		npm ci --omit=dev --workspace=services/sfu --include-workspace-root=false; \
	fi; \
	rm -rf /tmp/prebuilt-worker \
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
# The shared libraries a prebuilt worker was linked against (see above).
COPY infra/mediasoup-worker/ /tmp/prebuilt-worker/
RUN set -e; \
	if [ -f /tmp/prebuilt-worker/mediasoup-worker ] && [ -s /tmp/prebuilt-worker/packages ]; then \
		apt-get update; \
		apt-get install -y --no-install-recommends $(cat /tmp/prebuilt-worker/packages); \
		rm -rf /var/lib/apt/lists/*; \
	fi; \
	rm -rf /tmp/prebuilt-worker
# Manifests + node_modules, including the mediasoup worker binary.
COPY --from=build /app /app
# The worker must load here (a prebuilt one with a library missing would only
# fail when the SFU starts).
RUN worker="$(cd services/sfu && node -p "require('mediasoup').workerBin")" \
	&& if ldd "$worker" | grep "not found"; then echo "mediasoup-worker: shared libraries missing in the runtime image" >&2; exit 1; fi
COPY packages/protocol/src packages/protocol/src
COPY services/sfu/src services/sfu/src
USER node
# 4001: protoo signaling (compose network only). 40000+: media, worker i on
# SFU_RTC_PORT+i, UDP and TCP; publish them with the same numbers on the host.
EXPOSE 4001 40000-40003/udp 40000-40003/tcp
CMD ["node", "services/sfu/src/main.ts"]
