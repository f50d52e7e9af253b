/**
 * The lobby end to end over real sockets: a guest knocks and waits on its
 * WebSocket, the host sees the queue on its own, admits or denies over HTTP.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
	type CreateRoomResponse,
	type KnockResponse,
	type LobbyGuestEvent,
	type LobbyHostEvent,
	redisChannels,
	redisKeys,
} from "@mindmeet/protocol";
import { redisPublicKeyStore, TokenSigner, TokenVerifier } from "@mindmeet/protocol/token-keys";
import type { KnockRecord } from "../src/lobby/knocks.ts";
import {
	createRoom,
	decide,
	eventually,
	knock,
	listen,
	redisContents,
	registerNode,
	startTestApi,
	type TestApi,
	watchSocket,
} from "./helpers.ts";

type Admitted = Extract<LobbyGuestEvent, { type: "admitted" }>;

describe("lobby", { timeout: 60_000 }, () => {
	let api: TestApi;
	let base: string;
	let verifier: TokenVerifier;

	before(async () => {
		// Every inject comes from 127.0.0.1: lift the knock rate limit out of the way here.
		api = await startTestApi({ KNOCK_RATE_LIMIT: "100000" });
		await registerNode(api.redis, { id: "node-a" });
		base = await listen(api);
		verifier = new TokenVerifier(redisPublicKeyStore(api.redis));
	});
	after(async () => {
		await api?.close();
	});

	const hostSocket = (roomId: string, token: string) =>
		watchSocket<LobbyHostEvent>(`${base}/api/rooms/${roomId}/lobby?token=${encodeURIComponent(token)}`);
	const waitSocket = (roomId: string, k: Pick<KnockResponse, "knockId" | "knockSecret">) =>
		watchSocket<LobbyGuestEvent>(
			`${base}/api/rooms/${roomId}/knocks/${k.knockId}/wait?secret=${encodeURIComponent(k.knockSecret)}`,
		);
	const readKnock = async (knockId: string) =>
		JSON.parse((await api.redis.get(redisKeys.knock(knockId))) ?? "null") as KnockRecord | null;
	const queued = (roomId: string) => api.redis.zRange(redisKeys.roomKnocks(roomId), 0, -1);

	/** A room, its host's lobby socket (snapshot consumed) and the host's token. */
	async function roomWithHost(hostName = "Host") {
		const room = await createRoom(api, hostName);
		const host = hostSocket(room.roomId, room.hostToken);
		assert.deepEqual(await host.next(), { type: "knocks", knocks: [] });
		return { room, host };
	}

	/** Knock and open the guest's waiting socket, past its `waiting` message. */
	async function waitingGuest(roomId: string, name: string) {
		const k = await knock(api, roomId, name);
		const guest = waitSocket(roomId, k);
		assert.deepEqual(await guest.next(), { type: "waiting", expiresAt: k.expiresAt });
		return { k, guest };
	}

	test("knock → host sees it → admit → the guest gets a token that verifies", async () => {
		const room = await createRoom(api);
		const early = await knock(api, room.roomId, "  Eva   Lima ");
		assert.match(early.knockId, /^[A-Za-z0-9_-]{16}$/);
		assert.match(early.knockSecret, /^[A-Za-z0-9_-]{43}$/);
		assert.ok(early.expiresAt > Date.now());

		const host = hostSocket(room.roomId, room.hostToken);
		const snapshot = await host.next();
		assert.equal(snapshot.type, "knocks");
		assert.ok(snapshot.type === "knocks");
		assert.deepEqual(
			snapshot.knocks.map((k) => [k.id, k.name, k.expiresAt]),
			[[early.knockId, "Eva Lima", early.expiresAt]],
		);

		const guest = waitSocket(room.roomId, early);
		assert.deepEqual(await guest.next(), { type: "waiting", expiresAt: early.expiresAt });

		const later = await knock(api, room.roomId, "Caio");
		const live = await host.next();
		assert.ok(live.type === "knock");
		assert.equal(live.knock.id, later.knockId);
		assert.equal(live.knock.name, "Caio");

		const res = await decide(api, room.roomId, early.knockId, "admit", room.hostToken);
		assert.equal(res.statusCode, 200, res.body);
		const { peerId } = res.json<{ peerId: string }>();
		assert.deepEqual(Object.keys(res.json()), ["peerId"], "the host never sees the guest's token");

		const admitted = (await guest.next()) as Admitted;
		assert.equal(admitted.type, "admitted");
		assert.equal(admitted.peerId, peerId);
		const claims = await verifier.verify(admitted.token);
		assert.equal(claims.role, "guest");
		assert.equal(claims.room, room.roomId);
		assert.equal(claims.name, "Eva Lima");
		assert.equal(claims.sub, peerId);
		assert.notEqual(peerId, room.peerId);
		assert.equal(claims.exp - claims.iat, api.config.guestTokenTtl);
		assert.equal((await guest.closed).code, 1000);

		assert.deepEqual(await host.next(), { type: "knock-ended", knockId: early.knockId, end: "admitted" });
		assert.deepEqual(await queued(room.roomId), [later.knockId]);
		const record = await readKnock(early.knockId);
		assert.equal(record?.status, "admitted");
		assert.equal(record?.admittedPeerId, peerId);
		// Delivered: the token is not kept in Redis any longer.
		await eventually(async () => (await readKnock(early.knockId))?.admittedToken === undefined, "token dropped");
		host.socket.close();
	});

	test("deny → the guest hears it, and may knock again", async () => {
		const { room, host } = await roomWithHost();
		const { k, guest } = await waitingGuest(room.roomId, "Davi");
		assert.equal((await host.next()).type, "knock");

		const res = await decide(api, room.roomId, k.knockId, "deny", room.hostToken);
		assert.equal(res.statusCode, 200, res.body);
		assert.deepEqual(await guest.next(), { type: "denied" });
		assert.equal((await guest.closed).code, 1000);
		assert.deepEqual(await host.next(), { type: "knock-ended", knockId: k.knockId, end: "denied" });
		assert.equal((await readKnock(k.knockId))?.status, "denied");

		const again = await waitingGuest(room.roomId, "Davi");
		assert.notEqual(again.k.knockId, k.knockId);
		const seen = await host.next();
		assert.ok(seen.type === "knock" && seen.knock.id === again.k.knockId);
		const admit = await decide(api, room.roomId, again.k.knockId, "admit", room.hostToken);
		assert.equal(admit.statusCode, 200);
		assert.equal((await again.guest.next()).type, "admitted");
		host.socket.close();
	});

	test("two knocks at once: the host sees both, admits one, denies the other, each guest hears its answer", async () => {
		const { room, host } = await roomWithHost();
		const [a, b] = await Promise.all([waitingGuest(room.roomId, "Ana"), waitingGuest(room.roomId, "Bia")]);
		const seen = [await host.next(), await host.next()];
		assert.deepEqual(
			seen.map((e) => (e.type === "knock" ? e.knock.id : e.type)).sort(),
			[a.k.knockId, b.k.knockId].sort(),
		);

		const [admit, deny] = await Promise.all([
			decide(api, room.roomId, a.k.knockId, "admit", room.hostToken),
			decide(api, room.roomId, b.k.knockId, "deny", room.hostToken),
		]);
		assert.equal(admit.statusCode, 200);
		assert.equal(deny.statusCode, 200);
		const answerA = await a.guest.next();
		assert.equal(answerA.type, "admitted");
		assert.equal((await verifier.verify((answerA as Admitted).token)).name, "Ana");
		assert.deepEqual(await b.guest.next(), { type: "denied" });
		const ended = [await host.next(), await host.next()];
		assert.deepEqual(
			ended.map((e) => (e.type === "knock-ended" ? `${e.knockId}:${e.end}` : e.type)).sort(),
			[`${a.k.knockId}:admitted`, `${b.k.knockId}:denied`].sort(),
		);
		assert.deepEqual(await queued(room.roomId), []);
		host.socket.close();
	});

	test("two admits at the same moment: exactly one wins, the other is 409", async () => {
		const room = await createRoom(api);
		const { k, guest } = await waitingGuest(room.roomId, "Gil");
		const results = await Promise.all([
			decide(api, room.roomId, k.knockId, "admit", room.hostToken),
			decide(api, room.roomId, k.knockId, "admit", room.hostToken),
		]);
		assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 409]);
		const winner = results.find((r) => r.statusCode === 200);
		const admitted = (await guest.next()) as Admitted;
		assert.equal(admitted.peerId, winner?.json().peerId);
		assert.equal((await guest.closed).code, 1000);
		assert.deepEqual(guest.queued(), [], "the guest hears one answer only");

		// Admit against deny: one wins as well.
		const other = await waitingGuest(room.roomId, "Hugo");
		const race = await Promise.all([
			decide(api, room.roomId, other.k.knockId, "admit", room.hostToken),
			decide(api, room.roomId, other.k.knockId, "deny", room.hostToken),
		]);
		assert.deepEqual(race.map((r) => r.statusCode).sort(), [200, 409]);
	});

	test("a guest who closes its waiting socket leaves the host's queue", async () => {
		const { room, host } = await roomWithHost();
		const { k, guest } = await waitingGuest(room.roomId, "Ivo");
		assert.equal((await host.next()).type, "knock");
		guest.socket.close();
		assert.deepEqual(await host.next(), { type: "knock-ended", knockId: k.knockId, end: "cancelled" });
		assert.deepEqual(await queued(room.roomId), []);
		assert.equal((await readKnock(k.knockId))?.status, "cancelled");
		const late = await decide(api, room.roomId, k.knockId, "admit", room.hostToken);
		assert.equal(late.statusCode, 409);

		// A host connecting now does not see it either.
		const second = hostSocket(room.roomId, room.hostToken);
		assert.deepEqual(await second.next(), { type: "knocks", knocks: [] });
		second.socket.close();
		host.socket.close();
	});

	test("a guest admitted while away gets its token on reconnect, once", async () => {
		const room = await createRoom(api);
		const k = await knock(api, room.roomId, "Jade");
		const admit = await decide(api, room.roomId, k.knockId, "admit", room.hostToken);
		assert.equal(admit.statusCode, 200);
		assert.ok((await readKnock(k.knockId))?.admittedToken, "kept until delivered");

		const guest = waitSocket(room.roomId, k);
		const admitted = (await guest.next()) as Admitted;
		assert.equal(admitted.type, "admitted");
		assert.equal(admitted.peerId, admit.json().peerId);
		assert.equal((await guest.closed).code, 1000);
		await eventually(async () => (await readKnock(k.knockId))?.admittedToken === undefined, "token dropped");

		const again = waitSocket(room.roomId, k);
		assert.equal((await again.closed).code, 4404);
	});

	test("a denied guest who connects late hears `denied`, then the socket closes", async () => {
		const room = await createRoom(api);
		const k = await knock(api, room.roomId, "Lia");
		assert.equal((await decide(api, room.roomId, k.knockId, "deny", room.hostToken)).statusCode, 200);
		const guest = waitSocket(room.roomId, k);
		assert.deepEqual(await guest.next(), { type: "denied" });
		assert.equal((await guest.closed).code, 1000);
	});

	test("waiting socket: missing or wrong secret → 4401, unknown knock → 4404", async () => {
		const room = await createRoom(api);
		const k = await knock(api, room.roomId, "Malu");
		const noSecret = watchSocket(`${base}/api/rooms/${room.roomId}/knocks/${k.knockId}/wait`);
		assert.equal((await noSecret.closed).code, 4401);
		const wrong = waitSocket(room.roomId, { knockId: k.knockId, knockSecret: "x".repeat(43) });
		assert.equal((await wrong.closed).code, 4401);
		const unknown = waitSocket(room.roomId, { knockId: "A".repeat(16), knockSecret: k.knockSecret });
		assert.equal((await unknown.closed).code, 4404);
		const other = await createRoom(api);
		const elsewhere = waitSocket(other.roomId, k);
		assert.equal((await elsewhere.closed).code, 4404, "a knock is only found under its own room");
		const long = waitSocket(room.roomId, { knockId: "k".repeat(300), knockSecret: k.knockSecret });
		assert.equal((await long.closed).code, 4404);
		// None of this withdrew the knock.
		assert.equal((await readKnock(k.knockId))?.status, "pending");
	});

	test("a plain GET of a lobby WebSocket route is 426", async () => {
		const room = await createRoom(api);
		const res = await api.app.inject({ method: "GET", url: `/api/rooms/${room.roomId}/lobby?token=x` });
		assert.equal(res.statusCode, 426);
		assert.equal(res.json().message, "this endpoint is a WebSocket");
	});

	test("withdrawing over HTTP: wrong secret 401, right one 204, again 409, unknown 404", async () => {
		const { room, host } = await roomWithHost();
		const k = await knock(api, room.roomId, "Nina");
		assert.equal((await host.next()).type, "knock");
		const url = `/api/rooms/${room.roomId}/knocks/${k.knockId}`;
		const before = await redisContents(api.redis);
		const missing = await api.app.inject({ method: "DELETE", url });
		assert.equal(missing.statusCode, 401);
		const wrong = await api.app.inject({ method: "DELETE", url, headers: { "x-knock-secret": "nope" } });
		assert.equal(wrong.statusCode, 401);
		assert.match(wrong.json().message, /knock secret/);
		assert.deepEqual(await redisContents(api.redis), before);

		const ok = await api.app.inject({ method: "DELETE", url, headers: { "x-knock-secret": k.knockSecret } });
		assert.equal(ok.statusCode, 204);
		assert.deepEqual(await host.next(), { type: "knock-ended", knockId: k.knockId, end: "cancelled" });
		assert.deepEqual(await queued(room.roomId), []);

		const again = await api.app.inject({ method: "DELETE", url, headers: { "x-knock-secret": k.knockSecret } });
		assert.equal(again.statusCode, 409);
		assert.equal(again.json().message, "knock was already cancelled");
		const unknown = await api.app.inject({
			method: "DELETE",
			url: `/api/rooms/${room.roomId}/knocks/${"B".repeat(16)}`,
			headers: { "x-knock-secret": k.knockSecret },
		});
		assert.equal(unknown.statusCode, 404);
		host.socket.close();
	});

	test("deciding an unknown knock is 404, a decided one 409", async () => {
		const room = await createRoom(api);
		const unknown = await decide(api, room.roomId, "C".repeat(16), "admit", room.hostToken);
		assert.equal(unknown.statusCode, 404);
		assert.equal(unknown.json().message, "knock not found");
		const tooLong = await decide(api, room.roomId, "C".repeat(100), "deny", room.hostToken);
		assert.equal(tooLong.statusCode, 404);

		const k = await knock(api, room.roomId, "Otto");
		assert.equal((await decide(api, room.roomId, k.knockId, "deny", room.hostToken)).statusCode, 200);
		const admitLate = await decide(api, room.roomId, k.knockId, "admit", room.hostToken);
		assert.equal(admitLate.statusCode, 409);
		assert.equal(admitLate.json().message, "knock was already denied");
		assert.equal((await decide(api, room.roomId, k.knockId, "deny", room.hostToken)).statusCode, 409);

		// A knock of another room is unknown here, even to that room's host.
		const other = await createRoom(api);
		const k2 = await knock(api, other.roomId, "Pia");
		assert.equal((await decide(api, room.roomId, k2.knockId, "admit", room.hostToken)).statusCode, 404);
	});

	test("sockets share one Redis subscription per channel, dropped when the last socket closes", async () => {
		const room = await createRoom(api);
		const channel = redisChannels.lobby(room.roomId);
		const subscribers = async () => Number((await api.redis.pubSubNumSub(channel))[channel] ?? 0);
		const first = hostSocket(room.roomId, room.hostToken);
		const second = hostSocket(room.roomId, room.hostToken);
		assert.equal((await first.next()).type, "knocks");
		assert.equal((await second.next()).type, "knocks");
		assert.equal(await subscribers(), 1, "one connection for the whole API instance");

		first.socket.close();
		await first.closed;
		const k = await knock(api, room.roomId, "Xavi");
		const seen = await second.next();
		assert.ok(seen.type === "knock" && seen.knock.id === k.knockId, "the other socket still hears the channel");

		second.socket.close();
		await second.closed;
		await eventually(async () => (await subscribers()) === 0, "channel unsubscribed");
	});

	describe("who may act as host", () => {
		let room: CreateRoomResponse;
		let k: KnockResponse;
		let guestToken: string;

		before(async () => {
			room = await createRoom(api);
			const first = await knock(api, room.roomId, "Quim");
			const admitted = await decide(api, room.roomId, first.knockId, "admit", room.hostToken);
			assert.equal(admitted.statusCode, 200);
			const guest = waitSocket(room.roomId, first);
			guestToken = ((await guest.next()) as Admitted).token;
			k = await knock(api, room.roomId, "Rui");
		});

		/** The decision must be refused with `status`, and nothing in Redis may change. */
		async function refused(token: string | undefined, status: number, message: RegExp) {
			const before = await redisContents(api.redis);
			const res = await api.app.inject({
				method: "POST",
				url: `/api/rooms/${room.roomId}/knocks/${k.knockId}/admit`,
				headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
			});
			assert.equal(res.statusCode, status, res.body);
			assert.match(res.json().message, message);
			assert.deepEqual(await redisContents(api.redis), before, "a refused decision must not change Redis");
		}

		test("a guest's token is not a host token: admit 403, lobby socket 4403", async () => {
			await refused(guestToken, 403, /only the room's host/);
			const socket = hostSocket(room.roomId, guestToken);
			assert.equal((await socket.closed).code, 4403);
		});

		test("no token, a forged one, an expired one, a knock secret → 401 / 4401", async () => {
			await refused(undefined, 401, /bearer token for this room is required/);
			const [header, payload, signature] = room.hostToken.split(".");
			const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString());
			const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: "someone-else" })).toString("base64url");
			await refused(`${header}.${forgedPayload}.${signature}`, 401, /signature|invalid/);
			await refused(k.knockSecret, 401, /malformed/);

			const signer = await TokenSigner.create(redisPublicKeyStore(api.redis), 3600);
			const { token: expired } = await signer.sign({
				room: room.roomId,
				peerId: room.peerId,
				name: "Host",
				role: "host",
				ttlSeconds: -60,
			});
			await refused(expired, 401, /expired/);
			const { token: otherRoom } = await signer.sign({
				room: "zzzzzzzzzz",
				peerId: room.peerId,
				name: "Host",
				role: "host",
				ttlSeconds: 60,
			});
			await refused(otherRoom, 401, /another room/);

			for (const token of [`${header}.${forgedPayload}.${signature}`, expired, k.knockSecret, ""]) {
				const socket = hostSocket(room.roomId, token);
				assert.equal((await socket.closed).code, 4401);
			}
			const noToken = watchSocket(`${base}/api/rooms/${room.roomId}/lobby`);
			assert.equal((await noToken.closed).code, 4401);
		});

		test("a revoked host token → 401 / 4401", async () => {
			const revokedRoom = await createRoom(api);
			const k2 = await knock(api, revokedRoom.roomId, "Sol");
			await api.redis.sAdd(redisKeys.roomRevoked(revokedRoom.roomId), revokedRoom.peerId);
			const res = await decide(api, revokedRoom.roomId, k2.knockId, "admit", revokedRoom.hostToken);
			assert.equal(res.statusCode, 401);
			assert.equal(res.json().message, "token was revoked");
			const socket = hostSocket(revokedRoom.roomId, revokedRoom.hostToken);
			assert.equal((await socket.closed).code, 4401);
		});

		test("the host role moves: the old host's socket closes 4403 and its admit is 403; the new host's works", async () => {
			const oldHost = hostSocket(room.roomId, room.hostToken);
			const snapshot = await oldHost.next();
			assert.ok(snapshot.type === "knocks" && snapshot.knocks.some((x) => x.id === k.knockId));

			// What the SFU does on handover.
			const newHostPeerId = (await verifier.verify(guestToken)).sub;
			await api.redis.set(redisKeys.roomHost(room.roomId), newHostPeerId);
			const event: LobbyHostEvent = { type: "host-changed", peerId: newHostPeerId };
			await api.redis.publish(redisChannels.lobby(room.roomId), JSON.stringify(event));

			assert.deepEqual(await oldHost.next(), event);
			assert.equal((await oldHost.closed).code, 4403);
			const stale = await decide(api, room.roomId, k.knockId, "admit", room.hostToken);
			assert.equal(stale.statusCode, 403);

			const newHost = hostSocket(room.roomId, guestToken);
			const seen = await newHost.next();
			assert.ok(seen.type === "knocks" && seen.knocks.some((x) => x.id === k.knockId));
			const admit = await decide(api, room.roomId, k.knockId, "admit", guestToken);
			assert.equal(admit.statusCode, 200, admit.body);
			assert.deepEqual(await newHost.next(), { type: "knock-ended", knockId: k.knockId, end: "admitted" });

			// A host-changed naming this host itself keeps the socket open.
			await api.redis.publish(redisChannels.lobby(room.roomId), JSON.stringify(event));
			assert.deepEqual(await newHost.next(), event);
			const k3 = await knock(api, room.roomId, "Tom");
			const next = await newHost.next();
			assert.ok(next.type === "knock" && next.knock.id === k3.knockId);
			newHost.socket.close();
		});

		test("the lobby socket of an unknown room closes 4404 once the token checks out", async () => {
			const gone = await createRoom(api);
			await api.redis.del(redisKeys.roomHost(gone.roomId));
			const socket = hostSocket(gone.roomId, gone.hostToken);
			assert.equal((await socket.closed).code, 4404);
		});
	});
});

describe("lobby: knocks expire", { timeout: 60_000 }, () => {
	let api: TestApi;
	let base: string;

	before(async () => {
		api = await startTestApi({ KNOCK_TIMEOUT: "1" });
		await registerNode(api.redis, { id: "node-a" });
		base = await listen(api);
	});
	after(async () => {
		await api?.close();
	});

	test("an unanswered knock expires: the guest hears `expired`, the host sees it end", async () => {
		const room = await createRoom(api);
		const host = watchSocket<LobbyHostEvent>(`${base}/api/rooms/${room.roomId}/lobby?token=${room.hostToken}`);
		assert.deepEqual(await host.next(), { type: "knocks", knocks: [] });
		const k = await knock(api, room.roomId, "Ugo");
		const guest = watchSocket<LobbyGuestEvent>(
			`${base}/api/rooms/${room.roomId}/knocks/${k.knockId}/wait?secret=${k.knockSecret}`,
		);
		assert.equal((await host.next()).type, "knock");
		const first = await guest.next();
		// The guest may connect after the second has already passed; then `expired` comes first.
		const answer = first.type === "waiting" ? await guest.next() : first;
		assert.deepEqual(answer, { type: "expired" });
		assert.equal((await guest.closed).code, 1000);
		assert.deepEqual(await host.next(), { type: "knock-ended", knockId: k.knockId, end: "expired" });
		assert.deepEqual(guest.queued(), []);
		assert.deepEqual(await api.redis.zRange(redisKeys.roomKnocks(room.roomId), 0, -1), []);

		const late = await api.app.inject({
			method: "POST",
			url: `/api/rooms/${room.roomId}/knocks/${k.knockId}/admit`,
			headers: { authorization: `Bearer ${room.hostToken}` },
		});
		// "knock has expired" while the record lasts, "knock not found" once it has left Redis.
		assert.equal(late.statusCode, 404);
		assert.match(late.json().message, /^knock (has expired|not found)$/);
		host.socket.close();
	});

	test("a knock nobody waits on still leaves the host's queue when it expires", async () => {
		const room = await createRoom(api);
		const host = watchSocket<LobbyHostEvent>(`${base}/api/rooms/${room.roomId}/lobby?token=${room.hostToken}`);
		assert.deepEqual(await host.next(), { type: "knocks", knocks: [] });
		const k = await knock(api, room.roomId, "Vera");
		assert.equal((await host.next()).type, "knock");
		assert.deepEqual(await host.next(), { type: "knock-ended", knockId: k.knockId, end: "expired" });
		host.socket.close();
	});

	test("an expired knock cannot be admitted: 404", async () => {
		const room = await createRoom(api);
		const k = await knock(api, room.roomId, "Wil");
		await eventually(() => Date.now() > k.expiresAt, "the knock's time is up");
		const res = await api.app.inject({
			method: "POST",
			url: `/api/rooms/${room.roomId}/knocks/${k.knockId}/admit`,
			headers: { authorization: `Bearer ${room.hostToken}` },
		});
		assert.equal(res.statusCode, 404);
		// The host's snapshot no longer lists it.
		const host = watchSocket<LobbyHostEvent>(`${base}/api/rooms/${room.roomId}/lobby?token=${room.hostToken}`);
		assert.deepEqual(await host.next(), { type: "knocks", knocks: [] });
		host.socket.close();
	});
});

describe("lobby: shutting down", { timeout: 60_000 }, () => {
	let api: TestApi;
	let base: string;

	before(async () => {
		api = await startTestApi();
		await registerNode(api.redis, { id: "node-a" });
		base = await listen(api);
	});
	after(async () => {
		await api?.close();
	});

	test("waiting sockets closed by a shutdown do not withdraw their knocks", async () => {
		const room = await createRoom(api);
		const k = await knock(api, room.roomId, "Yara");
		const guest = watchSocket<LobbyGuestEvent>(
			`${base}/api/rooms/${room.roomId}/knocks/${k.knockId}/wait?secret=${k.knockSecret}`,
		);
		assert.equal((await guest.next()).type, "waiting");
		await api.app.close();
		assert.notEqual((await guest.closed).code, 1000, "not a normal end: the guest should reconnect");
		// The server has handled the close once the socket left its client set (same event as the withdraw
		// would run on); a withdraw, had it started, is a GET then an EVAL on this very connection, which the
		// next few round trips on it would see through.
		await eventually(() => api.app.websocketServer.clients.size === 0, "server side closed");
		for (let i = 0; i < 5; i++) await api.redis.ping();
		const record = JSON.parse((await api.redis.get(redisKeys.knock(k.knockId))) ?? "null") as KnockRecord | null;
		assert.equal(record?.status, "pending");
		assert.deepEqual(await api.redis.zRange(redisKeys.roomKnocks(room.roomId), 0, -1), [k.knockId]);
	});
});
