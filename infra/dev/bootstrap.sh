# shellcheck shell=bash
# Makes a Debian 12 machine ready to run Mindmeet from this checkout:
#   1. Debian packages: redis-server; for tests/benchmarks also chromium,
#      firefox-esr (mixed-browser calls), iproute2 (their veth address),
#      docker-compose (compose file check), sox (test audio), nftables
#      (network-drop fault tests), coturn (TURN lock-down test), and podman,
#      runc and debootstrap (deploy test: docker-compose.yml run for real),
#      ffmpeg (media of headless participants and the fan-out benchmark's
#      publisher), janus (the SFU the fan-out benchmark compares with) and
#      gcc/libc6-dev (its small LD_PRELOAD shim for Janus on loopback).
#   2. Node.js >= 22.18 (installed from the npm registry into
#      ~/.cache/mindmeet/node22 when the machine's node is older).
#   3. npm dependencies (npm ci) when node_modules is missing or stale.
#   4. A mediasoup worker binary (MEDIASOUP_WORKER_BIN, or the one mediasoup's
#      own install put into node_modules).
# Idempotent, and silent when everything is already in place.
#
# Sourced, not run, so that PATH changes reach the caller:
#   source infra/dev/bootstrap.sh && mindmeet_bootstrap start|test|bench
# The working directory must be the repository root. Failures print what to do
# and exit 1 (this ends the sourcing script too).

MINDMEET_NODE_MIN="22.18"
MINDMEET_NODE_PREFIX="${MINDMEET_NODE_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/mindmeet/node22}"

_mm_say() { printf 'mindmeet: %s\n' "$*"; }
_mm_die() {
	printf 'mindmeet: %s\n' "$@" >&2
	exit 1
}
_mm_is_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a command with its output in a log file; on failure shows the log's end.
_mm_quiet() {
	local log
	log="$(mktemp "${TMPDIR:-/tmp}/mindmeet-bootstrap.XXXXXX")"
	"$@" >"$log" 2>&1 </dev/null && {
		rm -f "$log"
		return 0
	}
	local rc=$?
	printf 'mindmeet: failed (exit %s): %s\n' "$rc" "$*" >&2
	tail -n 30 "$log" >&2
	printf 'mindmeet: full log: %s\n' "$log" >&2
	return "$rc"
}

# ---------------------------------------------------------------- apt packages

# Prints the packages among "$@" that are not installed.
_mm_apt_missing() {
	local pkg
	for pkg in "$@"; do
		if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
			printf '%s\n' "$pkg"
		fi
	done
}

_MM_APT_UPDATED=""
# Installs "$@" (as root; apt-get update once per run).
_mm_apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	if [ -z "$_MM_APT_UPDATED" ]; then
		_mm_quiet apt-get -o DPkg::Lock::Timeout=600 update || _mm_die "apt-get update failed"
		_MM_APT_UPDATED=1
	fi
	_mm_quiet apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$@" ||
		_mm_die "apt-get install $* failed"
}

# mindmeet_bootstrap_apt start|test|bench
mindmeet_bootstrap_apt() {
	local mode="${1:-start}"
	local -a wanted=(redis-server)
	case "$mode" in
	# Tests drive a real Chromium and Firefox ESR (mixed calls, issue 12;
	# `ip netns` gives Firefox a non-loopback address of the test's own),
	# check docker-compose.yml with docker-compose, make loud test audio with
	# sox, cut loopback ports with nft (network drops in the fault tests and
	# benchmarks; tc netem does not work here), run coturn with its
	# turnutils_uclient (test/turn.test.ts), check and run the monitoring
	# profile's Prometheus with promtool and Debian's prometheus
	# (test/monitoring.test.ts), and run docker-compose.yml for real on rootful
	# podman with locally debootstrapped base images (test/deploy/compose.test.ts).
	test | bench) wanted+=(chromium firefox-esr iproute2 docker-compose sox nftables coturn prometheus podman runc debootstrap ffmpeg janus gcc libc6-dev) ;;
	esac
	command -v dpkg-query >/dev/null 2>&1 ||
		_mm_die "this bootstrap expects Debian 12 (dpkg/apt); install by hand: ${wanted[*]}"
	local -a missing
	mapfile -t missing < <(_mm_apt_missing "${wanted[@]}")
	[ "${#missing[@]}" -eq 0 ] && return 0
	if ! _mm_is_root; then
		_mm_die "missing Debian packages: ${missing[*]}" \
			"install them with: sudo apt-get install ${missing[*]}"
	fi
	_mm_say "installing Debian packages: ${missing[*]}"
	_mm_apt_install "${missing[@]}"
}

# ------------------------------------------------------------------------ Node

# True when `node` on PATH is >= MINDMEET_NODE_MIN.
_mm_node_ok() {
	command -v node >/dev/null 2>&1 || return 1
	node -e '
		const want = process.argv[1].split(".").map(Number);
		const have = process.versions.node.split(".").map(Number);
		const ok = have[0] > want[0] || (have[0] === want[0] && have[1] >= want[1]);
		process.exit(ok ? 0 : 1);
	' "$MINDMEET_NODE_MIN" >/dev/null 2>&1
}

mindmeet_bootstrap_node() {
	_mm_node_ok && return 0
	local bin="$MINDMEET_NODE_PREFIX/node_modules/node/bin" installed=""
	if [ ! -x "$bin/node" ] || ! "$bin/node" -e 'process.exit(0)' >/dev/null 2>&1; then
		if ! command -v npm >/dev/null 2>&1; then
			if _mm_is_root; then
				_mm_say "installing Debian's nodejs and npm (only to fetch Node 22)"
				_mm_apt_install nodejs npm
			else
				_mm_die "Node.js >= $MINDMEET_NODE_MIN is required and there is no npm to fetch it with" \
					"install Node 22 (https://nodejs.org) or npm (sudo apt-get install npm), then run this again"
			fi
		fi
		local have="none"
		command -v node >/dev/null 2>&1 && have="$(node --version 2>/dev/null || echo unknown)"
		_mm_say "node $have is older than $MINDMEET_NODE_MIN: installing Node 22 from the npm registry into $MINDMEET_NODE_PREFIX"
		mkdir -p "$MINDMEET_NODE_PREFIX"
		_mm_quiet npm install --prefix "$MINDMEET_NODE_PREFIX" --no-audit --no-fund node@22 ||
			_mm_die "could not install Node 22 with npm"
		installed=1
	fi
	export PATH="$bin:$PATH"
	hash -r
	_mm_node_ok || _mm_die "$bin/node is not Node >= $MINDMEET_NODE_MIN; remove $MINDMEET_NODE_PREFIX and run this again"
	if [ -n "$installed" ]; then _mm_say "using node $(node --version) from $bin"; fi
}

# ------------------------------------------------------------ npm dependencies

mindmeet_bootstrap_npm() {
	if [ -f node_modules/.package-lock.json ] && ! [ package-lock.json -nt node_modules/.package-lock.json ]; then
		return 0
	fi
	_mm_say "installing npm dependencies (npm ci)"
	if ! npm ci --no-audit --no-fund </dev/null; then
		printf 'mindmeet: npm ci failed (see above)\n' >&2
		if [ -z "${MEDIASOUP_WORKER_BIN:-}" ]; then
			printf '%s\n' "mindmeet: if it failed in mediasoup's postinstall: $_MM_NO_WORKER" >&2
		fi
		exit 1
	fi
}

# -------------------------------------------------------------- mediasoup worker

# shellcheck disable=SC2016 # the backticks are literal text
_MM_NO_WORKER='No mediasoup worker: `npm ci` downloads one on a machine with internet access; otherwise build one and set MEDIASOUP_WORKER_BIN=/path/to/mediasoup-worker'

# Prints the worker path mediasoup itself would use (same rule as mediasoup's
# getDefaultWorkerBin): MEDIASOUP_WORKER_BIN, else <mediasoup>/worker/out/Release/.
_mm_worker_path() {
	if [ -n "${MEDIASOUP_WORKER_BIN:-}" ]; then
		printf '%s\n' "$MEDIASOUP_WORKER_BIN"
		return 0
	fi
	node -e '
		const { createRequire } = require("node:module");
		const path = require("node:path");
		const req = createRequire(path.resolve("services/sfu/package.json"));
		const main = req.resolve("mediasoup");
		process.stdout.write(path.join(path.dirname(main), "..", "..", "worker", "out", "Release", "mediasoup-worker"));
	' 2>/dev/null
}

mindmeet_bootstrap_worker() {
	local bin
	bin="$(_mm_worker_path)" || bin=""
	if [ -n "$bin" ] && [ -f "$bin" ] && [ -x "$bin" ]; then
		return 0
	fi
	if [ -n "${MEDIASOUP_WORKER_BIN:-}" ]; then
		_mm_die "MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is not an executable file" "$_MM_NO_WORKER"
	fi
	_mm_die "$_MM_NO_WORKER"
}

# ------------------------------------------------------------------------- all

# mindmeet_bootstrap start|test|bench
mindmeet_bootstrap() {
	local mode="${1:-start}"
	if [ ! -f package.json ] || [ ! -f infra/dev/bootstrap.sh ]; then
		_mm_die "run this from the Mindmeet repository root"
	fi
	mindmeet_bootstrap_apt "$mode"
	mindmeet_bootstrap_node
	mindmeet_bootstrap_npm
	mindmeet_bootstrap_worker
}
