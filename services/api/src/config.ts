/**
 * The API's environment, parsed and checked once at start. Every variable,
 * `.env` style, with its default:
 *
 *   PORT=3000               TCP port (0 = any free port)
 *   HOST=0.0.0.0            interface to bind
 *   REDIS_URL=              required: redis://host:port
 *   PUBLIC_URL=http://localhost:$PORT   origin browsers see; links are built from it
 *   WEB_DIST=<repo>/web/dist            built web app
 *   GUEST_TOKEN_TTL=600     seconds a guest's token (minted on admission) is valid
 *   HOST_TOKEN_TTL=43200    seconds a host's token is valid
 *   ROOM_TTL=1800           seconds a room nobody enters lives (the SFU manages it once people are in)
 *   KNOCK_TIMEOUT=120       seconds a knock waits for the host's answer
 *   KNOCK_RATE_LIMIT=10     knocks per minute from one client address (IPv6: per /64)
 *   KNOCKS_PENDING_MAX=20   knocks that may wait in one room at once; the next gets 429
 *   ROOM_MAX_PEERS=50       people one room takes (the SFU's cap, same variable; one place kept for an
 *                           absent host): knocks and admissions into a full room get 409 room-full
 *   TRUST_PROXY=false       true only behind a proxy that sets X-Forwarded-For (compose: Caddy)
 *   ADMIN_TOKEN=            bearer token for /api/admin/*, >= 16 characters; unset disables
 *                           the admin API, and production (NODE_ENV=production) refuses to start
 *   TURN_URLS=              comma-separated turn:/turns:/stun: URLs handed to browsers; empty = no TURN
 *   TURN_SECRET=            coturn's static-auth-secret; required when TURN_URLS is set
 *   SIGNALING_PING_INTERVAL=15  seconds between pings of each proxied signaling socket (/sfu/:nodeId);
 *                           one that misses a ping is cut (at most about twice this after its network
 *                           vanished), so the SFU drops the peer instead of keeping a ghost in the call
 *   SFU_NODE_STALE_SECONDS=15  an SFU node silent this long is gone: no new rooms there, and its rooms move
 *                           to a live node as their people reconnect (at least 3 of the nodes' heartbeats)
 *   TOKEN_RENEWALS_PER_MINUTE=10  token renewals (POST /api/rooms/:roomId/token) one peer may make per
 *                           minute, per API instance; clients renew at half a token's life, plus reconnects
 *   ROOM_CREATION=open      who may create rooms: open (anyone; rate-limited per address), password (one
 *                           host password for the team, ROOM_CREATION_PASSWORD) or accounts (host accounts,
 *                           managed with /api/admin/accounts or `./mindmeet accounts`). Guests never sign in.
 *   ROOM_CREATION_PASSWORD= the team's host password, >= 8 characters; required with ROOM_CREATION=password
 *                           (the API refuses to start without it). Only its scrypt hash is kept in memory.
 *   ROOM_CREATE_RATE_LIMIT=20  rooms per minute from one client address (IPv6: one /64), in every mode
 *   SIGN_IN_RATE_LIMIT=10   host sign-in attempts (POST /api/session) per minute from one address (IPv6: /64)
 *   HOST_SESSION_TTL=2592000  seconds a host's sign-in (kept by the browser) stays valid: 30 days
 *   LOG_LEVEL=info          fatal, error, warn, info, debug, trace, silent
 *   NODE_ENV=development
 */
import { resolve } from "node:path";
import { type RoomCreationMode, roomMaxPeersDefault, roomMaxPeersRange, sfuNodeStaleMs } from "@mindmeet/protocol";

/** Everything the API reads from its environment, parsed and checked once at start. */
export interface ApiConfig {
	/** TCP port to listen on (0 = any free port). */
	port: number;
	/** Interface to bind. */
	host: string;
	redisUrl: string;
	/** Origin the browser sees (scheme://host[:port]), without a trailing slash; links are built from it. */
	publicUrl: string;
	/** Directory holding the built web app (index.html, assets/). */
	webDist: string;
	/** Lifetime of a guest's media token, seconds. */
	guestTokenTtl: number;
	/** Lifetime of a host's token, seconds; also the longest token the signer will mint. */
	hostTokenTtl: number;
	/**
	 * How long a room nobody enters lives, seconds. Once people are in the call
	 * the SFU keeps refreshing the room's TTL itself, so this only bounds rooms
	 * that were created and never used.
	 */
	roomTtl: number;
	/** How long a knock waits for the host's answer before it expires, seconds. */
	knockTimeout: number;
	/** Knocks one client address may send per minute. */
	knockRateLimit: number;
	/** KNOCKS_PENDING_MAX: knocks that may wait in one room at once. */
	knocksPendingMax: number;
	/**
	 * ROOM_MAX_PEERS: people one room takes, the same variable (and default)
	 * as the SFU's cap, so the lobby never admits a guest the SFU would
	 * refuse `room-full`.
	 */
	roomMaxPeers: number;
	/**
	 * Whether to take the client address from X-Forwarded-For. Only true behind
	 * a reverse proxy that sets it (compose: Caddy); otherwise anyone could pick
	 * the address the knock rate limit counts against.
	 */
	trustProxy: boolean;
	/** Bearer token for /api/admin/*; undefined disables the admin API (refused in production). */
	adminToken: string | undefined;
	/** TURN relay handed to browsers, or undefined when none is configured. */
	turn: TurnConfig | undefined;
	/**
	 * Seconds between pings of each proxied signaling socket. A browser whose
	 * network vanished sends no close: without pings its socket (and its place
	 * in the call) would linger until TCP gives up, many minutes later.
	 */
	signalingPingInterval: number;
	/**
	 * SFU_NODE_STALE_SECONDS (default 15, the protocol's sfuNodeStaleMs): an
	 * SFU node whose heartbeat is older than this is treated as gone: no new
	 * room goes there, and its rooms are placed on a live node as their people
	 * reconnect. Keep it at least three of the nodes' SFU_HEARTBEAT_SECONDS, or
	 * a busy node loses its rooms. Held in milliseconds. Tests shorten it.
	 */
	sfuNodeStaleMs: number;
	/**
	 * Token renewals one peer may make per minute (per API instance). A client
	 * renews at half its token's life and after reconnects, so a handful is
	 * plenty; the bound keeps a stolen-but-valid token from minting in a loop.
	 */
	tokenRenewalsPerMinute: number;
	/** Who may create rooms, and how hosts prove it. */
	roomCreation: RoomCreationConfig;
	/** Rooms one client address (IPv6: one /64) may create per minute (per API instance). */
	roomCreateRateLimit: number;
	/** Sign-in attempts one client address (IPv6: one /64) may make per minute (per API instance). */
	signInRateLimit: number;
	/** How long a host's sign-in stays valid, seconds. */
	hostSessionTtl: number;
	logLevel: LogLevel;
	nodeEnv: string;
}

/**
 * `password` carries the team password as read from the environment: the API
 * hashes it at start and keeps only the hash (accounts/gate.ts).
 */
export type RoomCreationConfig =
	| { mode: Exclude<RoomCreationMode, "password"> }
	| { mode: "password"; password: string };

/** Shortest host password accepted (team password and account passwords alike). */
export const hostPasswordMinLength = 8;

export interface TurnConfig {
	/** turn:/turns:/stun: URLs, in the order browsers should try them. */
	urls: string[];
	/** coturn's static-auth-secret: credentials are derived from it, never sent. */
	secret: string;
}

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

/** Default location of the built web app: `web/dist` at the repository root. */
export const defaultWebDist = resolve(import.meta.dirname, "../../../web/dist");

function value(env: NodeJS.ProcessEnv, name: string): string | undefined {
	const raw = env[name]?.trim();
	return raw ? raw : undefined;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
	const raw = value(env, name);
	if (raw === undefined) return fallback;
	const parsed = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
	if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
		throw new Error(`${name} must be a whole number between ${min} and ${max}, got ${JSON.stringify(raw)}`);
	}
	return parsed;
}

function boolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
	const raw = value(env, name)?.toLowerCase();
	if (raw === undefined) return fallback;
	if (raw === "true" || raw === "1" || raw === "yes") return true;
	if (raw === "false" || raw === "0" || raw === "no") return false;
	throw new Error(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

/** Shortest ADMIN_TOKEN accepted: anything shorter could be guessed by trying. */
export const adminTokenMinLength = 16;

function adminToken(env: NodeJS.ProcessEnv, production: boolean): string | undefined {
	const token = value(env, "ADMIN_TOKEN");
	if (token === undefined) {
		if (production) {
			throw new Error(
				"ADMIN_TOKEN is not set: production needs a bearer token for the admin API (generate one with openssl rand -hex 32)",
			);
		}
		return undefined;
	}
	if (token.length < adminTokenMinLength || /\s/.test(token)) {
		throw new Error(
			`ADMIN_TOKEN must be at least ${adminTokenMinLength} characters without spaces (generate one with openssl rand -hex 32)`,
		);
	}
	return token;
}

const roomCreationModes: readonly RoomCreationMode[] = ["open", "password", "accounts"];

function roomCreation(env: NodeJS.ProcessEnv): RoomCreationConfig {
	const mode = value(env, "ROOM_CREATION") ?? "open";
	if (!(roomCreationModes as readonly string[]).includes(mode)) {
		throw new Error(`ROOM_CREATION must be one of ${roomCreationModes.join(", ")}, got ${JSON.stringify(mode)}`);
	}
	if (mode !== "password") return { mode: mode as Exclude<RoomCreationMode, "password"> };
	// Not trimmed beyond what value() does: a password is taken as written.
	const password = value(env, "ROOM_CREATION_PASSWORD");
	if (password === undefined) {
		throw new Error(
			"ROOM_CREATION=password but ROOM_CREATION_PASSWORD is not set: set the team's host password (at least " +
				`${hostPasswordMinLength} characters), or choose ROOM_CREATION=accounts or open`,
		);
	}
	if ([...password].length < hostPasswordMinLength || [...password].length > 256) {
		throw new Error(`ROOM_CREATION_PASSWORD must be ${hostPasswordMinLength} to 256 characters`);
	}
	return { mode: "password", password };
}

function turn(env: NodeJS.ProcessEnv): TurnConfig | undefined {
	const rawUrls = value(env, "TURN_URLS");
	const secret = value(env, "TURN_SECRET");
	// A secret alone is fine (coturn may run for another deployment); URLs without a secret are unusable.
	if (rawUrls === undefined) return undefined;
	if (secret === undefined) throw new Error("TURN_URLS is set but TURN_SECRET is not: set both, or neither");
	const urls = rawUrls
		.split(",")
		.map((url) => url.trim())
		.filter(Boolean);
	for (const url of urls) {
		if (!/^(?:turns?|stuns?):[^\s]+$/.test(url)) {
			throw new Error(
				`TURN_URLS must be comma-separated turn:, turns: or stun: URLs such as turn:meet.example.org:3478, got ${JSON.stringify(url)}`,
			);
		}
	}
	return { urls, secret };
}

function httpOrigin(name: string, raw: string): string {
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw new Error(
			`${name} must be an absolute http(s) URL such as https://meet.example.org, got ${JSON.stringify(raw)}`,
		);
	}
	if (url.protocol !== "http:" && url.protocol !== "https:") {
		throw new Error(`${name} must start with http:// or https://, got ${JSON.stringify(raw)}`);
	}
	if (url.search || url.hash) throw new Error(`${name} must not carry a query or fragment`);
	return raw.replace(/\/+$/, "");
}

/** Parse the API's environment. Throws an Error naming the variable on anything invalid. */
export function loadApiConfig(env: NodeJS.ProcessEnv): ApiConfig {
	const port = integer(env, "PORT", 3000, 0, 65535);

	const redisUrl = value(env, "REDIS_URL");
	if (redisUrl === undefined) {
		throw new Error("REDIS_URL is not set: point it at a Redis server, for example redis://127.0.0.1:6379");
	}
	if (!/^rediss?:\/\//.test(redisUrl)) {
		throw new Error("REDIS_URL must start with redis:// or rediss://");
	}

	const hostTokenTtl = integer(env, "HOST_TOKEN_TTL", 43_200, 60, 30 * 86_400);
	const guestTokenTtl = integer(env, "GUEST_TOKEN_TTL", 600, 10, 30 * 86_400);
	if (guestTokenTtl > hostTokenTtl) {
		throw new Error(`GUEST_TOKEN_TTL (${guestTokenTtl}) must not exceed HOST_TOKEN_TTL (${hostTokenTtl})`);
	}

	const nodeEnv = value(env, "NODE_ENV") ?? "development";

	const logLevel = value(env, "LOG_LEVEL") ?? "info";
	if (!(logLevels as readonly string[]).includes(logLevel)) {
		throw new Error(`LOG_LEVEL must be one of ${logLevels.join(", ")}, got ${JSON.stringify(logLevel)}`);
	}

	return {
		port,
		host: value(env, "HOST") ?? "0.0.0.0",
		redisUrl,
		publicUrl: httpOrigin("PUBLIC_URL", value(env, "PUBLIC_URL") ?? `http://localhost:${port}`),
		webDist: resolve(value(env, "WEB_DIST") ?? defaultWebDist),
		guestTokenTtl,
		hostTokenTtl,
		roomTtl: integer(env, "ROOM_TTL", 1_800, 60, 365 * 86_400),
		knockTimeout: integer(env, "KNOCK_TIMEOUT", 120, 1, 3_600),
		knockRateLimit: integer(env, "KNOCK_RATE_LIMIT", 10, 1, 100_000),
		knocksPendingMax: integer(env, "KNOCKS_PENDING_MAX", 20, 1, 10_000),
		roomMaxPeers: integer(env, "ROOM_MAX_PEERS", roomMaxPeersDefault, roomMaxPeersRange.min, roomMaxPeersRange.max),
		trustProxy: boolean(env, "TRUST_PROXY", false),
		adminToken: adminToken(env, nodeEnv === "production"),
		turn: turn(env),
		signalingPingInterval: integer(env, "SIGNALING_PING_INTERVAL", 15, 1, 3_600),
		sfuNodeStaleMs: integer(env, "SFU_NODE_STALE_SECONDS", sfuNodeStaleMs / 1000, 1, 3_600) * 1000,
		tokenRenewalsPerMinute: integer(env, "TOKEN_RENEWALS_PER_MINUTE", 10, 1, 100_000),
		roomCreation: roomCreation(env),
		roomCreateRateLimit: integer(env, "ROOM_CREATE_RATE_LIMIT", 20, 1, 100_000),
		signInRateLimit: integer(env, "SIGN_IN_RATE_LIMIT", 10, 1, 100_000),
		hostSessionTtl: integer(env, "HOST_SESSION_TTL", 30 * 86_400, 60, 365 * 86_400),
		logLevel: logLevel as LogLevel,
		nodeEnv,
	};
}
