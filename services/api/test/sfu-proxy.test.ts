/**
 * Unit test of the /sfu/:nodeId byte pipe. The upstream here is a plain `ws`
 * server, not an SFU: what is tested is that messages, the query string and
 * close codes go through the API unchanged.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import {
	limits,
	type RoomInfo,
	redisKeys,
	roomIdAlphabet,
	roomIdLength,
	type StoredRoom,
	sfuNodeStaleMs,
} from "@mindmeet/protocol";
import { freePort } from "@mindmeet/testing/ports";
import { customAlphabet } from "nanoid";
import WebSocket, { WebSocketServer } from "ws";
import type { ApiRedis } from "../src/redis.ts";
import { placeRoom } from "../src/sfu-nodes.ts";
import { maxPendingMessages } from "../src/sfu-proxy/plugin.ts";
import { eventually, registerNode, startTestApi, type TestApi } from "./helpers.ts";

interface Upstream {
	server: WebSocketServer;
	port: number;
	/** Request URL and socket of each connection, in order. */
	connections: { url: string; protocol: string; socket: WebSocket }[];
}

interface UpstreamOptions {
	/** false: a node that stopped answering pings (hung, or its network vanished). */
	autoPong?: boolean;
	/** Refuse every upgrade with this HTTP status (an SFU that cannot decide answers 503). */
	refuseWith?: number;
}

async function startUpstream(options: UpstreamOptions = {}): Promise<Upstream> {
	const port = await freePort();
	const { refuseWith } = options;
	const server = new WebSocketServer({
		port,
		host: "127.0.0.1",
		autoPong: options.autoPong ?? true,
		handleProtocols: (protocols) => (protocols.has("protoo") ? "protoo" : false),
		...(refuseWith === undefined ? {} : { verifyClient: (_info, done) => done(false, refuseWith) }),
	});
	await once(server, "listening");
	const upstream: Upstream = { server, port, connections: [] };
	server.on("connection", (socket: WebSocket, request: IncomingMessage) => {
		upstream.connections.push({ url: request.url ?? "", protocol: socket.protocol, socket });
		socket.on("message", (data, isBinary) => {
			const text = data.toString();
			if (text === "close-4403") socket.close(4403, "x");
			else if (text === "vanish") socket.terminate();
			else if (text.startsWith("big:")) socket.send("s".repeat(Number(text.slice(4))));
			else socket.send(isBinary ? data : `echo:${text}`, { binary: isBinary });
		});
	});
	return upstream;
}

/**
 * Queue every message and the close of a client socket, so none is missed
 * between awaits; a message awaited after (or across) the close rejects.
 */
function watch(socket: WebSocket) {
	const queue: string[] = [];
	const waiters: { resolve: (message: string) => void; reject: (error: Error) => void }[] = [];
	let closedWith: { code: number; reason: string } | undefined;
	socket.on("message", (data) => {
		const waiter = waiters.shift();
		if (waiter) waiter.resolve(data.toString());
		else queue.push(data.toString());
	});
	const closed = new Promise<{ code: number; reason: string }>((resolve) =>
		socket.on("close", (code, reason) => {
			closedWith = { code, reason: reason.toString() };
			for (const waiter of waiters.splice(0)) waiter.reject(new Error(`socket closed (${code}) before the message`));
			resolve(closedWith);
		}),
	);
	socket.on("error", () => {});
	const next = (): Promise<string> => {
		const queued = queue.shift();
		if (queued !== undefined) return Promise.resolve(queued);
		if (closedWith) return Promise.reject(new Error(`socket closed (${closedWith.code}) before the message`));
		return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
	};
	return { next, closed };
}

describe("sfu proxy byte pipe (a plain ws server stands in for the SFU node)", { timeout: 60_000 }, () => {
	let api: TestApi;
	let upstream: Upstream;
	let base: string;

	before(async () => {
		// Pings every second: the liveness tests below need not wait long; every other client answers them.
		api = await startTestApi({ SIGNALING_PING_INTERVAL: "1" });
		upstream = await startUpstream();
		await registerNode(api.redis, { id: "pipe-node", signalingUrl: `ws://127.0.0.1:${upstream.port}` });
		await api.app.listen({ port: 0, host: "127.0.0.1" });
		const address = api.app.server.address();
		assert.ok(address && typeof address === "object");
		base = `ws://127.0.0.1:${address.port}`;
	});
	after(async () => {
		await api?.close();
		for (const client of upstream?.server.clients ?? []) client.terminate();
		upstream?.server.close();
	});

	test("messages pass both ways and the upstream sees the query token", async () => {
		const client = new WebSocket(`${base}/sfu/pipe-node?token=abc`, "protoo");
		const seen = watch(client);
		await once(client, "open");
		assert.equal(client.protocol, "protoo");
		// Sent at once: the proxy buffers until its upstream connection is open.
		client.send("one");
		client.send("two");
		assert.equal(await seen.next(), "echo:one");
		assert.equal(await seen.next(), "echo:two");

		const connection = upstream.connections.at(-1);
		assert.ok(connection);
		assert.equal(connection.url, "/?token=abc");
		assert.equal(connection.protocol, "protoo");

		connection.socket.send(JSON.stringify({ notification: true, method: "peerJoined" }));
		assert.equal(await seen.next(), '{"notification":true,"method":"peerJoined"}');
		client.close(1000);
		await seen.closed;
	});

	test("an upstream close(4403, 'x') reaches the browser as 4403 'x'", async () => {
		const client = new WebSocket(`${base}/sfu/pipe-node?token=abc`, "protoo");
		const seen = watch(client);
		await once(client, "open");
		client.send("close-4403");
		assert.deepEqual(await seen.closed, { code: 4403, reason: "x" });
	});

	test("an upstream that vanishes closes the browser with 1011", async () => {
		const client = new WebSocket(`${base}/sfu/pipe-node?token=abc`, "protoo");
		const seen = watch(client);
		await once(client, "open");
		client.send("hello");
		assert.equal(await seen.next(), "echo:hello");
		client.send("vanish");
		assert.deepEqual(await seen.closed, { code: 1011, reason: "media server connection lost" });
	});

	test("the browser closing closes the upstream", async () => {
		const client = new WebSocket(`${base}/sfu/pipe-node?token=closing`, "protoo");
		const seen = watch(client);
		await once(client, "open");
		client.send("ping");
		assert.equal(await seen.next(), "echo:ping");
		const connection = upstream.connections.find((c) => c.url === "/?token=closing");
		assert.ok(connection);
		const upstreamClosed = once(connection.socket, "close");
		client.close(1000, "bye");
		const [code] = (await upstreamClosed) as [number];
		assert.equal(code, 1000);
	});

	test("an unknown node closes the browser with 4404", async () => {
		const client = new WebSocket(`${base}/sfu/no-such-node?token=abc`, "protoo");
		const seen = watch(client);
		assert.deepEqual(await seen.closed, { code: 4404, reason: "unknown media server" });
	});

	test("a client without the protoo subprotocol is refused", async () => {
		const client = new WebSocket(`${base}/sfu/pipe-node?token=abc`);
		const [, response] = (await once(client, "unexpected-response")) as [unknown, IncomingMessage];
		assert.equal(response.statusCode, 400);
		response.resume();
		client.on("error", () => {});
		client.terminate();
	});

	test("a client offering only another subprotocol is refused", async () => {
		const client = new WebSocket(`${base}/sfu/pipe-node?token=abc`, "graphql-ws");
		const [, response] = (await once(client, "unexpected-response")) as [unknown, IncomingMessage];
		assert.equal(response.statusCode, 400);
		response.resume();
		client.on("error", () => {});
		client.terminate();
	});

	test("an unreachable node closes the browser with 1011 'media server unreachable'", async () => {
		const deadPort = await freePort();
		await registerNode(api.redis, { id: "dead-node", signalingUrl: `ws://127.0.0.1:${deadPort}` });
		const client = new WebSocket(`${base}/sfu/dead-node?token=abc`, "protoo");
		const seen = watch(client);
		assert.deepEqual(await seen.closed, { code: 1011, reason: "media server unreachable" });
	});

	test(`more than ${maxPendingMessages} messages before the upstream opens → 1008`, async () => {
		// A TCP server that accepts and never answers the WebSocket handshake.
		const silent: Server = createServer();
		const held: Socket[] = [];
		silent.on("connection", (socket) => held.push(socket));
		const silentPort = await freePort();
		silent.listen(silentPort, "127.0.0.1");
		await once(silent, "listening");
		try {
			await registerNode(api.redis, { id: "silent-node", signalingUrl: `ws://127.0.0.1:${silentPort}` });
			const client = new WebSocket(`${base}/sfu/silent-node?token=abc`, "protoo");
			const seen = watch(client);
			await once(client, "open");
			for (let i = 0; i <= maxPendingMessages; i++) client.send(`m${i}`);
			const closed = await seen.closed;
			assert.equal(closed.code, 1008);
		} finally {
			for (const socket of held) socket.destroy();
			silent.close();
		}
	});
	test("server→client frames up to serverMessageMaxBytes pass (well above the client→server limit)", async () => {
		const client = new WebSocket(`${base}/sfu/pipe-node?token=big`, "protoo");
		const seen = watch(client);
		await once(client, "open");
		const size = limits.signalingMessageMaxBytes * 4;
		client.send(`big:${size}`);
		assert.equal((await seen.next()).length, size);
		client.send(`big:${limits.serverMessageMaxBytes}`);
		assert.equal((await seen.next()).length, limits.serverMessageMaxBytes);
		client.close(1000);
		await seen.closed;
	});

	test("a server frame above serverMessageMaxBytes cuts the connection with 1011 (never a refusal)", async () => {
		const client = new WebSocket(`${base}/sfu/pipe-node?token=huge`, "protoo");
		const seen = watch(client);
		await once(client, "open");
		client.send(`big:${limits.serverMessageMaxBytes + 1}`);
		assert.deepEqual(await seen.closed, { code: 1011, reason: "media server connection lost" });
	});

	test("client→server frames stay at signalingMessageMaxBytes: one byte more closes with 1009", async () => {
		const client = new WebSocket(`${base}/sfu/pipe-node?token=toobig`, "protoo");
		const seen = watch(client);
		await once(client, "open");
		const exact = "c".repeat(limits.signalingMessageMaxBytes);
		client.send(exact);
		assert.equal(await seen.next(), `echo:${exact}`);
		const connection = upstream.connections.find((c) => c.url === "/?token=toobig");
		assert.ok(connection);
		const upstreamClosed = once(connection.socket, "close");
		client.send(`${exact}c`);
		assert.equal((await seen.closed).code, 1009);
		// The SFU sees the peer go.
		await upstreamClosed;
	});

	test("a browser that stops answering pings is cut, and so is its upstream (the SFU sees the peer drop)", async () => {
		const client = new WebSocket(`${base}/sfu/pipe-node?token=ghost`, "protoo", { autoPong: false });
		const seen = watch(client);
		let pings = 0;
		client.on("ping", () => pings++);
		await once(client, "open");
		client.send("hello");
		assert.equal(await seen.next(), "echo:hello");
		const connection = upstream.connections.find((c) => c.url === "/?token=ghost");
		assert.ok(connection);
		const upstreamClosed = once(connection.socket, "close");
		// Terminated without a closing handshake: the client sees an abnormal closure.
		assert.equal((await seen.closed).code, 1006);
		assert.ok(pings >= 1, "it was pinged before being cut");
		const [code] = (await upstreamClosed) as [number];
		assert.equal(code, 1001);
	});

	test("a browser that answers pings stays connected across several of them", async () => {
		const client = new WebSocket(`${base}/sfu/pipe-node?token=alive`, "protoo");
		const seen = watch(client);
		let pings = 0;
		client.on("ping", () => pings++);
		await once(client, "open");
		await eventually(() => pings >= 3, "three pings", 1_200);
		assert.equal(client.readyState, WebSocket.OPEN);
		client.send("still here");
		assert.equal(await seen.next(), "echo:still here");
		client.close(1000);
		await seen.closed;
	});

	test("a node that stops answering pings is cut: the browser gets 1011 and retries", async () => {
		const mute = await startUpstream({ autoPong: false });
		try {
			await registerNode(api.redis, { id: "mute-node", signalingUrl: `ws://127.0.0.1:${mute.port}` });
			const client = new WebSocket(`${base}/sfu/mute-node?token=abc`, "protoo");
			const seen = watch(client);
			await once(client, "open");
			assert.deepEqual(await seen.closed, { code: 1011, reason: "media server connection lost" });
		} finally {
			for (const c of mute.server.clients) c.terminate();
			mute.server.close();
		}
	});

	test("a node that refuses the upgrade with 503 (cannot decide) → 1011, not a refusal", async () => {
		const busy = await startUpstream({ refuseWith: 503 });
		try {
			await registerNode(api.redis, { id: "busy-node", signalingUrl: `ws://127.0.0.1:${busy.port}` });
			const client = new WebSocket(`${base}/sfu/busy-node?token=abc`, "protoo");
			const seen = watch(client);
			assert.deepEqual(await seen.closed, { code: 1011, reason: "media server unreachable" });
		} finally {
			busy.server.close();
		}
	});
});

const newRoomId = customAlphabet(roomIdAlphabet, roomIdLength);

describe("sfu proxy: the room goes to a live node", { timeout: 60_000 }, () => {
	let api: TestApi;
	let a: Upstream;
	let b: Upstream;
	let base: string;

	const staleAt = () => Date.now() - sfuNodeStaleMs - 5_000;

	before(async () => {
		api = await startTestApi();
		a = await startUpstream();
		b = await startUpstream();
		await api.app.listen({ port: 0, host: "127.0.0.1" });
		const address = api.app.server.address();
		assert.ok(address && typeof address === "object");
		base = `ws://127.0.0.1:${address.port}`;
	});
	after(async () => {
		await api?.close();
		for (const upstream of [a, b]) {
			for (const client of upstream?.server.clients ?? []) client.terminate();
			upstream?.server.close();
		}
	});

	/** Node A stale (its heartbeat is gone), node B live; a room recorded on `on`, with a 600 s TTL. */
	async function setup(on: string): Promise<StoredRoom> {
		await api.redis.del(redisKeys.sfuNodes);
		await registerNode(api.redis, { id: "node-a", signalingUrl: `ws://127.0.0.1:${a.port}`, heartbeatAt: staleAt() });
		await registerNode(api.redis, { id: "node-b", signalingUrl: `ws://127.0.0.1:${b.port}`, peers: 7 });
		const room: StoredRoom = {
			id: newRoomId(),
			mode: "video",
			hostName: "Ana Ção 🎉",
			createdAt: Date.now(),
			sfuNode: on,
			hostPeerId: "host-peer-1",
		};
		await api.redis.set(redisKeys.room(room.id), JSON.stringify(room), { EX: 600 });
		return room;
	}

	const stored = async (roomId: string) =>
		JSON.parse((await api.redis.get(redisKeys.room(roomId))) ?? "null") as StoredRoom;

	async function connect(nodeInUrl: string, roomId: string, token: string) {
		const client = new WebSocket(`${base}/sfu/${nodeInUrl}?roomId=${roomId}&token=${token}`, "protoo");
		const seen = watch(client);
		return { client, seen };
	}

	test("a room whose node is stale is moved to the live node (TTL and every other field kept) and piped there", async () => {
		const room = await setup("node-a");
		const { client, seen } = await connect("node-a", room.id, "moved");
		await once(client, "open");
		client.send("hi");
		assert.equal(await seen.next(), "echo:hi");
		assert.ok(
			b.connections.some((c) => c.url === `/?roomId=${room.id}&token=moved`),
			"piped to node B",
		);
		assert.ok(!a.connections.some((c) => c.url.includes("token=moved")), "never to the stale node");
		assert.deepEqual(await stored(room.id), { ...room, sfuNode: "node-b" });
		const ttl = await api.redis.ttl(redisKeys.room(room.id));
		assert.ok(ttl > 0 && ttl <= 600, `TTL kept (${ttl})`);
		client.close(1000);
		await seen.closed;
	});

	test("a room on a live node is piped there even when the URL names another node (the room moved)", async () => {
		const room = await setup("node-b");
		const { client, seen } = await connect("node-a", room.id, "follow");
		await once(client, "open");
		client.send("hi");
		assert.equal(await seen.next(), "echo:hi");
		assert.ok(b.connections.some((c) => c.url.includes("token=follow")));
		assert.equal((await stored(room.id)).sfuNode, "node-b");
		client.close(1000);
		await seen.closed;
	});

	test("no live node: the browser is told to try again later (1013), the record is untouched", async () => {
		const room = await setup("node-a");
		await registerNode(api.redis, { id: "node-b", signalingUrl: `ws://127.0.0.1:${b.port}`, heartbeatAt: staleAt() });
		const { seen } = await connect("node-a", room.id, "none");
		assert.deepEqual(await seen.closed, { code: 1013, reason: "no media server is available, try again shortly" });
		assert.deepEqual(await stored(room.id), room);
	});

	test("an unknown room is piped to the node the URL names, whose SFU refuses it", async () => {
		await setup("node-a");
		const { client, seen } = await connect("node-a", "Unknown234", "unknown");
		await once(client, "open");
		client.send("hi");
		assert.equal(await seen.next(), "echo:hi");
		assert.ok(a.connections.some((c) => c.url.includes("token=unknown")));
		assert.equal(await api.redis.exists(redisKeys.room("Unknown234")), 0, "nothing created");
		client.close(1000);
		await seen.closed;
	});

	test("GET /api/rooms/:roomId points at the live node, re-placing the room the same way", async () => {
		const room = await setup("node-a");
		const res = await api.app.inject({ method: "GET", url: `/api/rooms/${room.id}` });
		assert.equal(res.statusCode, 200);
		assert.deepEqual(res.json<RoomInfo>(), { roomId: room.id, mode: "video", sfuUrl: "/sfu/node-b" });
		assert.equal((await stored(room.id)).sfuNode, "node-b");
	});

	test("two re-placements at once agree on one node", async () => {
		const room = await setup("node-a");
		// Two live nodes with the same load: each call alone could pick either.
		await registerNode(api.redis, { id: "node-b", signalingUrl: `ws://127.0.0.1:${b.port}`, peers: 0 });
		await registerNode(api.redis, { id: "node-c", signalingUrl: `ws://127.0.0.1:${b.port}`, peers: 0 });
		const placements = await Promise.all(Array.from({ length: 4 }, () => placeRoom(api.redis, room.id, "node-a")));
		const chosen = (await stored(room.id)).sfuNode;
		assert.ok(chosen === "node-b" || chosen === "node-c");
		for (const placement of placements) assert.equal(placement.node?.id, chosen);
	});

	test("a re-placement that loses the race follows the winner's choice", async () => {
		const room = await setup("node-b");
		// node-c is idler, but another instance already moved the room from node-a to node-b.
		await registerNode(api.redis, { id: "node-c", signalingUrl: `ws://127.0.0.1:${b.port}`, peers: 0 });
		const placement = await placeRoom(api.redis, room.id, "node-a");
		assert.equal(placement.node?.id, "node-b");
		assert.equal(placement.movedFrom, "node-a");
		assert.equal((await stored(room.id)).sfuNode, "node-b");
	});

	test("a re-placement whose record changed between its read and its write keeps the other writer's node", async () => {
		const room = await setup("node-a");
		await registerNode(api.redis, { id: "node-c", signalingUrl: `ws://127.0.0.1:${b.port}`, peers: 50 });
		// The real client, with another instance's re-placement (to node-c) landing right after our read of the record.
		let raced = false;
		const racing = new Proxy<ApiRedis>(api.redis, {
			get(target, property) {
				if (property === "get") {
					return async (key: string) => {
						const value = await target.get(key);
						if (key === redisKeys.room(room.id) && !raced) {
							raced = true;
							await api.redis.set(key, JSON.stringify({ ...room, sfuNode: "node-c" }), { KEEPTTL: true });
						}
						return value;
					};
				}
				const value: unknown = Reflect.get(target, property, target);
				return typeof value === "function" ? value.bind(target) : value;
			},
		});
		const placement = await placeRoom(racing, room.id, "node-a");
		assert.ok(raced);
		assert.equal(placement.node?.id, "node-c", "follows the winner, not its own (idler) pick");
		assert.equal((await stored(room.id)).sfuNode, "node-c");
	});

	test("a re-placement does not take a room from a node that came back between its read and its write", async () => {
		const room = await setup("node-a");
		// node-a heartbeats again right after our read of the record: its lease holds, the record stays.
		let revived = false;
		const racing = new Proxy<ApiRedis>(api.redis, {
			get(target, property) {
				if (property === "get") {
					return async (key: string) => {
						const value = await target.get(key);
						if (key === redisKeys.room(room.id) && !revived) {
							revived = true;
							// Busier than node-b, so node-b is the pick: only the holder's lease keeps the room.
							await registerNode(api.redis, { id: "node-a", signalingUrl: `ws://127.0.0.1:${a.port}`, peers: 20 });
						}
						return value;
					};
				}
				const value: unknown = Reflect.get(target, property, target);
				return typeof value === "function" ? value.bind(target) : value;
			},
		});
		const placement = await placeRoom(racing, room.id, "node-a", Date.now());
		assert.ok(revived);
		assert.equal(placement.node?.id, "node-a", "stays with the live holder");
		assert.equal(placement.movedFrom, undefined);
		assert.deepEqual(await stored(room.id), room, "the record is untouched");
	});

	test("SFU_NODE_STALE_SECONDS decides staleness: a node silent for longer than it is re-placed", async () => {
		const room = await setup("node-b");
		await registerNode(api.redis, {
			id: "node-b",
			signalingUrl: `ws://127.0.0.1:${b.port}`,
			heartbeatAt: Date.now() - 3_000,
		});
		await registerNode(api.redis, { id: "node-c", signalingUrl: `ws://127.0.0.1:${b.port}` });
		assert.equal((await placeRoom(api.redis, room.id, "node-b")).node?.id, "node-b", "live under the default 15 s");
		const placement = await placeRoom(api.redis, room.id, "node-b", Date.now(), 2_000);
		assert.equal(placement.node?.id, "node-c");
		assert.equal((await stored(room.id)).sfuNode, "node-c");
	});

	test("a room that ended meanwhile is not re-created by a re-placement", async () => {
		const room = await setup("node-a");
		await api.redis.del(redisKeys.room(room.id));
		const placement = await placeRoom(api.redis, room.id, "node-a");
		assert.equal(placement.node, undefined);
		assert.equal(await api.redis.exists(redisKeys.room(room.id)), 0);
	});
});

describe("sfu proxy: a connection piped to a node that lost the room is cut", { timeout: 60_000 }, () => {
	let api: TestApi;
	let a: Upstream;
	let b: Upstream;
	let base: string;

	before(async () => {
		// Sweeps every second, so the test need not wait long.
		api = await startTestApi({ SIGNALING_PING_INTERVAL: "1" });
		a = await startUpstream();
		b = await startUpstream();
		await registerNode(api.redis, { id: "node-a", signalingUrl: `ws://127.0.0.1:${a.port}` });
		await registerNode(api.redis, { id: "node-b", signalingUrl: `ws://127.0.0.1:${b.port}` });
		await api.app.listen({ port: 0, host: "127.0.0.1" });
		const address = api.app.server.address();
		assert.ok(address && typeof address === "object");
		base = `ws://127.0.0.1:${address.port}`;
	});
	after(async () => {
		await api?.close();
		for (const upstream of [a, b]) {
			for (const client of upstream?.server.clients ?? []) client.terminate();
			upstream?.server.close();
		}
	});

	async function roomOn(node: string): Promise<StoredRoom> {
		const room: StoredRoom = {
			id: newRoomId(),
			mode: "video",
			hostName: "Ana",
			createdAt: Date.now(),
			sfuNode: node,
			hostPeerId: "host-peer-1",
		};
		await api.redis.set(redisKeys.room(room.id), JSON.stringify(room), { EX: 600 });
		return room;
	}

	test("the room placed on another node: the old pipe closes 1012 (not final), the reconnect goes to the new node, other rooms' pipes stay", async () => {
		const moving = await roomOn("node-a");
		const staying = await roomOn("node-a");
		const first = new WebSocket(`${base}/sfu/node-a?roomId=${moving.id}&token=t1`, "protoo");
		const firstSeen = watch(first);
		const other = new WebSocket(`${base}/sfu/node-a?roomId=${staying.id}&token=t2`, "protoo");
		const otherSeen = watch(other);
		await Promise.all([once(first, "open"), once(other, "open")]);
		first.send("hi");
		other.send("hi");
		assert.equal(await firstSeen.next(), "echo:hi");
		assert.equal(await otherSeen.next(), "echo:hi");

		// Another API instance re-placed the room while node-a was stale; node-a is back and still holds the pipe.
		await api.redis.set(redisKeys.room(moving.id), JSON.stringify({ ...moving, sfuNode: "node-b" }), {
			KEEPTTL: true,
		});
		assert.deepEqual(await firstSeen.closed, {
			code: 1012,
			reason: "the room moved to another media server, reconnect",
		});

		const again = new WebSocket(`${base}/sfu/node-a?roomId=${moving.id}&token=t3`, "protoo");
		const againSeen = watch(again);
		await once(again, "open");
		again.send("back");
		assert.equal(await againSeen.next(), "echo:back");
		assert.ok(
			b.connections.some((c) => c.url.includes("token=t3")),
			"the reconnect is piped to node-b",
		);

		// The other room's pipe outlived a few more sweeps.
		await new Promise((resolve) => setTimeout(resolve, 2_500));
		assert.equal(other.readyState, WebSocket.OPEN);
		other.send("still");
		assert.equal(await otherSeen.next(), "echo:still");
		for (const socket of [again, other]) socket.close(1000);
		await Promise.all([againSeen.closed, otherSeen.closed]);
	});
});
