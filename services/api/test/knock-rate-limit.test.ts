/**
 * Knocks are rate-limited per client address; behind a trusted proxy the
 * address comes from X-Forwarded-For, otherwise that header is ignored.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createRoom, redisContents, registerNode, startTestApi, type TestApi } from "./helpers.ts";

const tooMany = /^too many knocks from this address, try again in \d+ seconds$/;

function knockFrom(api: TestApi, roomId: string, remoteAddress: string, forwardedFor?: string) {
	return api.app.inject({
		method: "POST",
		url: `/api/rooms/${roomId}/knocks`,
		payload: { name: "Flood" },
		remoteAddress,
		headers: forwardedFor ? { "x-forwarded-for": forwardedFor } : {},
	});
}

describe("knock rate limit (KNOCK_RATE_LIMIT=3, no trusted proxy)", () => {
	let api: TestApi;
	let roomId: string;

	before(async () => {
		api = await startTestApi({ KNOCK_RATE_LIMIT: "3" });
		await registerNode(api.redis, { id: "node-a" });
		({ roomId } = await createRoom(api));
	});
	after(async () => {
		await api?.close();
	});

	test("a flood from one address gets 429 with a clear message; other addresses are unaffected", async () => {
		for (let i = 0; i < 3; i++) assert.equal((await knockFrom(api, roomId, "10.0.0.1")).statusCode, 201);
		const before = await redisContents(api.redis);
		const res = await knockFrom(api, roomId, "10.0.0.1");
		assert.equal(res.statusCode, 429);
		const body = res.json<{ statusCode: number; error: string; message: string }>();
		assert.equal(body.statusCode, 429);
		assert.equal(body.error, "Too Many Requests");
		assert.match(body.message, tooMany);
		assert.match(String(res.headers["retry-after"]), /^\d+$/);
		assert.deepEqual(await redisContents(api.redis), before, "a refused knock writes nothing");

		assert.equal((await knockFrom(api, roomId, "10.0.0.2")).statusCode, 201);
	});

	test("without a trusted proxy, X-Forwarded-For does not pick the address", async () => {
		for (let i = 0; i < 3; i++) {
			assert.equal((await knockFrom(api, roomId, "10.0.0.3", `203.0.113.${i}`)).statusCode, 201);
		}
		assert.equal((await knockFrom(api, roomId, "10.0.0.3", "203.0.113.99")).statusCode, 429);
	});

	test("other routes are not limited", async () => {
		for (let i = 0; i < 10; i++) {
			const res = await api.app.inject({ method: "GET", url: `/api/rooms/${roomId}`, remoteAddress: "10.0.0.1" });
			assert.equal(res.statusCode, 200);
		}
	});
});

describe("knock rate limit behind a trusted proxy (TRUST_PROXY=true, KNOCK_RATE_LIMIT=1)", () => {
	let api: TestApi;
	let roomId: string;

	before(async () => {
		api = await startTestApi({ KNOCK_RATE_LIMIT: "1", TRUST_PROXY: "true" });
		await registerNode(api.redis, { id: "node-a" });
		({ roomId } = await createRoom(api));
	});
	after(async () => {
		await api?.close();
	});

	test("each forwarded client address has its own budget", async () => {
		const proxy = "172.18.0.5";
		assert.equal((await knockFrom(api, roomId, proxy, "198.51.100.1")).statusCode, 201);
		assert.equal((await knockFrom(api, roomId, proxy, "198.51.100.2")).statusCode, 201);
		const again = await knockFrom(api, roomId, proxy, "198.51.100.1");
		assert.equal(again.statusCode, 429);
		assert.match(again.json().message, tooMany);
	});
});
