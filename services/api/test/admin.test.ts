import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import {
	type CreateRoomResponse,
	type LobbyGuestEvent,
	type LobbyHostEvent,
	redisKeys,
	roomScopedKeys,
	type SfuCommand,
	sfuCommandKeys,
} from "@mindmeet/protocol";
import type { InjectOptions } from "fastify";
import { adminDisabledMessage } from "../src/admin/plugin.ts";
import type { ApiRedisClient } from "../src/redis.ts";
import {
	addPresence,
	createRoom,
	knock,
	listen,
	redisContents,
	registerNode,
	startTestApi,
	type TestApi,
	watchSocket,
} from "./helpers.ts";

const adminToken = "test-admin-token-0123456789";

/** The orders queued on a node's stream, oldest first. */
async function queued(redis: ApiRedisClient, nodeId: string): Promise<{ id: string; command: SfuCommand }[]> {
	const entries = (await redis.xRange(sfuCommandKeys.stream(nodeId), "-", "+")) ?? [];
	return entries.map((entry) => ({
		id: String(entry.message.id),
		command: JSON.parse(String(entry.message.command)) as SfuCommand,
	}));
}

/** What the API answers when no SFU node takes the order (these tests run no SFU; see services/sfu/test/admin-orders.test.ts). */
const unconfirmed =
	/^SFU node node-a did not confirm within 5 s \(unreachable or restarting\): .+; the order stays queued/;

describe("admin API", { timeout: 60_000 }, () => {
	let api: TestApi;
	let base: string;

	before(async () => {
		api = await startTestApi({ ADMIN_TOKEN: adminToken, KNOCK_RATE_LIMIT: "100000" });
		await registerNode(api.redis, { id: "node-a" });
		base = await listen(api);
	});
	after(async () => {
		await api?.close();
	});
	// Orders wait seconds for a node that never answers here: keep the node's heartbeat fresh for room creation.
	beforeEach(async () => {
		await registerNode(api.redis, { id: "node-a" });
	});

	const asAdmin = (options: InjectOptions): Promise<Awaited<ReturnType<TestApi["app"]["inject"]>>> =>
		api.app.inject({ ...options, headers: { ...options.headers, authorization: `Bearer ${adminToken}` } });

	test("no token or a wrong one → 401 on every admin route, and nothing changes", async () => {
		const room = await createRoom(api);
		await addPresence(api.redis, room.roomId, { peerId: room.peerId });
		const routes: InjectOptions[] = [
			{ method: "GET", url: "/api/admin/rooms" },
			{ method: "GET", url: `/api/admin/rooms/${room.roomId}` },
			{ method: "DELETE", url: `/api/admin/rooms/${room.roomId}` },
			{ method: "DELETE", url: `/api/admin/rooms/${room.roomId}/peers/${room.peerId}` },
		];
		const before = await redisContents(api.redis);
		for (const route of routes) {
			for (const authorization of [undefined, "Bearer wrong-token-wrong-token", `Basic ${adminToken}`, adminToken]) {
				const res = await api.app.inject({ ...route, headers: authorization ? { authorization } : {} });
				assert.equal(res.statusCode, 401, `${route.method} ${route.url} with ${authorization}`);
				assert.equal(res.json().message, "the admin bearer token (ADMIN_TOKEN) is required");
				assert.match(String(res.headers["www-authenticate"]), /^Bearer/);
			}
			// A room token is not an admin token.
			const res = await api.app.inject({ ...route, headers: { authorization: `Bearer ${room.hostToken}` } });
			assert.equal(res.statusCode, 401);
		}
		assert.deepEqual(await redisContents(api.redis), before);
	});

	test("list: every live room with its participant count; ids of expired rooms are pruned", async () => {
		const a = await createRoom(api, "Alice");
		const b = await createRoom(api, "Bruno");
		await addPresence(api.redis, a.roomId, { peerId: a.peerId, role: "host" });
		await addPresence(api.redis, a.roomId, { peerId: "guest-1" });
		await api.redis.sAdd(redisKeys.rooms, "Expired234");

		const res = await asAdmin({ method: "GET", url: "/api/admin/rooms" });
		assert.equal(res.statusCode, 200);
		const { rooms } = res.json<{
			rooms: { roomId: string; createdAt: number; participants: number; hostName: string }[];
		}>();
		const byId = new Map(rooms.map((r) => [r.roomId, r]));
		assert.deepEqual(byId.get(a.roomId), {
			roomId: a.roomId,
			createdAt: byId.get(a.roomId)?.createdAt,
			hostName: "Alice",
			mode: "video",
			sfuNode: "node-a",
			participants: 2,
		});
		assert.equal(byId.get(b.roomId)?.participants, 0);
		assert.ok(!byId.has("Expired234"));
		assert.equal(await api.redis.sIsMember(redisKeys.rooms, "Expired234"), 0, "stale id dropped");
	});

	test("one room: participants as the SFU wrote them, current host, pending knocks; 404 when unknown", async () => {
		const room = await createRoom(api, "Carla");
		const host = await addPresence(api.redis, room.roomId, {
			peerId: room.peerId,
			name: "Carla",
			role: "host",
			joinedAt: 1000,
			producers: [{ id: "p1", kind: "audio", source: "mic", paused: false }],
		});
		const guest = await addPresence(api.redis, room.roomId, { peerId: "guest-2", name: "Duda", joinedAt: 2000 });
		await api.redis.hSet(redisKeys.roomPeers(room.roomId), "broken", "{not json");
		await knock(api, room.roomId, "Enzo");
		await knock(api, room.roomId, "Fabi");

		const res = await asAdmin({ method: "GET", url: `/api/admin/rooms/${room.roomId}` });
		assert.equal(res.statusCode, 200, res.body);
		const body = res.json();
		assert.equal(body.roomId, room.roomId);
		assert.equal(body.hostName, "Carla");
		assert.equal(body.hostPeerId, room.peerId);
		assert.deepEqual(body.participants, [host, guest]);
		assert.equal(body.pendingKnocks, 2);

		for (const url of ["/api/admin/rooms/zzzzzzzzzz", `/api/admin/rooms/${"a".repeat(200)}`]) {
			const missing = await asAdmin({ method: "GET", url });
			assert.equal(missing.statusCode, 404);
			assert.equal(missing.json().message, "room not found");
		}
	});

	test("close: the node is told, the lobby and waiting guests hear room-closed, every key goes", async () => {
		const room: CreateRoomResponse = await createRoom(api, "Gabi");
		await addPresence(api.redis, room.roomId, { peerId: room.peerId, role: "host" });
		await api.redis.rPush(redisKeys.roomChat(room.roomId), JSON.stringify({ text: "hi" }));
		await api.redis.del(sfuCommandKeys.stream("node-a"));
		{
			const host = watchSocket<LobbyHostEvent>(`${base}/api/rooms/${room.roomId}/lobby?token=${room.hostToken}`);
			assert.equal((await host.next()).type, "knocks");
			const k = await knock(api, room.roomId, "Hana");
			assert.equal((await host.next()).type, "knock");
			const guest = watchSocket<LobbyGuestEvent>(
				`${base}/api/rooms/${room.roomId}/knocks/${k.knockId}/wait?secret=${k.knockSecret}`,
			);
			assert.equal((await guest.next()).type, "waiting");

			const res = await asAdmin({ method: "DELETE", url: `/api/admin/rooms/${room.roomId}` });
			assert.equal(res.statusCode, 504, "no node took the order");
			assert.match(res.json().message, unconfirmed);

			assert.deepEqual(await host.next(), { type: "room-closed" });
			assert.equal((await host.closed).code, 1000);
			assert.deepEqual(await guest.next(), { type: "room-closed" });
			assert.equal((await guest.closed).code, 1000);
			const closeRoom: SfuCommand = { type: "close-room", roomId: room.roomId };
			assert.deepEqual(
				(await queued(api.redis, "node-a")).map((q) => q.command),
				[closeRoom],
				"the order waits on the node's stream",
			);
			assert.ok((await api.redis.ttl(sfuCommandKeys.stream("node-a"))) > 0, "a stream nobody reads goes away");

			for (const key of roomScopedKeys(room.roomId)) assert.equal(await api.redis.exists(key), 0, key);
			assert.equal(await api.redis.exists(redisKeys.knock(k.knockId)), 0);
			assert.equal(await api.redis.sIsMember(redisKeys.rooms, room.roomId), 0);
			assert.equal((await api.app.inject({ method: "GET", url: `/api/rooms/${room.roomId}` })).statusCode, 404);
			const knockAfter = await api.app.inject({
				method: "POST",
				url: `/api/rooms/${room.roomId}/knocks`,
				payload: { name: "Late" },
			});
			assert.equal(knockAfter.statusCode, 404);

			const again = await asAdmin({ method: "DELETE", url: `/api/admin/rooms/${room.roomId}` });
			assert.equal(again.statusCode, 404);
		}
	});

	test("kick: the peer is revoked for the room's lifetime and the node is told", async () => {
		const room = await createRoom(api, "Iris");
		await addPresence(api.redis, room.roomId, { peerId: room.peerId, role: "host" });
		await addPresence(api.redis, room.roomId, { peerId: "guest-kick" });
		await api.redis.del(sfuCommandKeys.stream("node-a"));
		{
			const res = await asAdmin({ method: "DELETE", url: `/api/admin/rooms/${room.roomId}/peers/guest-kick` });
			assert.equal(res.statusCode, 504, "no node took the order");
			assert.match(res.json().message, unconfirmed);
			assert.match(res.json().message, /the peer's token is already revoked/);
			assert.equal(await api.redis.sIsMember(redisKeys.roomRevoked(room.roomId), "guest-kick"), 1);
			const ttl = await api.redis.ttl(redisKeys.roomRevoked(room.roomId));
			assert.ok(ttl > 0 && ttl <= api.config.roomTtl, `ttl ${ttl}`);
			const kick: SfuCommand = { type: "kick", roomId: room.roomId, peerId: "guest-kick" };
			const [order] = await queued(api.redis, "node-a");
			assert.deepEqual(order?.command, kick, "the order waits on the node's stream");

			// Kicking the host revokes its token for host actions too, whether or not its node confirms.
			const kickHost = await asAdmin({ method: "DELETE", url: `/api/admin/rooms/${room.roomId}/peers/${room.peerId}` });
			assert.equal(kickHost.statusCode, 504);
			const lobby = watchSocket(`${base}/api/rooms/${room.roomId}/lobby?token=${room.hostToken}`);
			assert.equal((await lobby.closed).code, 4401);
		}
	});

	test("kick: 404 for a peer not in the call or an unknown room, and nothing changes", async () => {
		const room = await createRoom(api, "Joca");
		const before = await redisContents(api.redis);
		const notPresent = await asAdmin({ method: "DELETE", url: `/api/admin/rooms/${room.roomId}/peers/nobody` });
		assert.equal(notPresent.statusCode, 404);
		assert.equal(notPresent.json().message, "peer not in the room");
		const unknownRoom = await asAdmin({ method: "DELETE", url: "/api/admin/rooms/zzzzzzzzzz/peers/nobody" });
		assert.equal(unknownRoom.statusCode, 404);
		assert.equal(unknownRoom.json().message, "room not found");
		const longPeer = await asAdmin({
			method: "DELETE",
			url: `/api/admin/rooms/${room.roomId}/peers/${"p".repeat(100)}`,
		});
		assert.equal(longPeer.statusCode, 404);
		const closeUnknown = await asAdmin({ method: "DELETE", url: "/api/admin/rooms/zzzzzzzzzz" });
		assert.equal(closeUnknown.statusCode, 404);
		assert.deepEqual(await redisContents(api.redis), before);
	});
});

describe("admin API without ADMIN_TOKEN", () => {
	let api: TestApi;

	before(async () => {
		api = await startTestApi();
	});
	after(async () => {
		await api?.close();
	});

	test("every admin route answers 401 saying how to enable it", async () => {
		for (const options of [
			{ method: "GET" as const, url: "/api/admin/rooms" },
			{ method: "GET" as const, url: "/api/admin/rooms/zzzzzzzzzz" },
			{ method: "DELETE" as const, url: "/api/admin/rooms/zzzzzzzzzz" },
			{ method: "DELETE" as const, url: "/api/admin/rooms/zzzzzzzzzz/peers/p" },
		]) {
			for (const headers of [{}, { authorization: "Bearer anything-at-all-long-enough" }]) {
				const res = await api.app.inject({ ...options, headers });
				assert.equal(res.statusCode, 401);
				assert.deepEqual(res.json(), { statusCode: 401, error: "Unauthorized", message: adminDisabledMessage });
			}
		}
		assert.equal(adminDisabledMessage, "admin API disabled: set ADMIN_TOKEN");
	});
});
