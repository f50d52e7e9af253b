/**
 * Shared set-up for the API tests: a real redis-server, the production Redis
 * client, the app built with `buildApi` from a config parsed by `loadApiConfig`.
 */

import { setTimeout as sleep } from "node:timers/promises";
import {
	type CreateRoomResponse,
	type KnockResponse,
	type LobbyGuestEvent,
	type RoomPresence,
	redisKeys,
	type SfuNodeStatus,
} from "@mindmeet/protocol";
import { type RedisServer, startRedis } from "@mindmeet/testing/redis";
import type { FastifyInstance } from "fastify";
import { type Logger, pino } from "pino";
import WebSocket from "ws";
import { buildApi } from "../src/app.ts";
import { type ApiConfig, loadApiConfig } from "../src/config.ts";
import { type ApiRedisClient, createApiRedis } from "../src/redis.ts";

export const publicUrl = "https://meet.example.test";

export interface TestApi {
	app: FastifyInstance;
	config: ApiConfig;
	redis: ApiRedisClient;
	redisServer: RedisServer;
	close(): Promise<void>;
}

export async function startTestApi(env: Record<string, string> = {}, logger?: Logger): Promise<TestApi> {
	const redisServer = await startRedis();
	const config = loadApiConfig({
		REDIS_URL: redisServer.url,
		PORT: "0",
		HOST: "127.0.0.1",
		PUBLIC_URL: publicUrl,
		LOG_LEVEL: "silent",
		...env,
	});
	const log = logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
	const redis = createApiRedis(config.redisUrl, log);
	await redis.connect();
	const app = await buildApi({ config, redis, logger: log });
	return {
		app,
		config,
		redis,
		redisServer,
		async close() {
			await app.close();
			redis.destroy();
			await redisServer.stop();
		},
	};
}

/** Register an SFU node the way a node does: a JSON SfuNodeStatus in the registry hash. */
export async function registerNode(
	redis: ApiRedisClient,
	node: Partial<SfuNodeStatus> & { id: string },
): Promise<SfuNodeStatus> {
	const status: SfuNodeStatus = {
		signalingUrl: `ws://127.0.0.1:1/${node.id}`,
		peers: 0,
		rooms: 0,
		workers: 1,
		heartbeatAt: Date.now(),
		...node,
	};
	await redis.hSet(redisKeys.sfuNodes, status.id, JSON.stringify(status));
	return status;
}

export async function clearNodes(redis: ApiRedisClient): Promise<void> {
	await redis.del(redisKeys.sfuNodes);
}

/** Listen on a free port (for real WebSocket clients) and return the ws:// base URL. */
export async function listen(api: Pick<TestApi, "app">): Promise<string> {
	await api.app.listen({ port: 0, host: "127.0.0.1" });
	const address = api.app.server.address();
	if (!address || typeof address !== "object") throw new Error("the API is not listening on a TCP port");
	return `ws://127.0.0.1:${address.port}`;
}

/** Create a room through the API (a node must be registered). */
export async function createRoom(api: TestApi, hostName = "Host"): Promise<CreateRoomResponse> {
	const res = await api.app.inject({ method: "POST", url: "/api/rooms", payload: { hostName, mode: "video" } });
	if (res.statusCode !== 201) throw new Error(`room creation answered ${res.statusCode}: ${res.body}`);
	return res.json<CreateRoomResponse>();
}

/** Knock through the API; `remoteAddress` picks the client address the rate limit counts. */
export async function knock(
	api: Pick<TestApi, "app">,
	roomId: string,
	name: string,
	remoteAddress = "127.0.0.1",
): Promise<KnockResponse> {
	const res = await api.app.inject({
		method: "POST",
		url: `/api/rooms/${roomId}/knocks`,
		payload: { name },
		remoteAddress,
	});
	if (res.statusCode !== 201) throw new Error(`knock answered ${res.statusCode}: ${res.body}`);
	return res.json<KnockResponse>();
}

/** Admit or deny a knock with a bearer token. */
export function decide(
	api: Pick<TestApi, "app">,
	roomId: string,
	knockId: string,
	decision: "admit" | "deny",
	token: string,
) {
	return api.app.inject({
		method: "POST",
		url: `/api/rooms/${roomId}/knocks/${knockId}/${decision}`,
		headers: { authorization: `Bearer ${token}` },
	});
}

export interface WatchedSocket<T> {
	socket: WebSocket;
	/** The next message, parsed; rejects if the socket closes first. */
	next(): Promise<T>;
	/** Every message received so far and not yet taken by next(). */
	queued(): T[];
	closed: Promise<{ code: number; reason: string }>;
}

/**
 * Queue every message and the close of a client socket from the moment it is
 * created, so nothing is missed between awaits.
 */
export function watchSocket<T = unknown>(url: string): WatchedSocket<T> {
	const socket = new WebSocket(url);
	const queue: T[] = [];
	const waiters: { resolve: (message: T) => void; reject: (error: Error) => void }[] = [];
	let closedWith: { code: number; reason: string } | undefined;
	socket.on("message", (data) => {
		const message = JSON.parse(data.toString()) as T;
		const waiter = waiters.shift();
		if (waiter) waiter.resolve(message);
		else queue.push(message);
	});
	socket.on("error", () => {});
	const closed = new Promise<{ code: number; reason: string }>((resolve) => {
		socket.on("close", (code, reason) => {
			closedWith = { code, reason: reason.toString() };
			for (const waiter of waiters.splice(0)) {
				waiter.reject(new Error(`socket closed (${code} ${reason.toString()}) before the expected message`));
			}
			resolve(closedWith);
		});
	});
	return {
		socket,
		next() {
			const queued = queue.shift();
			if (queued !== undefined) return Promise.resolve(queued);
			if (closedWith) {
				return Promise.reject(new Error(`socket closed (${closedWith.code} ${closedWith.reason}) before the message`));
			}
			return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
		},
		queued: () => [...queue],
		closed,
	};
}

/** Poll `check` until it holds; a bounded number of tries, no duration asserted. */
export async function eventually(check: () => Promise<boolean> | boolean, what: string, tries = 200): Promise<void> {
	for (let i = 0; i < tries; i++) {
		if (await check()) return;
		await sleep(25);
	}
	throw new Error(`never happened: ${what}`);
}

/**
 * Everything in Redis as one comparable value (every key with its type and
 * contents), to check that a refused request changed nothing at all.
 */
export async function redisContents(redis: ApiRedisClient): Promise<Record<string, unknown>> {
	const contents: Record<string, unknown> = {};
	for (const key of (await redis.keys("*")).sort()) {
		const type = await redis.type(key);
		if (type === "string") contents[key] = await redis.get(key);
		else if (type === "set") contents[key] = (await redis.sMembers(key)).sort();
		else if (type === "hash") contents[key] = await redis.hGetAll(key);
		else if (type === "zset") contents[key] = await redis.zRangeWithScores(key, 0, -1);
		else if (type === "list") contents[key] = await redis.lRange(key, 0, -1);
		else contents[key] = type;
	}
	return contents;
}

/** A RoomPresence entry the way the SFU writes it. */
export async function addPresence(
	redis: ApiRedisClient,
	roomId: string,
	presence: Partial<RoomPresence> & { peerId: string },
): Promise<RoomPresence> {
	const full: RoomPresence = { name: "Someone", role: "guest", joinedAt: Date.now(), producers: [], ...presence };
	await redis.hSet(redisKeys.roomPeers(roomId), full.peerId, JSON.stringify(full));
	return full;
}

/** Knock, wait and get admitted by the host: the guest's peer id and token, as the browser would hold them. */
export async function admitGuest(
	api: TestApi,
	base: string,
	roomId: string,
	hostToken: string,
	name = "Guest",
): Promise<{ peerId: string; token: string }> {
	const k = await knock(api, roomId, name);
	const wait = watchSocket<LobbyGuestEvent>(
		`${base}/api/rooms/${roomId}/knocks/${k.knockId}/wait?secret=${encodeURIComponent(k.knockSecret)}`,
	);
	const waiting = await wait.next();
	if (waiting.type !== "waiting") throw new Error(`expected waiting, got ${waiting.type}`);
	const admit = await decide(api, roomId, k.knockId, "admit", hostToken);
	if (admit.statusCode !== 200) throw new Error(`admit answered ${admit.statusCode}: ${admit.body}`);
	const answer = await wait.next();
	if (answer.type !== "admitted") throw new Error(`expected admitted, got ${answer.type}`);
	await wait.closed;
	return { peerId: answer.peerId, token: answer.token };
}

/** `POST /api/rooms/:roomId/token` with the token as bearer (none when undefined). */
export function renewToken(api: Pick<TestApi, "app">, roomId: string, token: string | undefined) {
	return api.app.inject({
		method: "POST",
		url: `/api/rooms/${roomId}/token`,
		headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
	});
}
