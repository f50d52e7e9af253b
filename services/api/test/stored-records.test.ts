/**
 * Records in Redis that the API cannot read (garbage, wrong types, missing
 * fields, another version's extras), and events off the contract on the lobby
 * channels. Each is validated with its protocol schema: an unreadable record
 * is a room, knock or account that does not exist, an unreadable event is
 * dropped, nothing is written over what is there, and the API goes on
 * answering. Real Redis; the app as the server runs it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
	type CreateRoomResponse,
	type KnockResponse,
	type LobbyGuestEvent,
	type LobbyHostEvent,
	type RoomInfo,
	redisChannels,
	redisKeys,
	type StoredRoom,
	sfuNodeStaleMs,
} from "@mindmeet/protocol";
import type { InjectOptions } from "fastify";
import {
	addPresence,
	createRoom,
	decide,
	knock,
	listen,
	registerNode,
	startTestApi,
	type TestApi,
	watchSocket,
} from "./helpers.ts";

const adminToken = "stored-records-admin-token-0123";

/**
 * Unreadable in a way every reader must catch: not JSON, not an object, or JSON of the wrong shape
 * (each field in turn missing, unless the schema has it optional, or of the wrong type).
 */
const garbage = (valid: Record<string, unknown>, optional: string[] = []): Record<string, string> => ({
	"not JSON": "{not json",
	null: "null",
	number: "42",
	array: JSON.stringify([valid]),
	empty: "{}",
	...Object.fromEntries(
		Object.keys(valid).flatMap((field) => {
			const { [field]: _left, ...without } = valid;
			const wrongType = [`${field} of the wrong type`, JSON.stringify({ ...valid, [field]: [valid[field]] })];
			return optional.includes(field) ? [wrongType] : [[`without ${field}`, JSON.stringify(without)], wrongType];
		}),
	),
});

describe("records in Redis the API cannot read", { timeout: 120_000 }, () => {
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

	const get = (url: string, options: Partial<InjectOptions> = {}) => api.app.inject({ method: "GET", url, ...options });
	const asAdmin = { headers: { authorization: `Bearer ${adminToken}` } };
	const hostSocket = (roomId: string, token: string) =>
		watchSocket<LobbyHostEvent>(`${base}/api/rooms/${roomId}/lobby?token=${encodeURIComponent(token)}`);
	const waitSocket = (roomId: string, k: Pick<KnockResponse, "knockId" | "knockSecret">) =>
		watchSocket<LobbyGuestEvent>(
			`${base}/api/rooms/${roomId}/knocks/${k.knockId}/wait?secret=${encodeURIComponent(k.knockSecret)}`,
		);

	test("a room record overwritten with garbage reads as no such room; nothing is written; the API answers on", async () => {
		const room = await createRoom(api, "Ana");
		const other = await createRoom(api, "Bia");
		const key = redisKeys.room(room.roomId);
		const original = await api.redis.get(key);
		assert.ok(original);
		const cases = garbage(JSON.parse(original) as Record<string, unknown>, ["hostPeerId"]);
		// A rooms mode or an id that no writer writes.
		cases["mode screen"] = JSON.stringify({ ...JSON.parse(original), mode: "screen" });
		cases["empty sfuNode"] = JSON.stringify({ ...JSON.parse(original), sfuNode: "" });
		for (const [what, value] of Object.entries(cases)) {
			await api.redis.set(key, value, { KEEPTTL: true });
			const info = await get(`/api/rooms/${room.roomId}`);
			assert.equal(info.statusCode, 404, what);
			assert.deepEqual(info.json(), { statusCode: 404, error: "Not Found", message: "room not found" }, what);
			assert.equal((await get(`/api/admin/rooms/${room.roomId}`, asAdmin)).statusCode, 404, `admin, ${what}`);
			assert.equal(await api.redis.get(key), value, `the record is left as it was (${what})`);
			// Another room, and the API itself, are unaffected.
			assert.equal((await get(`/api/rooms/${other.roomId}`)).statusCode, 200, what);
		}
		const listing = await get("/api/admin/rooms", asAdmin);
		assert.equal(listing.statusCode, 200);
		const listed = listing.json<{ rooms: { roomId: string }[] }>().rooms.map((r) => r.roomId);
		assert.ok(!listed.includes(room.roomId), "an unreadable room is not listed");
		assert.ok(listed.includes(other.roomId));
		assert.equal((await get("/api/health")).statusCode, 200);

		// The same room with its record back is served again: the record was what made it unknown.
		await api.redis.set(key, original, { KEEPTTL: true });
		assert.equal((await get(`/api/rooms/${room.roomId}`)).statusCode, 200);
		// A record from before hostPeerId existed is still served (the host key is what authorises).
		const { hostPeerId: _first, ...old } = JSON.parse(original) as StoredRoom;
		await api.redis.set(key, JSON.stringify(old), { KEEPTTL: true });
		assert.equal((await get(`/api/rooms/${room.roomId}`)).statusCode, 200);
	});

	test("a room record with fields from another version is served, and a re-placement keeps them", async () => {
		await registerNode(api.redis, { id: "node-old" });
		const created = await api.app.inject({
			method: "POST",
			url: "/api/rooms",
			payload: { hostName: "Dani", mode: "audio" },
		});
		const { roomId } = created.json<CreateRoomResponse>();
		const key = redisKeys.room(roomId);
		const stored = JSON.parse((await api.redis.get(key)) ?? "null") as StoredRoom;
		const newer = { ...stored, sfuNode: "node-old", capacity: 12, region: { name: "eu" } };
		await api.redis.set(key, JSON.stringify(newer), { KEEPTTL: true });
		// node-old goes quiet; node-a is live: the room moves there.
		await registerNode(api.redis, { id: "node-old", heartbeatAt: Date.now() - sfuNodeStaleMs - 1_000 });
		await registerNode(api.redis, { id: "node-a" });
		const info = await get(`/api/rooms/${roomId}`);
		assert.equal(info.statusCode, 200, info.body);
		assert.deepEqual(info.json<RoomInfo>(), { roomId, mode: "audio", sfuUrl: "/sfu/node-a" });
		assert.deepEqual(JSON.parse((await api.redis.get(key)) ?? "null"), { ...newer, sfuNode: "node-a" });
		await api.redis.hDel(redisKeys.sfuNodes, "node-old");
	});

	test("a knock record overwritten with garbage is an unknown knock; the lobby and other knocks go on", async () => {
		const room = await createRoom(api, "Eva");
		const host = hostSocket(room.roomId, room.hostToken);
		assert.deepEqual(await host.next(), { type: "knocks", knocks: [] });
		const broken = await knock(api, room.roomId, "Fabi");
		assert.equal((await host.next()).type, "knock");
		const key = redisKeys.knock(broken.knockId);
		const original = JSON.parse((await api.redis.get(key)) ?? "null") as Record<string, unknown>;
		const cases = garbage(original);
		cases["status waiting"] = JSON.stringify({ ...original, status: "waiting" });
		for (const [what, value] of Object.entries(cases)) {
			await api.redis.set(key, value, { KEEPTTL: true });
			const guest = waitSocket(room.roomId, broken);
			assert.deepEqual(await guest.closed, { code: 4404, reason: "unknown knock" }, what);
			const admit = await decide(api, room.roomId, broken.knockId, "admit", room.hostToken);
			assert.equal(admit.statusCode, 404, `admit, ${what}`);
			assert.equal(admit.json().message, "knock not found", what);
			const cancel = await api.app.inject({
				method: "DELETE",
				url: `/api/rooms/${room.roomId}/knocks/${broken.knockId}?secret=${encodeURIComponent(broken.knockSecret)}`,
			});
			assert.equal(cancel.statusCode, 404, `cancel, ${what}`);
			assert.equal(await api.redis.get(key), value, `the record is left as it was (${what})`);
		}
		// A new host socket's snapshot leaves the unreadable knock out; a new knock is admitted as usual.
		const again = hostSocket(room.roomId, room.hostToken);
		assert.deepEqual(await again.next(), { type: "knocks", knocks: [] });
		const good = await knock(api, room.roomId, "Gabi");
		const guest = waitSocket(room.roomId, good);
		assert.equal((await guest.next()).type, "waiting");
		assert.equal((await decide(api, room.roomId, good.knockId, "admit", room.hostToken)).statusCode, 200);
		const admitted = await guest.next();
		assert.ok(admitted.type === "admitted" && admitted.token.length > 0);
		for (const socket of [host, again]) socket.socket.close();
	});

	test("events off the contract on the lobby channels are dropped; the sockets go on", async () => {
		const room = await createRoom(api, "Hugo");
		const host = hostSocket(room.roomId, room.hostToken);
		assert.deepEqual(await host.next(), { type: "knocks", knocks: [] });
		const k = await knock(api, room.roomId, "Iara");
		const shown = await host.next();
		assert.ok(shown.type === "knock" && shown.knock.id === k.knockId);
		const guest = waitSocket(room.roomId, k);
		assert.equal((await guest.next()).type, "waiting");

		const offContract = ["{not json", "null", "[]", JSON.stringify({ type: 7 }), JSON.stringify({ type: "nonsense" })];
		for (const message of [
			...offContract,
			// Before schemas, this one closed the host's socket: an undefined peer id is not the host's.
			JSON.stringify({ type: "host-changed" }),
			JSON.stringify({ type: "knock" }),
			JSON.stringify({ type: "knock", knock: { id: "x", name: 7 } }),
			JSON.stringify({ type: "knock-ended", knockId: k.knockId, end: "vanished" }),
		]) {
			await api.redis.publish(redisChannels.lobby(room.roomId), message);
		}
		for (const message of [
			...offContract,
			// Before schemas, this one was sent on to the guest as an admission without a token, and closed its socket.
			JSON.stringify({ type: "admitted" }),
			JSON.stringify({ type: "admitted", token: 42, peerId: "p" }),
		]) {
			await api.redis.publish(redisChannels.knock(k.knockId), message);
		}

		// The next real event on each socket is the first thing either hears after the garbage.
		const later = await knock(api, room.roomId, "Joana");
		const next = await host.next();
		assert.ok(next.type === "knock" && next.knock.id === later.knockId, JSON.stringify(next));
		assert.equal((await decide(api, room.roomId, k.knockId, "admit", room.hostToken)).statusCode, 200);
		assert.deepEqual(await host.next(), { type: "knock-ended", knockId: k.knockId, end: "admitted" });
		const admitted = await guest.next();
		assert.ok(admitted.type === "admitted" && admitted.token.length > 0, JSON.stringify(admitted));
		assert.equal((await guest.closed).code, 1000);
		host.socket.close();
	});

	test("presence entries off the contract are left out of the admin view; the others are listed", async () => {
		const room = await createRoom(api, "Karla");
		const host = await addPresence(api.redis, room.roomId, { peerId: room.peerId, name: "Karla", role: "host" });
		const key = redisKeys.roomPeers(room.roomId);
		const valid = { ...host } as unknown as Record<string, unknown>;
		for (const [what, value] of Object.entries({
			...garbage(valid),
			"role admin": JSON.stringify({ ...host, role: "admin" }),
			"a producer off the contract": JSON.stringify({
				...host,
				producers: [{ id: "p1", kind: "data", source: "mic", paused: false }],
			}),
		})) {
			await api.redis.hSet(key, `broken: ${what}`, value);
		}
		const res = await get(`/api/admin/rooms/${room.roomId}`, asAdmin);
		assert.equal(res.statusCode, 200, res.body);
		assert.deepEqual(res.json<{ participants: unknown[] }>().participants, [host]);
	});
});

describe("account and session records the API cannot read (ROOM_CREATION=accounts)", { timeout: 60_000 }, () => {
	let api: TestApi;

	before(async () => {
		api = await startTestApi({
			ROOM_CREATION: "accounts",
			ADMIN_TOKEN: adminToken,
			SIGN_IN_RATE_LIMIT: "1000",
			ROOM_CREATE_RATE_LIMIT: "1000",
		});
		await registerNode(api.redis, { id: "node-a" });
	});
	after(async () => {
		await api?.close();
	});

	const signIn = (name: string, password: string) =>
		api.app.inject({ method: "POST", url: "/api/session", payload: { name, password } });
	// The node heartbeats as a live one would: these tests take longer than a heartbeat stays fresh (scrypt).
	const createRoomWith = async (token: string) => {
		await registerNode(api.redis, { id: "node-a" });
		return api.app.inject({
			method: "POST",
			url: "/api/rooms",
			payload: { hostName: "Host", mode: "video" },
			headers: { authorization: `Bearer ${token}` },
		});
	};
	const admin = (method: "GET" | "POST", url: string, payload?: object) =>
		api.app.inject({
			method,
			url,
			headers: { authorization: `Bearer ${adminToken}` },
			...(payload ? { payload } : {}),
		});

	test("an unreadable account cannot sign in and is not listed; its sessions stop working; others are unaffected", async () => {
		for (const name of ["lia", "mel"]) {
			assert.equal(
				(await admin("POST", "/api/admin/accounts", { name, password: `${name}-password-1` })).statusCode,
				201,
			);
		}
		const session = (await signIn("lia", "lia-password-1")).json<{ token: string }>();
		assert.equal((await createRoomWith(session.token)).statusCode, 201);

		const key = redisKeys.account("lia");
		const original = await api.redis.get(key);
		assert.ok(original);
		for (const [what, value] of Object.entries(garbage(JSON.parse(original) as Record<string, unknown>))) {
			await api.redis.set(key, value);
			const res = await signIn("lia", "lia-password-1");
			assert.equal(res.statusCode, 401, what);
			assert.equal(res.json().message, "wrong name or password", what);
			assert.equal((await createRoomWith(session.token)).statusCode, 401, `an earlier session, ${what}`);
			const listed = admin("GET", "/api/admin/accounts").then((r) => r.json<{ accounts: { name: string }[] }>());
			assert.deepEqual(
				(await listed).accounts.map((a) => a.name),
				["mel"],
				what,
			);
			assert.equal(await api.redis.get(key), value, `the record is left as it was (${what})`);
			assert.equal((await signIn("mel", "mel-password-1")).statusCode, 201, `another account, ${what}`);
		}
		await api.redis.set(key, original);
		assert.equal((await createRoomWith(session.token)).statusCode, 201, "the record back, the session works again");
	});

	test("an unreadable session record is no session", async () => {
		await admin("POST", "/api/admin/accounts", { name: "nina", password: "nina-password-1" });
		const session = (await signIn("nina", "nina-password-1")).json<{ token: string }>();
		const keys = await api.redis.keys(redisKeys.hostSession("*"));
		const values = await Promise.all(keys.map(async (key) => [key, await api.redis.get(key)] as const));
		const found = values.find(([, value]) => value?.includes('"name":"nina"'));
		assert.ok(found?.[1]);
		const [key, original] = found;
		for (const [what, value] of Object.entries({
			...garbage(JSON.parse(original) as Record<string, unknown>, ["name"]),
			"mode open": JSON.stringify({ ...JSON.parse(original), mode: "open" }),
		})) {
			await api.redis.set(key, value, { KEEPTTL: true });
			assert.equal((await createRoomWith(session.token)).statusCode, 401, what);
		}
		await api.redis.set(key, original, { KEEPTTL: true });
		assert.equal((await createRoomWith(session.token)).statusCode, 201);
	});
});
