import { resolve } from "node:path";

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
	/** Lifetime of a room record in Redis, seconds. */
	roomTtl: number;
	logLevel: LogLevel;
	nodeEnv: string;
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
		roomTtl: integer(env, "ROOM_TTL", 86_400, 60, 365 * 86_400),
		logLevel: logLevel as LogLevel,
		nodeEnv: value(env, "NODE_ENV") ?? "development",
	};
}
