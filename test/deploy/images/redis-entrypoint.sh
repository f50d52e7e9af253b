#!/bin/sh
# What the official redis image's docker-entrypoint.sh does, for Debian's redis-server.
set -e
# `docker run redis --save ""` or `redis my.conf`: the arguments are redis-server's.
case "${1:-}" in -* | *.conf) set -- redis-server "$@" ;; esac
if [ "${1:-}" = redis-server ]; then
	# No config file, or one that does not set protected-mode: turn it off, as
	# the official image does (the container network is the boundary).
	config=""
	if [ -f "${2:-}" ]; then config="$2"; fi
	if [ -z "$config" ] || ! grep -q '^protected-mode' "$config"; then
		shift
		if [ -n "$config" ]; then shift; fi
		set -- --protected-mode no "$@"
		if [ -n "$config" ]; then set -- "$config" "$@"; fi
		set -- redis-server "$@"
	fi
	if [ "$(id -u)" = 0 ]; then
		find . \! -user redis -exec chown redis '{}' + 2>/dev/null || true
		umask 0077
		exec setpriv --reuid=redis --regid=redis --init-groups "$@"
	fi
fi
exec "$@"
