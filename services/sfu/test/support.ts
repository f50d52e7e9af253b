/**
 * Test rig for the SFU: a real redis-server, the real mediasoup worker,
 * tokens signed by the same signer the API uses, and protoo-client peers.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createRequire } from "node:module";
import {
	type ClientRequestMethod,
	type ClientRequests,
	type RoomMode,
	redisKeys,
	type ServerNotifications,
	type StoredRoom,
	signalingRoomParam,
	signalingTokenParam,
} from "@mindmeet/protocol";
import { redisPublicKeyStore, TokenSigner } from "@mindmeet/protocol/token-keys";
import { type RedisServer, startRedis } from "@mindmeet/testing/redis";
import type { RtpCapabilities, RtpParameters } from "mediasoup-client/types";
import { pino } from "pino";
import { Peer as ProtooClient, WebSocketTransport } from "protoo-client";
import { createClient } from "redis";
import { loadSfuConfig } from "../src/config.ts";
import { type Sfu, startSfu } from "../src/sfu.ts";

/**
 * protoo-client numbers each request with a random integer below 10^7. With
 * the thousands of concurrent requests these tests send on one connection,
 * two share an id in about one run in five: the client keeps one of them, and
 * the other waits for protoo's timeout (over five minutes with 2,000 pending).
 * Number them in order instead; the server sees ordinary protoo requests.
 */
const protooMessage = createRequire(import.meta.url)("protoo-client/lib/Message.js") as {
	createRequest(method: string, data: unknown): { id: number };
};
const randomlyNumbered = protooMessage.createRequest.bind(protooMessage);
let nextRequestId = 1;
protooMessage.createRequest = (method, data) => ({ ...randomlyNumbered(method, data), id: nextRequestId++ });

function redisClient(url: string) {
	const client = createClient({ url, disableOfflineQueue: true });
	client.on("error", () => {});
	return client;
}
export type RedisClient = ReturnType<typeof redisClient>;

export interface Rig {
	redisServer: RedisServer;
	redis: RedisClient;
	sfu: Sfu;
	signer: TokenSigner;
	/** Room id → the peer id createRoom made it for (the first host). */
	hosts: Map<string, string>;
	/** Every log line the SFU wrote (JSON, debug level and up), when started with `logs: true`. */
	logs: string[];
	close(): Promise<void>;
}

/**
 * `env` overrides the SFU's configuration variables, e.g. a short
 * HOST_HANDOVER_GRACE_SECONDS or ROOM_GRACE_SECONDS for lifetime tests.
 * `logs` keeps the SFU's log lines in `rig.logs`, to check what is (never) logged.
 */
export async function startRig(
	options: { workers?: number; env?: Record<string, string>; logs?: boolean } = {},
): Promise<Rig> {
	if (!process.env.MEDIASOUP_WORKER_BIN) {
		// Not a skip: the suite fails and says how to fix it.
		throw new Error(
			"MEDIASOUP_WORKER_BIN is not set: build the mediasoup worker and export MEDIASOUP_WORKER_BIN=/path/to/mediasoup-worker",
		);
	}
	const redisServer = await startRedis();
	const redis = redisClient(redisServer.url);
	await redis.connect();
	const config = loadSfuConfig({
		REDIS_URL: redisServer.url,
		SFU_NODE_ID: "test-node",
		SFU_SIGNALING_PORT: "0",
		SFU_RTC_PORT: "0",
		SFU_WORKERS: String(options.workers ?? 1),
		MEDIASOUP_WORKER_BIN: process.env.MEDIASOUP_WORKER_BIN,
		...options.env,
	});
	const logs: string[] = [];
	const logger = options.logs
		? pino({ level: "debug" }, { write: (line: string) => void logs.push(line) })
		: pino({ level: "silent" });
	const sfu = await startSfu(config, { redis, logger });
	const signer = await TokenSigner.create(redisPublicKeyStore(redis), 3600);
	return {
		redisServer,
		redis,
		sfu,
		signer,
		hosts: new Map(),
		logs,
		async close() {
			await sfu.close();
			// quit() waits for a reconnecting client forever; after a Redis restart, give it a moment, then drop it.
			const quit = redis.quit().catch(() => {});
			const gaveUp = await Promise.race([
				quit.then(() => false),
				new Promise((resolve) => setTimeout(resolve, 2000, true)),
			]);
			if (gaveUp) redis.destroy();
			await redisServer.stop();
		},
	};
}

let roomCounter = 0;

/** Store a room record and its host key the way the API does; the host's peer id is in `rig.hosts`. */
export async function createRoom(rig: Rig, mode: RoomMode = "video"): Promise<string> {
	roomCounter += 1;
	const id = `room${String(roomCounter).padStart(6, "0")}`;
	const hostPeerId = `host-${randomUUID().slice(0, 8)}`;
	const room: StoredRoom = { id, mode, hostName: "Host", createdAt: Date.now(), sfuNode: rig.sfu.nodeId, hostPeerId };
	await rig.redis.set(redisKeys.room(id), JSON.stringify(room), { EX: 600 });
	await rig.redis.set(redisKeys.roomHost(id), hostPeerId, { EX: 600 });
	rig.hosts.set(id, hostPeerId);
	return id;
}

export async function mint(
	rig: Rig,
	room: string,
	options: { name?: string; role?: "host" | "guest"; peerId?: string } = {},
): Promise<{ token: string; peerId: string }> {
	// A host token is for the peer id the room was created for, as the API mints it.
	const hostPeerId = options.role === "host" ? rig.hosts.get(room) : undefined;
	const peerId = options.peerId ?? hostPeerId ?? randomUUID().slice(0, 12);
	const { token } = await rig.signer.sign({
		room,
		peerId,
		name: options.name ?? "Ana",
		role: options.role ?? "guest",
		ttlSeconds: 300,
	});
	return { token, peerId };
}

export function signalingUrl(rig: Rig, params: { token?: string; roomId?: string }): string {
	const url = new URL(rig.sfu.signalingUrl);
	if (params.token !== undefined) url.searchParams.set(signalingTokenParam, params.token);
	if (params.roomId !== undefined) url.searchParams.set(signalingRoomParam, params.roomId);
	return url.toString();
}

interface Received {
	method: string;
	data: unknown;
}

/** A protoo client that records notifications and answers server requests. */
export class TestPeer {
	readonly client: ProtooClient;
	readonly notifications: Received[] = [];
	readonly serverRequests: Received[] = [];
	#closed = false;

	constructor(url: string) {
		this.client = new ProtooClient(new WebSocketTransport(url, { retry: { retries: 0 } }));
		this.client.on("notification", (notification) => {
			this.notifications.push({ method: notification.method, data: notification.data });
		});
		this.client.on("request", (request, accept) => {
			this.serverRequests.push({ method: request.method, data: request.data });
			accept();
		});
		this.client.on("close", () => {
			this.#closed = true;
		});
	}

	get closed(): boolean {
		return this.#closed;
	}

	async opened(): Promise<void> {
		if (this.client.connected) return;
		await once(this.client as unknown as NodeJS.EventEmitter, "open");
	}

	async closedEvent(): Promise<void> {
		if (this.#closed) return;
		await once(this.client as unknown as NodeJS.EventEmitter, "close");
	}

	request<M extends ClientRequestMethod>(
		method: M,
		data: ClientRequests[M]["request"],
	): Promise<ClientRequests[M]["response"]> {
		return this.client.request(method, data);
	}

	/** Send any method and data, for bad-input tests. */
	rawRequest(method: string, data: unknown): Promise<unknown> {
		return this.client.request(method, data);
	}

	/**
	 * Wait until a notification of `method` arrives (or has arrived) matching
	 * `where`; with `from`, only among notifications from that index on.
	 */
	async notification<M extends keyof ServerNotifications>(
		method: M,
		where: (data: ServerNotifications[M]) => boolean = () => true,
		from = 0,
	): Promise<ServerNotifications[M]> {
		for (;;) {
			const found = this.notifications
				.slice(from)
				.find((n) => n.method === method && where(n.data as ServerNotifications[M]));
			if (found) return found.data as ServerNotifications[M];
			if (this.#closed) throw new Error(`closed before a ${method} notification arrived`);
			// A close while waiting ends the wait too (and the check above then says so), instead of hanging.
			const events = this.client as unknown as NodeJS.EventEmitter;
			const controller = new AbortController();
			await Promise.race([
				once(events, "notification", { signal: controller.signal }),
				once(events, "close", { signal: controller.signal }),
			]);
			controller.abort();
		}
	}

	async serverRequest(method: string): Promise<unknown> {
		for (;;) {
			const found = this.serverRequests.find((r) => r.method === method);
			if (found) return found.data;
			await once(this.client as unknown as NodeJS.EventEmitter, "request");
		}
	}

	close(): void {
		this.client.close();
	}
}

/** Connect a peer with a fresh token for `room` and wait until the socket is open. */
export async function connectPeer(
	rig: Rig,
	room: string,
	options: { name?: string; role?: "host" | "guest"; peerId?: string } = {},
): Promise<TestPeer & { peerId: string }> {
	const { token, peerId } = await mint(rig, room, options);
	const peer = new TestPeer(signalingUrl(rig, { token, roomId: room })) as TestPeer & { peerId: string };
	peer.peerId = peerId;
	await peer.opened();
	return peer;
}

/** Connect, create a recv transport and join: a peer that is in the call. */
export async function joinPeer(
	rig: Rig,
	room: string,
	options: { name?: string; role?: "host" | "guest"; peerId?: string } = {},
): Promise<TestPeer & { peerId: string; joined: ClientRequests["join"]["response"]; caps: RtpCapabilities }> {
	const peer = (await connectPeer(rig, room, options)) as TestPeer & {
		peerId: string;
		joined: ClientRequests["join"]["response"];
		caps: RtpCapabilities;
	};
	peer.caps = await peer.request("getRouterRtpCapabilities", {});
	await peer.request("createWebRtcTransport", { direction: "recv" });
	peer.joined = await peer.request("join", { rtpCapabilities: peer.caps });
	return peer;
}

/** Opus parameters as a browser would send them; mediasoup needs no actual RTP to create the producer. */
export function opusParameters(ssrc: number): RtpParameters {
	return {
		mid: "0",
		codecs: [
			{ mimeType: "audio/opus", payloadType: 111, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] },
		],
		headerExtensions: [],
		encodings: [{ ssrc }],
		rtcp: { cname: `cname-${ssrc}`, reducedSize: true },
	};
}

/**
 * A camera as the web client sends it: VP8 with one encoding per SSRC
 * (simulcast when there are several), each with `scalabilityMode` (none when
 * null). mediasoup needs no actual RTP to create the producer.
 */
export function vp8Parameters(ssrcs: readonly number[], scalabilityMode: string | null = "L1T3"): RtpParameters {
	return {
		mid: "1",
		codecs: [
			{
				mimeType: "video/VP8",
				payloadType: 96,
				clockRate: 90000,
				parameters: {},
				rtcpFeedback: [{ type: "nack" }, { type: "nack", parameter: "pli" }, { type: "ccm", parameter: "fir" }],
			},
		],
		headerExtensions: [],
		encodings: ssrcs.map((ssrc) => (scalabilityMode ? { ssrc, scalabilityMode } : { ssrc })),
		rtcp: { cname: `cname-${ssrcs[0]}`, reducedSize: true },
	};
}

/** The error message of a request that must fail. */
export async function rejection(promise: Promise<unknown>): Promise<string> {
	try {
		await promise;
	} catch (error) {
		return (error as Error).message;
	}
	throw new Error("the request was accepted");
}

/** The protoo error of a request that must fail: numeric code and reason. */
export async function failure(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
	try {
		await promise;
	} catch (error) {
		return { code: (error as Error & { code: number }).code, message: (error as Error).message };
	}
	throw new Error("the request was accepted");
}

/** Connect and expect a `refused` notification followed by the socket closing; returns the reason. */
export async function refusalOf(url: string): Promise<string> {
	const peer = new TestPeer(url);
	const refused = await peer.notification("refused");
	await peer.closedEvent();
	return refused.reason;
}

/** Collect the JSON messages published on a Redis channel (a subscriber of its own, as the API has). */
export async function listen<T>(rig: Rig, channel: string): Promise<{ messages: T[]; close(): void }> {
	const subscriber = rig.redis.duplicate();
	const messages: T[] = [];
	await subscriber.connect();
	await subscriber.subscribe(channel, (message) => messages.push(JSON.parse(message) as T));
	return { messages, close: () => subscriber.destroy() };
}

/** Wait for a condition that the system reaches on its own, polling a bounded number of times. */
export async function eventually(
	condition: () => boolean | Promise<boolean>,
	what: string,
	tries = 200,
): Promise<void> {
	for (let i = 0; i < tries; i++) {
		if (await condition()) return;
		await new Promise((resolve) => setTimeout(resolve, 25));
	}
	throw new Error(`never happened: ${what}`);
}
