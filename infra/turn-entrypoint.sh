#!/bin/sh
# Starts coturn for Mindmeet with infra/turnserver.conf plus what comes from
# the environment. docker-compose.yml's `turn` service runs this script, and
# test/turn.test.ts runs the same script against Debian's coturn, so the test
# proves the shipped settings.
#
#   TURN_SECRET   shared secret for the time-limited credentials (required)
#   TURN_REALM    realm (the public hostname)
#   PUBLIC_IP     the SFU's announced address: the ONLY peer TURN relays to
#   TURN_EXTERNAL_IP  address coturn advertises for its relays (default PUBLIC_IP)
#   TURN_CONFIG   path of turnserver.conf (default /etc/coturn/turnserver.conf)
#   TURN_TLS_CERT, TURN_TLS_KEY  certificate (full chain) and key, PEM, for
#                 TURN over TLS (turns:) on TURN_TLS_PORT (default 5349); unset:
#                 no TLS listener. docker-compose.yml mounts Caddy's data volume
#                 at /caddy-data, so Caddy's certificate for DOMAIN can be used.
#   TURN_PROC_USER, TURN_PROC_GROUP  when started as root (to read a key only
#                 root may read, e.g. Caddy's), coturn drops to this user and
#                 group (default group nogroup) once its listeners and
#                 certificates are set up; docker-compose.yml says nobody, the
#                 official image's user. Unset: coturn keeps the user it was
#                 started as.
# Any further arguments are passed to turnserver (the test uses them to listen
# on loopback ports only; nothing that loosens the peer rules).
set -eu
if [ -z "${TURN_SECRET:-}" ]; then
	echo "TURN_SECRET is required for the turn profile (set it in .env)" >&2
	exit 1
fi
if [ -z "${PUBLIC_IP:-}" ]; then
	echo "PUBLIC_IP is required for the turn profile: TURN relays only to the SFU's announced address" >&2
	exit 1
fi
if [ -n "${TURN_TLS_CERT:-}" ] || [ -n "${TURN_TLS_KEY:-}" ]; then
	for file in "${TURN_TLS_CERT:?TURN_TLS_KEY is set but TURN_TLS_CERT is not}" "${TURN_TLS_KEY:?TURN_TLS_CERT is set but TURN_TLS_KEY is not}"; do
		if [ ! -r "$file" ]; then
			echo "TURN over TLS: cannot read $file (Caddy writes its certificate once DOMAIN is first served)" >&2
			exit 1
		fi
	done
	set -- --cert="$TURN_TLS_CERT" --pkey="$TURN_TLS_KEY" --tls-listening-port="${TURN_TLS_PORT:-5349}" "$@"
else
	set -- --no-tls "$@"
fi
if [ "$(id -u)" = 0 ] && [ -n "${TURN_PROC_USER:-}" ]; then
	set -- --proc-user="$TURN_PROC_USER" --proc-group="${TURN_PROC_GROUP:-nogroup}" "$@"
fi
exec turnserver -c "${TURN_CONFIG:-/etc/coturn/turnserver.conf}" \
	--realm="${TURN_REALM:?TURN_REALM is required}" \
	--static-auth-secret="$TURN_SECRET" \
	--external-ip="${TURN_EXTERNAL_IP:-$PUBLIC_IP}" \
	--allowed-peer-ip="$PUBLIC_IP" \
	"$@"
