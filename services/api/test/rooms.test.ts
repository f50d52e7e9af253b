import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
	type CreateRoomResponse,
	type RoomInfo,
	redisKeys,
	roomIdAlphabet,
	roomIdLength,
	type StoredRoom,
	sfuNodeStaleMs,
} from "@mindmeet/protocol";
import { redisPublicKeyStore, TokenVerifier } from "@mindmeet/protocol/token-keys";
import { clearNodes, publicUrl, registerNode, startTestApi, type TestApi } from "./helpers.ts";

const roomIdPattern = new RegExp(`^[${roomIdAlphabet}]{${roomIdLength}}$`);

describe("rooms", () => {
	let api: TestApi;
	let verifier: TokenVerifier;

	before(async () => {
		// 200 rooms from one address (the id test): the per-address limit has its own test (room-creation.test.ts).
		api = await startTestApi({ ROOM_CREATE_RATE_LIMIT: "100000" });
		verifier = new TokenVerifier(redisPublicKeyStore(api.redis));
	});
	after(async () => {
		await api?.close();
	});

	async function createRoom(body: object = { hostName: "Ana", mode: "video" }) {
		return api.app.inject({ method: "POST", url: "/api/rooms", payload: body });
	}

	async function withOneNode(id = "node-a", extra: object = {}) {
		await clearNodes(api.redis);
		return registerNode(api.redis, { id, ...extra });
	}

	test("creating a room answers 201 with an id, a link and a host token", async () => {
		await withOneNode();
		const res = await createRoom({ hostName: "  Ana   Maria  ", mode: "video" });
		assert.equal(res.statusCode, 201);
		const body = res.json<CreateRoomResponse>();
		assert.match(body.roomId, roomIdPattern);
		assert.equal(body.link, `${publicUrl}/r/${body.roomId}`);
		assert.ok(body.link.endsWith(`/r/${body.roomId}`));

		const claims = await verifier.verify(body.hostToken);
		assert.equal(claims.role, "host");
		assert.equal(claims.room, body.roomId);
		assert.equal(claims.name, "Ana Maria");
		assert.equal(claims.sub, body.peerId);
		assert.ok(claims.exp - claims.iat === api.config.hostTokenTtl);
	});

	test("the room record is stored in Redis with a TTL and listed in the room set", async () => {
		await withOneNode("node-a");
		const res = await createRoom({ hostName: "Bea", mode: "audio" });
		const { roomId } = res.json<CreateRoomResponse>();

		const json = await api.redis.get(redisKeys.room(roomId));
		assert.ok(json);
		const stored = JSON.parse(json) as StoredRoom;
		assert.equal(stored.id, roomId);
		assert.equal(stored.mode, "audio");
		assert.equal(stored.hostName, "Bea");
		assert.equal(stored.sfuNode, "node-a");
		assert.equal(typeof stored.createdAt, "number");
		assert.equal(stored.hostPeerId, res.json<CreateRoomResponse>().peerId);

		const ttl = await api.redis.ttl(redisKeys.room(roomId));
		assert.ok(ttl > 0 && ttl <= api.config.roomTtl, `ttl ${ttl}`);
		assert.equal(await api.redis.sIsMember(redisKeys.rooms, roomId), 1);

		// The current host, which the lobby authorises against, with the same lifetime.
		assert.equal(await api.redis.get(redisKeys.roomHost(roomId)), stored.hostPeerId);
		const hostTtl = await api.redis.ttl(redisKeys.roomHost(roomId));
		assert.ok(hostTtl > 0 && hostTtl <= api.config.roomTtl, `ttl ${hostTtl}`);
	});

	test("GET returns the mode and the proxied SFU path of the room's node", async () => {
		await withOneNode("node-a");
		const { roomId } = (await createRoom({ hostName: "Caio", mode: "audio" })).json<CreateRoomResponse>();
		const res = await api.app.inject({ method: "GET", url: `/api/rooms/${roomId}` });
		assert.equal(res.statusCode, 200);
		assert.deepEqual(res.json<RoomInfo>(), { roomId, mode: "audio", sfuUrl: "/sfu/node-a" });
	});

	test("GET returns the node's public URL when it has one", async () => {
		await withOneNode("node-pub", { publicUrl: "wss://sfu1.example.test/ws" });
		const { roomId } = (await createRoom()).json<CreateRoomResponse>();
		const res = await api.app.inject({ method: "GET", url: `/api/rooms/${roomId}` });
		assert.equal(res.statusCode, 200);
		assert.deepEqual(res.json<RoomInfo>(), { roomId, mode: "video", sfuUrl: "wss://sfu1.example.test/ws" });
	});

	test("GET still answers with the proxy path when the room's node has left the registry", async () => {
		await withOneNode("node-gone");
		const { roomId } = (await createRoom()).json<CreateRoomResponse>();
		await clearNodes(api.redis);
		const res = await api.app.inject({ method: "GET", url: `/api/rooms/${roomId}` });
		assert.equal(res.statusCode, 200);
		assert.equal(res.json<RoomInfo>().sfuUrl, "/sfu/node-gone");
	});

	test("there is no direct join any more: guests go through the lobby", async () => {
		await withOneNode();
		const { roomId } = (await createRoom()).json<CreateRoomResponse>();
		const res = await api.app.inject({ method: "POST", url: `/api/rooms/${roomId}/join`, payload: { name: "Eva" } });
		assert.equal(res.statusCode, 404);
	});

	test("200 creations give 200 distinct ids", async () => {
		await withOneNode();
		const ids = new Set<string>();
		for (let batch = 0; batch < 10; batch++) {
			const responses = await Promise.all(Array.from({ length: 20 }, () => createRoom()));
			for (const res of responses) {
				assert.equal(res.statusCode, 201);
				ids.add(res.json<CreateRoomResponse>().roomId);
			}
		}
		assert.equal(ids.size, 200);
		for (const id of ids) assert.equal(await api.redis.exists(redisKeys.room(id)), 1);
	});

	test("the room goes to the live node with the fewest peers", async () => {
		await clearNodes(api.redis);
		await registerNode(api.redis, { id: "busy", peers: 5, rooms: 1 });
		await registerNode(api.redis, { id: "quiet", peers: 2, rooms: 3 });
		const { roomId } = (await createRoom()).json<CreateRoomResponse>();
		const stored = JSON.parse((await api.redis.get(redisKeys.room(roomId))) ?? "{}") as StoredRoom;
		assert.equal(stored.sfuNode, "quiet");
	});

	test("on equal peers the node with fewer rooms wins", async () => {
		await clearNodes(api.redis);
		await registerNode(api.redis, { id: "many-rooms", peers: 4, rooms: 4 });
		await registerNode(api.redis, { id: "few-rooms", peers: 4, rooms: 1 });
		const { roomId } = (await createRoom()).json<CreateRoomResponse>();
		const stored = JSON.parse((await api.redis.get(redisKeys.room(roomId))) ?? "{}") as StoredRoom;
		assert.equal(stored.sfuNode, "few-rooms");
	});

	test("a stale node is never chosen, however idle", async () => {
		await clearNodes(api.redis);
		await registerNode(api.redis, {
			id: "stale",
			peers: 0,
			rooms: 0,
			heartbeatAt: Date.now() - sfuNodeStaleMs - 5_000,
		});
		await registerNode(api.redis, { id: "live", peers: 50, rooms: 10 });
		for (let i = 0; i < 5; i++) {
			const { roomId } = (await createRoom()).json<CreateRoomResponse>();
			const stored = JSON.parse((await api.redis.get(redisKeys.room(roomId))) ?? "{}") as StoredRoom;
			assert.equal(stored.sfuNode, "live");
		}
	});

	test("malformed registry entries are skipped", async () => {
		await clearNodes(api.redis);
		await api.redis.hSet(redisKeys.sfuNodes, "garbage", "{not json");
		await api.redis.hSet(redisKeys.sfuNodes, "wrong-shape", JSON.stringify({ id: "wrong-shape", peers: "0" }));
		await registerNode(api.redis, { id: "good", peers: 9 });
		const res = await createRoom();
		assert.equal(res.statusCode, 201);
		const stored = JSON.parse((await api.redis.get(redisKeys.room(res.json<CreateRoomResponse>().roomId))) ?? "{}");
		assert.equal(stored.sfuNode, "good");
	});

	test("with only stale nodes, creation answers 503 and stores nothing", async () => {
		await clearNodes(api.redis);
		await registerNode(api.redis, { id: "stale", heartbeatAt: Date.now() - sfuNodeStaleMs - 1_000 });
		const before = await api.redis.dbSize();
		const res = await createRoom();
		assert.equal(res.statusCode, 503);
		assert.equal(res.json().message, "no media server is available, try again shortly");
		assert.equal(await api.redis.dbSize(), before);
	});

	test("with no node registered, creation answers 503", async () => {
		await clearNodes(api.redis);
		const res = await createRoom();
		assert.equal(res.statusCode, 503);
		assert.deepEqual(res.json(), {
			statusCode: 503,
			error: "Service Unavailable",
			message: "no media server is available, try again shortly",
		});
	});
});
