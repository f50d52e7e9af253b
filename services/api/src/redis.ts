/**
 * The API's view of Redis: the handful of commands it uses (any node-redis
 * client satisfies it), how the production client is made, and which errors
 * mean "storage is unreachable" rather than a bug.
 */
import type { KeyValueClient } from "@mindmeet/protocol/token-keys";
import type { BaseLogger, Logger } from "pino";
import {
	ClientClosedError,
	ClientOfflineError,
	ConnectionTimeoutError,
	createClient,
	DisconnectsClientError,
	ReconnectStrategyError,
	SocketClosedUnexpectedlyError,
	SocketTimeoutError,
	TimeoutError,
} from "redis";

export interface ApiRedisSetOptions {
	condition?: "NX" | "XX";
	expiration?: { type: "EX" | "PX"; value: number };
	EX?: number;
}

/** Called with each message published on a channel. */
export type ChannelListener = (message: string, channel: string) => unknown;

/** A dedicated connection for pub/sub (a client in subscriber mode can run nothing else). */
export interface ApiRedisSubscriber {
	connect(): Promise<unknown>;
	subscribe(channel: string, listener: ChannelListener): Promise<void>;
	unsubscribe(channel: string, listener: ChannelListener): Promise<void>;
	destroy(): void;
	on(event: "error", listener: (error: unknown) => void): unknown;
	on(event: "ready", listener: () => void): unknown;
}

/** Arguments of EVAL: keys the script touches, then plain arguments. */
export interface EvalArguments {
	keys: string[];
	arguments: string[];
}

/** Redis commands the API needs. A node-redis client (`createClient()`) satisfies this. */
export interface ApiRedis extends KeyValueClient {
	set(key: string, value: string, options: ApiRedisSetOptions): Promise<unknown>;
	del(keys: string | string[]): Promise<number>;
	exists(keys: string | string[]): Promise<number>;
	pTTL(key: string): Promise<number>;
	sAdd(key: string, members: string | string[]): Promise<number>;
	sRem(key: string, members: string | string[]): Promise<number>;
	sMembers(key: string): Promise<string[]>;
	sIsMember(key: string, member: string): Promise<number>;
	hGet(key: string, field: string): Promise<string | null | undefined>;
	hGetAll(key: string): Promise<Record<string, string>>;
	hLen(key: string): Promise<number>;
	hExists(key: string, field: string): Promise<number>;
	zRange(key: string, start: number, stop: number): Promise<string[]>;
	zCard(key: string): Promise<number>;
	zRem(key: string, members: string | string[]): Promise<number>;
	eval(script: string, options: EvalArguments): Promise<unknown>;
	publish(channel: string, message: string): Promise<number>;
	ping(): Promise<string>;
	/** A new connection with the same options, for subscribing. */
	duplicate(): ApiRedisSubscriber;
	/** `ready` fires on every (re)connection: Redis may have come back empty. */
	on(event: "ready", listener: () => void): unknown;
}

/** How long one command may take before the API gives up on it, ms. */
const commandTimeoutMs = 5_000;

/**
 * Client used by `main.ts`: commands fail at once while disconnected (no
 * offline queue, so requests answer 503 instead of hanging), reconnects with a
 * capped backoff, logs the outage once and the recovery once.
 */
export function createApiRedis(url: string, logger: Logger) {
	const client = createClient({
		url,
		disableOfflineQueue: true,
		commandOptions: { timeout: commandTimeoutMs },
		socket: {
			connectTimeout: 5_000,
			reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000) + Math.floor(Math.random() * 100),
		},
	});
	logAvailability(client, logger, "redis");
	return client;
}

/**
 * Log a connection's outage once and its recovery once. Also the listener
 * without which an `error` event would crash the process: connections made
 * with `duplicate()` need it too (listeners are not copied).
 */
export function logAvailability(
	client: Pick<ApiRedisSubscriber, "on">,
	logger: Pick<BaseLogger, "debug" | "error" | "info">,
	what: string,
): void {
	let down = false;
	client.on("error", (error: unknown) => {
		if (down) {
			logger.debug({ error: describeError(error) }, `${what} still unreachable`);
			return;
		}
		down = true;
		logger.error({ error: describeError(error) }, `${what} unavailable, reconnecting`);
	});
	client.on("ready", () => {
		if (down) logger.info(`${what} reconnected`);
		down = false;
	});
}

export type ApiRedisClient = ReturnType<typeof createApiRedis>;

const unavailableErrors = [
	ClientClosedError,
	ClientOfflineError,
	ConnectionTimeoutError,
	DisconnectsClientError,
	ReconnectStrategyError,
	SocketClosedUnexpectedlyError,
	SocketTimeoutError,
	TimeoutError,
];
const unavailableCodes = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENOTCONN"]);

/** True when an error means Redis cannot be reached right now (as opposed to a bad command or a bug). */
export function isStorageUnavailable(error: unknown): boolean {
	if (!(error instanceof Error)) return false;
	if (unavailableErrors.some((type) => error instanceof type)) return true;
	const code = (error as { code?: unknown }).code;
	return typeof code === "string" && unavailableCodes.has(code);
}

/** Error summary safe to log: class and message, never a command's arguments. */
export function describeError(error: unknown): { type: string; message: string; code?: string } {
	if (!(error instanceof Error)) return { type: typeof error, message: String(error) };
	const code = (error as { code?: unknown }).code;
	return {
		type: error.constructor.name,
		message: error.message,
		...(typeof code === "string" ? { code } : {}),
	};
}
