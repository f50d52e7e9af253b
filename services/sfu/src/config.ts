import { isIP } from "node:net";
import { cpus, hostname } from "node:os";
import { roomMaxPeersDefault, roomMaxPeersRange } from "@mindmeet/protocol";
import type { RequestLimits } from "./signaling/request-limiter.ts";

export interface SfuConfig {
	redisUrl: string;
	nodeId: string;
	signalingHost: string;
	/** 0 picks a free port (tests). */
	signalingPort: number;
	/** How the API reaches this node; derived from host and port when not set. */
	signalingUrl: string | undefined;
	/** ws(s) URL browsers may reach directly; unset means they go through the API. */
	publicUrl: string | undefined;
	workers: number;
	listenIp: string;
	announcedAddress: string | undefined;
	/**
	 * SFU_EXTRA_ADDRESSES (comma-separated IP addresses, default none): more
	 * addresses each worker listens on (same media port) and announces as they
	 * are, besides SFU_LISTEN_IP. Local mode listens on 127.0.0.1, which
	 * Firefox never pairs with (it gathers no loopback candidates): one
	 * non-loopback address of this machine here lets a browser on the same
	 * machine, or on the LAN, reach the media. Needs a specific SFU_LISTEN_IP,
	 * since a wildcard one already takes the port on every address.
	 */
	extraAddresses: string[];
	/** First media port; worker i listens on rtcPort + i. 0 lets each worker pick a free port (tests). */
	rtcPort: number;
	workerBin: string | undefined;
	logLevel: string;
	/**
	 * HOST_HANDOVER_GRACE_SECONDS (default 10): how long a host whose socket
	 * dropped has to come back (a reload) before the role passes on. A host
	 * who leaves on purpose hands over at once. Held in milliseconds.
	 */
	hostHandoverGraceMs: number;
	/**
	 * ROOM_OCCUPIED_TTL_SECONDS (default 120): TTL of a room's Redis keys while
	 * someone is in it, refreshed on every heartbeat; so it is also how long a
	 * room outlives a crashed SFU node. At least 15 s (three heartbeats).
	 */
	roomOccupiedTtlMs: number;
	/** ROOM_GRACE_SECONDS (default 60): TTL of a room's keys once its last peer left (time to reconnect). */
	roomGraceMs: number;
	/**
	 * SPEAKING_THRESHOLD_DBOV (default -55, integer from -127 to 0): average
	 * level over an interval above which a microphone counts as speaking.
	 * Lower values catch quieter voices and more background noise.
	 */
	speakingThresholdDbov: number;
	/**
	 * SFU_HEARTBEAT_SECONDS (default 5, from 0.1 to 5): how often the node
	 * publishes itself in Redis, refreshes its rooms' TTLs and writes back
	 * rooms Redis lost. At most 5 s: the API treats a node silent for 15 s as
	 * gone. Tests shorten it.
	 */
	heartbeatIntervalMs: number;
	/**
	 * SIGNALING_KEEPALIVE_SECONDS (default 10) and
	 * SIGNALING_KEEPALIVE_GRACE_SECONDS (default 10): a signaling connection
	 * is pinged after this much silence and dropped if the ping goes
	 * unanswered for the grace period, so a client whose network vanished
	 * leaves the room within about 20 s. Tests shorten them.
	 */
	keepaliveIntervalMs: number;
	keepaliveGraceMs: number;
	/**
	 * ROOM_MAX_PEERS (default 50, from 1 to 1000; the default and range are
	 * the protocol's, shared with the API): connections one room takes; the
	 * next person is refused with `room-full`. While the host is not
	 * connected, one place is kept for them. A reconnect of someone already
	 * inside replaces their connection and is never refused.
	 */
	roomMaxPeers: number;
	/**
	 * SFU_MAX_ROOMS (default 200, from 1 to 100000): rooms open at once on
	 * this node; the first connection to one more is refused with
	 * `server-full`. People joining a room already open here are not affected.
	 */
	maxRooms: number;
	/**
	 * SFU_ROOM_PEERS_PER_ROUTER (default 16, from 1 to 1000): people one
	 * room puts on one router (one worker, one core). The next person goes to
	 * a router on another worker, joined to the first by pipe transports.
	 * mediasoup's rule of thumb is ~500 consumers per worker; a room of 16
	 * people each sending a microphone and a camera has 16 × 2 × 15 = 480, so
	 * at 16 a room fills a worker by itself, and beyond it the room's
	 * consumers (the bulk of a worker's work: one send path each) are split
	 * across workers. Pipes cost one more consumer and producer per producer
	 * per router, far less. A room stays on one router, with no pipes at
	 * all, while it has at most this many people.
	 */
	roomPeersPerRouter: number;
	/**
	 * Per signaling connection (see request-limiter.ts):
	 * SIGNALING_REQUEST_BURST (default 50) requests at once, refilled at
	 * SIGNALING_REQUESTS_PER_SECOND (default 20); more get `rate-limited`.
	 * SIGNALING_FLOOD_REFUSALS (default 100) refusals within
	 * SIGNALING_FLOOD_WINDOW_SECONDS (default 10) close the connection
	 * with a `refused` notification, reason `too-many-requests`.
	 */
	requestLimits: RequestLimits;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
	const raw = env[name];
	if (raw === undefined || raw === "") return fallback;
	const value = Number(raw);
	if (!Number.isInteger(value) || value < min || value > max) {
		throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
	}
	return value;
}

/**
 * A duration given in seconds, decimals allowed (tests use sub-second
 * values), returned in milliseconds because timers and PEXPIRE take those.
 */
function seconds(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
	const raw = env[name];
	if (raw === undefined || raw.trim() === "") return Math.round(fallback * 1000);
	const value = Number(raw);
	if (!/^\s*\d+(\.\d+)?\s*$/.test(raw) || value < min || value > max) {
		throw new Error(`${name} must be a number of seconds from ${min} to ${max}, got "${raw}"`);
	}
	return Math.round(value * 1000);
}

/**
 * A whole number, possibly negative, written plainly: no exponents, hex or
 * decimals, which Number() would quietly accept.
 */
function signedInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
	const raw = env[name];
	if (raw === undefined || raw.trim() === "") return fallback;
	const value = Number(raw);
	if (!/^\s*-?\d+\s*$/.test(raw) || value < min || value > max) {
		throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
	}
	return value;
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
	const value = env[name]?.trim();
	return value ? value : undefined;
}

const wildcard = (ip: string) => ip === "0.0.0.0" || ip === "::";

/** SFU_EXTRA_ADDRESSES: plain IP literals, each once, none a wildcard nor the listen address itself. */
function extraAddresses(env: NodeJS.ProcessEnv, listenIp: string): string[] {
	const raw = env.SFU_EXTRA_ADDRESSES;
	if (raw === undefined || raw.trim() === "") return [];
	const found: string[] = [];
	for (const part of raw.split(",")) {
		const address = part.trim();
		if (isIP(address) === 0 || wildcard(address)) {
			throw new Error(
				`SFU_EXTRA_ADDRESSES must be a comma-separated list of IP addresses of this machine (not 0.0.0.0 or ::), got "${raw}"`,
			);
		}
		if (address === listenIp || found.includes(address)) {
			throw new Error(`SFU_EXTRA_ADDRESSES names ${address} twice (SFU_LISTEN_IP counts), got "${raw}"`);
		}
		found.push(address);
	}
	if (wildcard(listenIp)) {
		throw new Error(
			`SFU_EXTRA_ADDRESSES needs a specific SFU_LISTEN_IP: ${listenIp} already listens on every address (use SFU_ANNOUNCED_ADDRESS to say which one browsers get)`,
		);
	}
	return found;
}

export function loadSfuConfig(env: NodeJS.ProcessEnv): SfuConfig {
	const redisUrl = optional(env, "REDIS_URL");
	if (!redisUrl) throw new Error("REDIS_URL is required (for example redis://127.0.0.1:6379)");
	return {
		redisUrl,
		nodeId: optional(env, "SFU_NODE_ID") ?? hostname(),
		signalingHost: optional(env, "SFU_SIGNALING_HOST") ?? "127.0.0.1",
		signalingPort: integer(env, "SFU_SIGNALING_PORT", 4001, 0, 65535),
		signalingUrl: optional(env, "SFU_SIGNALING_URL"),
		publicUrl: optional(env, "SFU_PUBLIC_URL"),
		workers: integer(env, "SFU_WORKERS", Math.max(1, cpus().length), 1, 64),
		listenIp: optional(env, "SFU_LISTEN_IP") ?? "127.0.0.1",
		announcedAddress: optional(env, "SFU_ANNOUNCED_ADDRESS"),
		extraAddresses: extraAddresses(env, optional(env, "SFU_LISTEN_IP") ?? "127.0.0.1"),
		rtcPort: integer(env, "SFU_RTC_PORT", 40000, 0, 65535),
		workerBin: optional(env, "MEDIASOUP_WORKER_BIN"),
		logLevel: optional(env, "LOG_LEVEL") ?? "info",
		hostHandoverGraceMs: seconds(env, "HOST_HANDOVER_GRACE_SECONDS", 10, 0, 3600),
		roomOccupiedTtlMs: seconds(env, "ROOM_OCCUPIED_TTL_SECONDS", 120, 15, 86_400),
		roomGraceMs: seconds(env, "ROOM_GRACE_SECONDS", 60, 0.1, 86_400),
		// mediasoup's AudioLevelObserver takes whole dBov from -127 (silence) to 0 (loudest).
		speakingThresholdDbov: signedInteger(env, "SPEAKING_THRESHOLD_DBOV", -55, -127, 0),
		heartbeatIntervalMs: seconds(env, "SFU_HEARTBEAT_SECONDS", 5, 0.1, 5),
		keepaliveIntervalMs: seconds(env, "SIGNALING_KEEPALIVE_SECONDS", 10, 0.1, 600),
		keepaliveGraceMs: seconds(env, "SIGNALING_KEEPALIVE_GRACE_SECONDS", 10, 0.1, 600),
		roomMaxPeers: integer(env, "ROOM_MAX_PEERS", roomMaxPeersDefault, roomMaxPeersRange.min, roomMaxPeersRange.max),
		maxRooms: integer(env, "SFU_MAX_ROOMS", 200, 1, 100_000),
		roomPeersPerRouter: integer(env, "SFU_ROOM_PEERS_PER_ROUTER", 16, 1, 1000),
		requestLimits: {
			burst: integer(env, "SIGNALING_REQUEST_BURST", 50, 1, 100_000),
			perSecond: integer(env, "SIGNALING_REQUESTS_PER_SECOND", 20, 1, 100_000),
			floodRefusals: integer(env, "SIGNALING_FLOOD_REFUSALS", 100, 1, 1_000_000),
			floodWindowMs: seconds(env, "SIGNALING_FLOOD_WINDOW_SECONDS", 10, 0.1, 3600),
		},
	};
}
