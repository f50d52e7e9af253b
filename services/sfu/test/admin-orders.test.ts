/**
 * Admin orders end to end: the real API process (admin endpoints), the real
 * SFU with its worker, one real redis-server. The SFU reaches Redis through a
 * loopback TCP relay the test can cut, so an order can be given while the
 * node is disconnected, for as long as the test needs: it must be carried out
 * once the node is back, and the endpoint must answer the node's outcome.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { redisKeys, type StoredRoom, sfuCommandKeys } from "@mindmeet/protocol";
import { redisPublicKeyStore, TokenSigner } from "@mindmeet/protocol/token-keys";
import { freePort } from "@mindmeet/testing/ports";
import { type RedisServer, startRedis } from "@mindmeet/testing/redis";
import { pino } from "pino";
import { createClient } from "redis";
import { loadSfuConfig } from "../src/config.ts";
import { startSfu } from "../src/sfu.ts";
import { eventually, joinPeer, type RedisClient, type Rig } from "./support.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const adminToken = "admin-orders-test-token-0123456789";

/** A TCP relay to Redis that can be cut (every connection dropped, new ones refused) and restored. */
class CuttableRelay {
	readonly #server: Server;
	readonly #sockets = new Set<Socket>();
	#cut = false;

	private constructor(server: Server) {
		this.#server = server;
	}

	static async start(targetPort: number): Promise<CuttableRelay> {
		const server = createServer();
		const relay = new CuttableRelay(server);
		server.on("connection", (client: Socket) => relay.#accept(client, targetPort));
		server.listen(0, "127.0.0.1");
		await once(server, "listening");
		return relay;
	}

	get port(): number {
		const address = this.#server.address();
		if (!address || typeof address !== "object") throw new Error("relay is not listening");
		return address.port;
	}

	#accept(client: Socket, targetPort: number): void {
		if (this.#cut) {
			client.destroy();
			return;
		}
		const upstream = tcpConnect(targetPort, "127.0.0.1");
		for (const socket of [client, upstream]) {
			this.#sockets.add(socket);
			socket.on("error", () => {});
			socket.on("close", () => {
				this.#sockets.delete(socket);
				client.destroy();
				upstream.destroy();
			});
		}
		client.pipe(upstream);
		upstream.pipe(client);
	}

	cut(): void {
		this.#cut = true;
		for (const socket of this.#sockets) socket.destroy();
	}

	restore(): void {
		this.#cut = false;
	}

	close(): void {
		this.cut();
		this.#server.close();
	}
}

let rooms = 0;
/** A room record the way the API stores it, with an id the API accepts (support.ts's ids are not in its alphabet). */
async function createRoom(rig: Rig): Promise<string> {
	rooms += 1;
	const id = `adminRoom${"abcdefghij"[rooms % 10]}`;
	const hostPeerId = `host-${rooms}`;
	const room: StoredRoom = {
		id,
		mode: "video",
		hostName: "Host",
		createdAt: Date.now(),
		sfuNode: rig.sfu.nodeId,
		hostPeerId,
	};
	await rig.redis.set(redisKeys.room(id), JSON.stringify(room), { EX: 600 });
	await rig.redis.set(redisKeys.roomHost(id), hostPeerId, { EX: 600 });
	rig.hosts.set(id, hostPeerId);
	return id;
}

async function startApi(redisUrl: string): Promise<{ base: string; child: ChildProcess; output: string[] }> {
	const port = await freePort();
	const child = spawn(process.execPath, [join(repoRoot, "services/api/src/main.ts")], {
		cwd: repoRoot,
		env: {
			...process.env,
			REDIS_URL: redisUrl,
			PORT: String(port),
			HOST: "127.0.0.1",
			PUBLIC_URL: `http://127.0.0.1:${port}`,
			ADMIN_TOKEN: adminToken,
			LOG_LEVEL: "warn",
		},
		stdio: ["ignore", "pipe", "pipe"],
	});
	const output: string[] = [];
	child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
	child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
	const base = `http://127.0.0.1:${port}`;
	await eventually(
		async () => {
			if (child.exitCode !== null) throw new Error(`the API exited: ${output.join("")}`);
			try {
				return (await fetch(`${base}/api/health`)).ok;
			} catch {
				return false;
			}
		},
		"the API answers its health check",
		400,
	);
	return { base, child, output };
}

describe("admin orders across a node's disconnection", { timeout: 120_000 }, () => {
	let redisServer: RedisServer;
	let relay: CuttableRelay;
	let sfuRedis: RedisClient;
	let rig: Rig;
	let api: Awaited<ReturnType<typeof startApi>>;

	before(async () => {
		if (!process.env.MEDIASOUP_WORKER_BIN) {
			throw new Error("MEDIASOUP_WORKER_BIN is not set: build the mediasoup worker and export MEDIASOUP_WORKER_BIN=…");
		}
		redisServer = await startRedis();
		const direct = createClient({ url: redisServer.url });
		direct.on("error", () => {});
		await direct.connect();
		relay = await CuttableRelay.start(Number(new URL(redisServer.url).port));
		const relayUrl = `redis://127.0.0.1:${relay.port}`;
		sfuRedis = createClient({ url: relayUrl, disableOfflineQueue: true });
		sfuRedis.on("error", () => {});
		await sfuRedis.connect();
		const config = loadSfuConfig({
			REDIS_URL: relayUrl,
			SFU_NODE_ID: "orders-node",
			SFU_SIGNALING_PORT: "0",
			SFU_RTC_PORT: "0",
			SFU_WORKERS: "1",
			MEDIASOUP_WORKER_BIN: process.env.MEDIASOUP_WORKER_BIN,
		});
		const sfu = await startSfu(config, {
			redis: sfuRedis,
			logger: pino({ level: process.env.ORDERS_LOG ?? "silent" }),
		});
		rig = {
			redisServer,
			redis: direct,
			sfu,
			signer: await TokenSigner.create(redisPublicKeyStore(direct), 3600),
			hosts: new Map(),
			logs: [],
			close: async () => {},
		};
		api = await startApi(redisServer.url);
	});
	after(async () => {
		api?.child.kill("SIGTERM");
		if (api && api.child.exitCode === null) await once(api.child, "exit");
		relay?.restore();
		await rig?.sfu.close();
		sfuRedis?.destroy();
		rig?.redis.destroy();
		relay?.close();
		await redisServer?.stop();
	});

	function admin(path: string): Promise<Response> {
		return fetch(`${api.base}${path}`, { method: "DELETE", headers: { authorization: `Bearer ${adminToken}` } });
	}

	/** Wait until the endpoint's order is on the node's stream (the node being cut off, nobody has read it). */
	async function orderQueued(count: number): Promise<void> {
		await eventually(
			async () => (await rig.redis.xLen(sfuCommandKeys.stream(rig.sfu.nodeId))) >= count,
			"the order is queued",
		);
		const groups = (await rig.redis.sendCommand(["XINFO", "GROUPS", sfuCommandKeys.stream(rig.sfu.nodeId)])) as
			| { lag?: number }[]
			| undefined;
		assert.ok((groups?.[0]?.lag ?? 0) > 0, "the node has not read it yet");
	}

	/** The node's own connection is back (after a cut it reconnects with a back-off). */
	async function nodeConnected(): Promise<void> {
		await eventually(() => sfuRedis.isReady, "the node's Redis connection is back", 400);
	}

	async function presenceOf(room: string, peerId: string): Promise<void> {
		await eventually(
			async () => (await rig.redis.hExists(redisKeys.roomPeers(room), peerId)) === 1,
			"the peer's presence is in Redis",
		);
	}

	test("a kick given while the node is cut off from Redis is carried out when it is back; 204 then", async () => {
		await nodeConnected();
		const room = await createRoom(rig);
		const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
		const bia = await joinPeer(rig, room, { name: "Bia" });
		await presenceOf(room, bia.peerId);
		const before = await rig.redis.xLen(sfuCommandKeys.stream(rig.sfu.nodeId));

		relay.cut();
		const answer = admin(`/api/admin/rooms/${room}/peers/${bia.peerId}`);
		await orderQueued(before + 1);
		assert.ok(!bia.closed, "nothing has reached the node yet");
		relay.restore();

		const res = await answer;
		assert.equal(res.status, 204, "answered once the node has kicked the peer");
		await bia.notification("kicked");
		await bia.closedEvent();
		await host.notification("peerLeft", (d) => d.peerId === bia.peerId);
		assert.equal(await rig.redis.sIsMember(redisKeys.roomRevoked(room), bia.peerId), 1);
		host.close();
	});

	test("a close given while the node is cut off closes the room for everyone when it is back; 204 then", async () => {
		await nodeConnected();
		const room = await createRoom(rig);
		const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
		const bia = await joinPeer(rig, room, { name: "Bia" });
		await presenceOf(room, bia.peerId);
		const before = await rig.redis.xLen(sfuCommandKeys.stream(rig.sfu.nodeId));

		relay.cut();
		const answer = admin(`/api/admin/rooms/${room}`);
		await orderQueued(before + 1);
		assert.ok(rig.sfu.rooms.rooms.has(room), "the room is still open on the node");
		relay.restore();

		const res = await answer;
		assert.equal(res.status, 204, "answered once the node has closed the room");
		for (const peer of [host, bia]) {
			await peer.notification("roomClosed");
			await peer.closedEvent();
		}
		await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room is gone from the node");
	});

	test("a node away longer than the wait: 504 saying so, and the kick still happens when it is back", async () => {
		await nodeConnected();
		const room = await createRoom(rig);
		const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
		const bia = await joinPeer(rig, room, { name: "Bia" });
		await presenceOf(room, bia.peerId);

		relay.cut();
		const res = await admin(`/api/admin/rooms/${room}/peers/${bia.peerId}`);
		assert.equal(res.status, 504);
		const body = (await res.json()) as { message: string };
		assert.match(body.message, /^SFU node orders-node did not confirm within 5 s/);
		assert.match(body.message, /carried out when the node reconnects/);
		assert.ok(!bia.closed);
		relay.restore();

		await bia.notification("kicked");
		await bia.closedEvent();
		host.close();
	});

	test("a kick for someone who already left: 404 from the node's answer, and the node keeps serving", async () => {
		await nodeConnected();
		const room = await createRoom(rig);
		const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
		// Presence the node does not back (a peer that left while its entry was being removed).
		await rig.redis.hSet(
			redisKeys.roomPeers(room),
			"ghost-peer",
			JSON.stringify({ peerId: "ghost-peer", name: "Ghost", role: "guest", joinedAt: Date.now(), producers: [] }),
		);
		const res = await admin(`/api/admin/rooms/${room}/peers/ghost-peer`);
		assert.equal(res.status, 404);
		assert.match(((await res.json()) as { message: string }).message, /^peer not in the call on its SFU node/);
		assert.ok(!host.closed);
		assert.ok((await host.request("getRouterRtpCapabilities", {})).codecs);
		host.close();
	});
});
