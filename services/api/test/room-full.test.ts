/**
 * The lobby never lets a guest into a full room (ROOM_MAX_PEERS, here 3),
 * with the real Redis: a knock on a full room is refused at once (409
 * `room-full`, nothing written); an admit into a full room is refused and
 * the knock stays pending; both work again once a place frees up. "Full"
 * counts the people in the call (the SFU's presence hash, written here the
 * way the SFU writes it), one place kept for a host who is not in the call,
 * and admitted guests who are not in the call yet.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
	type ApiError,
	type CreateRoomResponse,
	type LobbyGuestEvent,
	type LobbyHostEvent,
	lobbyRoomFullCode,
	redisKeys,
	roomAdmittedKey,
	roomMaxPeersDefault,
} from "@mindmeet/protocol";
import { KnockStore } from "../src/lobby/knocks.ts";
import {
	addPresence,
	createRoom,
	decide,
	knock,
	listen,
	redisContents,
	registerNode,
	startTestApi,
	type TestApi,
	watchSocket,
} from "./helpers.ts";

function knockFrom(api: TestApi, roomId: string, name = "Guest") {
	return api.app.inject({ method: "POST", url: `/api/rooms/${roomId}/knocks`, payload: { name } });
}

function assertRoomFull(res: { statusCode: number; json<T>(): T }, what: string): void {
	assert.equal(res.statusCode, 409, what);
	const body = res.json<ApiError>();
	assert.equal(body.code, lobbyRoomFullCode, what);
	assert.match(body.message, /^the room is full \(3 people at most/, what);
}

async function pendingIds(api: TestApi, roomId: string): Promise<string[]> {
	return (await new KnockStore(api.redis, 120).pending(roomId)).map((k) => k.id);
}

describe("a full room in the lobby (ROOM_MAX_PEERS=3)", () => {
	let api: TestApi;
	let base: string;

	before(async () => {
		api = await startTestApi({ KNOCK_RATE_LIMIT: "100000", ROOM_MAX_PEERS: "3" });
		await registerNode(api.redis, { id: "node-a" });
		base = await listen(api);
	});
	after(async () => {
		await api?.close();
	});

	const hostIn = (room: CreateRoomResponse) =>
		addPresence(api.redis, room.roomId, { peerId: room.peerId, role: "host" });
	const guestIn = (room: CreateRoomResponse, peerId: string) => addPresence(api.redis, room.roomId, { peerId });
	const leave = (room: CreateRoomResponse, peerId: string) => api.redis.hDel(redisKeys.roomPeers(room.roomId), peerId);

	test("the API reads ROOM_MAX_PEERS with the SFU's default", () => {
		assert.equal(api.config.roomMaxPeers, 3);
		assert.equal(roomMaxPeersDefault, 50);
	});

	test("a knock on a full room is refused at once with 409 room-full and writes nothing; it works once a place frees", async () => {
		const room = await createRoom(api);
		await hostIn(room);
		await guestIn(room, "guest-1");
		await guestIn(room, "guest-2");
		const before = await redisContents(api.redis);
		const refused = await knockFrom(api, room.roomId);
		assertRoomFull(refused, "host and two guests fill three places");
		assert.deepEqual(await redisContents(api.redis), before, "a refused knock writes nothing");

		await leave(room, "guest-2");
		assert.equal((await knockFrom(api, room.roomId)).statusCode, 201, "a place is free again");
	});

	test("the host's place is kept while the host is away: guests fill all but one", async () => {
		const room = await createRoom(api);
		// The host is not in the call (reloading, say): two guests fill the room for guests.
		await guestIn(room, "guest-1");
		assert.equal((await knockFrom(api, room.roomId)).statusCode, 201, "one guest and the host's place: one free");
		await guestIn(room, "guest-2");
		assertRoomFull(await knockFrom(api, room.roomId), "two guests and the host's place");
		// Whoever is host now counts, not who created the room: after a handover the new host's presence frees it.
		await api.redis.set(redisKeys.roomHost(room.roomId), "guest-1");
		assert.equal((await knockFrom(api, room.roomId)).statusCode, 201, "the host (guest-1) is in: one place free");
	});

	test("an admit into a full room is refused, the knock stays pending and its guest hears nothing; admit works once a place frees", async () => {
		const room = await createRoom(api);
		await hostIn(room);
		await guestIn(room, "guest-1");
		const k = await knock(api, room.roomId, "Late");
		const wait = watchSocket<LobbyGuestEvent>(
			`${base}/api/rooms/${room.roomId}/knocks/${k.knockId}/wait?secret=${encodeURIComponent(k.knockSecret)}`,
		);
		assert.equal((await wait.next()).type, "waiting");
		const lobby = watchSocket<LobbyHostEvent>(
			`${base}/api/rooms/${room.roomId}/lobby?token=${encodeURIComponent(room.hostToken)}`,
		);
		assert.equal((await lobby.next()).type, "knocks");

		// Someone else got the last place meanwhile.
		await guestIn(room, "guest-2");
		const before = await redisContents(api.redis);
		const refused = await decide(api, room.roomId, k.knockId, "admit", room.hostToken);
		assertRoomFull(refused, "admit into a full room");
		assert.match(refused.json<ApiError>().message, /the knock stays pending/);
		assert.deepEqual(await redisContents(api.redis), before, "a refused admit writes nothing");
		assert.deepEqual(await pendingIds(api, room.roomId), [k.knockId], "the knock is still pending");

		await leave(room, "guest-2");
		const admit = await decide(api, room.roomId, k.knockId, "admit", room.hostToken);
		assert.equal(admit.statusCode, 200);
		const answer = await wait.next();
		assert.equal(answer.type, "admitted", "the guest hears only the admission, nothing about the refusal");
		// The host's queue: the refused admit told it nothing; the admission ends the knock.
		assert.deepEqual(await lobby.next(), { type: "knock-ended", knockId: k.knockId, end: "admitted" });
		lobby.socket.close();
		await wait.closed;
	});

	test("a full room can still deny a knock", async () => {
		const room = await createRoom(api);
		const k = await knock(api, room.roomId, "Waiting");
		await hostIn(room);
		await guestIn(room, "guest-1");
		await guestIn(room, "guest-2");
		assertRoomFull(await decide(api, room.roomId, k.knockId, "admit", room.hostToken), "full");
		assert.equal((await decide(api, room.roomId, k.knockId, "deny", room.hostToken)).statusCode, 200);
		assert.deepEqual(await pendingIds(api, room.roomId), []);
	});

	test("admitted guests on their way hold their place, once: counted until they are in the call, not twice after", async () => {
		const room = await createRoom(api);
		await hostIn(room);
		const a = await knock(api, room.roomId, "Ana");
		const b = await knock(api, room.roomId, "Bia");
		const c = await knock(api, room.roomId, "Caio");
		const admitA = await decide(api, room.roomId, a.knockId, "admit", room.hostToken);
		assert.equal(admitA.statusCode, 200);
		const ana = admitA.json<{ peerId: string }>().peerId;
		// Ana arrives: she is in the call and counts once (host + Ana = 2 of 3), so Caio fits.
		await guestIn(room, ana);
		const admitC = await decide(api, room.roomId, c.knockId, "admit", room.hostToken);
		assert.equal(admitC.statusCode, 200, "an admitted guest in the call is not counted twice");
		// The host, Ana, and Caio on his way: nobody else fits, though Caio is not in the call yet.
		assertRoomFull(await decide(api, room.roomId, b.knockId, "admit", room.hostToken), "Caio on his way");
		assertRoomFull(await knockFrom(api, room.roomId), "a new knock too");
		const caio = admitC.json<{ peerId: string }>().peerId;
		await guestIn(room, caio);
		assertRoomFull(await decide(api, room.roomId, b.knockId, "admit", room.hostToken), "Caio arrived: still three");
		// Caio leaves: his place is free at once (the last count saw him arrive; he is no longer on his way).
		await leave(room, caio);
		assert.equal((await decide(api, room.roomId, b.knockId, "admit", room.hostToken)).statusCode, 200);
		// The set of admissions expires by itself.
		assert.ok((await api.redis.pTTL(roomAdmittedKey(room.roomId))) > 0);
	});

	test("admits racing for the last places: exactly as many as fit are admitted, the rest stay pending", async () => {
		const room = await createRoom(api);
		await hostIn(room);
		const knocks = [];
		for (let i = 0; i < 6; i++) knocks.push(await knock(api, room.roomId, `Racer ${i}`));
		const answers = await Promise.all(knocks.map((k) => decide(api, room.roomId, k.knockId, "admit", room.hostToken)));
		const codes = answers.map((res) => res.statusCode);
		assert.equal(codes.filter((code) => code === 200).length, 2, `answers: ${codes.join(",")}`);
		assert.equal(codes.filter((code) => code === 409).length, 4);
		for (const res of answers) if (res.statusCode === 409) assert.equal(res.json<ApiError>().code, lobbyRoomFullCode);
		assert.equal((await pendingIds(api, room.roomId)).length, 4, "the refused knocks are still pending");
	});
});

describe("ROOM_MAX_PEERS in the API's configuration", () => {
	test("defaults to the protocol's default and refuses values out of range, naming the variable", async () => {
		const { loadApiConfig } = await import("../src/config.ts");
		const env = { REDIS_URL: "redis://127.0.0.1:6379" };
		assert.equal(loadApiConfig(env).roomMaxPeers, roomMaxPeersDefault);
		assert.equal(loadApiConfig({ ...env, ROOM_MAX_PEERS: "2" }).roomMaxPeers, 2);
		for (const bad of ["0", "1001", "-1", "many", "2.5"]) {
			assert.throws(() => loadApiConfig({ ...env, ROOM_MAX_PEERS: bad }), /ROOM_MAX_PEERS/);
		}
	});
});
