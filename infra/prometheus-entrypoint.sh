#!/bin/sh
# Starts Prometheus for Mindmeet's `monitoring` profile. The API's /metrics
# wants the admin bearer token, and Prometheus reads it from a file
# (credentials_file in infra/prometheus.yml), not from its environment: this
# writes ADMIN_TOKEN into that file, readable by this user only, so the
# committed configuration never holds the token. docker-compose.yml's
# `prometheus` service runs this script, and test/monitoring.test.ts runs the
# same script with Debian's prometheus against the real API and SFU.
#
#   ADMIN_TOKEN                   the API's admin token (required)
#   PROMETHEUS_ADMIN_TOKEN_FILE   where to write it (default /tmp/mindmeet/admin-token,
#                                 the path infra/prometheus.yml names)
# Arguments are passed to prometheus (--config.file and so on).
set -eu
if [ -z "${ADMIN_TOKEN:-}" ]; then
	echo "ADMIN_TOKEN is required: Prometheus scrapes the API's /metrics with the admin bearer token" >&2
	exit 1
fi
token_file="${PROMETHEUS_ADMIN_TOKEN_FILE:-/tmp/mindmeet/admin-token}"
umask 077
mkdir -p "$(dirname "$token_file")"
printf '%s' "$ADMIN_TOKEN" >"$token_file"
unset ADMIN_TOKEN
exec prometheus "$@"
