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
exec turnserver -c "${TURN_CONFIG:-/etc/coturn/turnserver.conf}" \
	--realm="${TURN_REALM:?TURN_REALM is required}" \
	--static-auth-secret="$TURN_SECRET" \
	--external-ip="${TURN_EXTERNAL_IP:-$PUBLIC_IP}" \
	--allowed-peer-ip="$PUBLIC_IP" \
	"$@"
