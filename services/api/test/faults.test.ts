/**
 * Redis going away and coming back: the API answers 503 instead of hanging or
 * crashing, and works again once node-redis has reconnected.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type CreateRoomResponse, type KnockResponse, type LobbyHostEvent, redisKeys } from "@mindmeet/protocol";
import { redisPublicKeyStore, TokenVerifier } from "@mindmeet/protocol/token-keys";
import { listen, registerNode, startTestApi, type TestApi, watchSocket } from "./helpers.ts";

const storageUnavailable = {
	statusCode: 503,
	error: "Service Unavailable",
	message: "storage unavailable, try again shortly",
};

/** Poll /api/health until Redis is back; bounded number of tries, no duration asserted. */
async function waitForHealthy(api: TestApi, tries = 150): Promise<void> {
	for (let i = 0; i < tries; i++) {
		const res = await api.app.inject({ method: "GET", url: "/api/health" });
		// The restarted Redis is empty, so no SFU node is registered: Redis being up is what counts here.
		if (res.json<{ redis: string }>().redis === "up") return;
		await sleep(100);
	}
	assert.fail("the API did not see Redis come back");
}

describe("faults: Redis down and back", { timeout: 60_000 }, () => {
	let api: TestApi;
	let base: string;
	let roomId: string;

	before(async () => {
		// Over 20 creations from one address: the per-address limit is tested in room-creation.test.ts.
		api = await startTestApi({ ROOM_CREATE_RATE_LIMIT: "1000" });
		base = await listen(api);
		await registerNode(api.redis, { id: "node-a" });
		const res = await api.app.inject({
			method: "POST",
			url: "/api/rooms",
			payload: { hostName: "Ana", mode: "video" },
		});
		assert.equal(res.statusCode, 201);
		roomId = res.json<CreateRoomResponse>().roomId;
	});
	after(async () => {
		await api?.close();
	});

	test("health reports redis up while it is", async () => {
		const res = await api.app.inject({ method: "GET", url: "/api/health" });
		assert.equal(res.statusCode, 200);
		assert.deepEqual(res.json(), { ok: true, redis: "up", sfu: { live: 1, nodes: ["node-a"] } });
	});

	test("with Redis stopped, creating a room answers 503 (and does not hang)", { timeout: 10_000 }, async () => {
		await api.redisServer.stop();
		const res = await api.app.inject({
			method: "POST",
			url: "/api/rooms",
			payload: { hostName: "Ana", mode: "video" },
		});
		assert.equal(res.statusCode, 503);
		assert.deepEqual(res.json(), storageUnavailable);
	});

	test("with Redis stopped, reading a room answers 503", { timeout: 10_000 }, async () => {
		const res = await api.app.inject({ method: "GET", url: `/api/rooms/${roomId}` });
		assert.equal(res.statusCode, 503);
		assert.deepEqual(res.json(), storageUnavailable);
	});

	test("with Redis stopped, knocking answers 503", { timeout: 10_000 }, async () => {
		const res = await api.app.inject({ method: "POST", url: `/api/rooms/${roomId}/knocks`, payload: { name: "Eva" } });
		assert.equal(res.statusCode, 503);
		assert.deepEqual(res.json(), storageUnavailable);
	});

	test("with Redis stopped, a lobby socket closes with 1013 (try again later)", { timeout: 10_000 }, async () => {
		const guest = watchSocket(`${base}/api/rooms/${roomId}/knocks/${"A".repeat(16)}/wait?secret=x`);
		const closed = await guest.closed;
		assert.equal(closed.code, 1013);
		assert.equal(closed.reason, "storage unavailable, try again shortly");
	});

	test("with Redis stopped, health says so with 503", { timeout: 10_000 }, async () => {
		const res = await api.app.inject({ method: "GET", url: "/api/health" });
		assert.equal(res.statusCode, 503);
		assert.deepEqual(res.json(), { ok: false, redis: "down", sfu: null });
	});

	test("with Redis stopped, the process keeps serving what needs no Redis", { timeout: 10_000 }, async () => {
		for (let i = 0; i < 20; i++) {
			const res = await api.app.inject({
				method: "POST",
				url: "/api/rooms",
				payload: { hostName: "Ana", mode: "audio" },
			});
			assert.equal(res.statusCode, 503);
		}
		const bad = await api.app.inject({ method: "POST", url: "/api/rooms", payload: { hostName: 1, mode: "video" } });
		assert.equal(bad.statusCode, 400);
		const unknown = await api.app.inject({ method: "GET", url: "/api/nope" });
		assert.equal(unknown.statusCode, 404);
	});

	test("after Redis restarts, the API works again", async () => {
		await api.redisServer.restart();
		await waitForHealthy(api);

		// The restarted Redis is empty (no persistence): nodes re-register with their next heartbeat.
		const none = await api.app.inject({
			method: "POST",
			url: "/api/rooms",
			payload: { hostName: "Ana", mode: "video" },
		});
		assert.equal(none.statusCode, 503);
		assert.equal(none.json().message, "no media server is available, try again shortly");

		await registerNode(api.redis, { id: "node-a" });
		const res = await api.app.inject({
			method: "POST",
			url: "/api/rooms",
			payload: { hostName: "Ana", mode: "video" },
		});
		assert.equal(res.statusCode, 201);
		const body = res.json<CreateRoomResponse>();
		assert.equal(await api.redis.exists(redisKeys.room(body.roomId)), 1);

		// The signing key was republished into the new Redis, so the token verifies.
		const claims = await new TokenVerifier(redisPublicKeyStore(api.redis)).verify(body.hostToken);
		assert.equal(claims.room, body.roomId);

		// Pub/sub is back too: the subscriber connection reconnected and the lobby works end to end.
		const host = watchSocket<LobbyHostEvent>(`${base}/api/rooms/${body.roomId}/lobby?token=${body.hostToken}`);
		assert.deepEqual(await host.next(), { type: "knocks", knocks: [] });
		const knocked = await api.app.inject({
			method: "POST",
			url: `/api/rooms/${body.roomId}/knocks`,
			payload: { name: "Eva" },
		});
		assert.equal(knocked.statusCode, 201);
		assert.equal((await host.next()).type, "knock");
		const admit = await api.app.inject({
			method: "POST",
			url: `/api/rooms/${body.roomId}/knocks/${knocked.json<KnockResponse>().knockId}/admit`,
			headers: { authorization: `Bearer ${body.hostToken}` },
		});
		assert.equal(admit.statusCode, 200);
		host.socket.close();
	});
});
