/**
 * Every refusal: a clear error in Fastify's shape, and nothing written to Redis.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type CreateRoomResponse, type KnockResponse, limits, redisKeys } from "@mindmeet/protocol";
import { redisPublicKeyStore, TokenVerifier } from "@mindmeet/protocol/token-keys";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { redisContents, registerNode, startTestApi, type TestApi } from "./helpers.ts";

describe("bad input", () => {
	let api: TestApi;
	let roomId: string;
	let hostToken: string;

	before(async () => {
		// Every inject comes from 127.0.0.1: keep the knock rate limit out of these tests.
		api = await startTestApi({ KNOCK_RATE_LIMIT: "100000" });
		await registerNode(api.redis, { id: "node-a" });
		const res = await api.app.inject({
			method: "POST",
			url: "/api/rooms",
			payload: { hostName: "Host", mode: "video" },
		});
		assert.equal(res.statusCode, 201);
		({ roomId, hostToken } = res.json<CreateRoomResponse>());
	});
	after(async () => {
		await api?.close();
	});

	/** Every key and value: a refusal must leave all of it as it was. */
	const snapshot = () => redisContents(api.redis);

	/** Send a request that must be refused with `status`; check the error shape and that Redis did not change. */
	async function refused(options: InjectOptions, status: number, message: RegExp): Promise<LightMyRequestResponse> {
		const before = await snapshot();
		const res = await api.app.inject(options);
		assert.equal(res.statusCode, status, res.body);
		assert.match(String(res.headers["content-type"]), /^application\/json/);
		const body = res.json<{ statusCode: number; error: string; message: string }>();
		assert.equal(body.statusCode, status);
		assert.equal(typeof body.error, "string");
		assert.match(body.message, message);
		assert.deepEqual(await snapshot(), before, "a refused request must not change Redis");
		return res;
	}

	const create = (payload: unknown): InjectOptions => ({
		method: "POST",
		url: "/api/rooms",
		headers: { "content-type": "application/json" },
		payload: typeof payload === "string" ? payload : JSON.stringify(payload),
	});
	const knock = (id: string, payload: unknown): InjectOptions => ({
		method: "POST",
		url: `/api/rooms/${encodeURIComponent(id)}/knocks`,
		headers: { "content-type": "application/json" },
		payload: typeof payload === "string" ? payload : JSON.stringify(payload),
	});

	describe("POST /api/rooms", () => {
		test("malformed JSON → 400", async () => {
			await refused(create('{"hostName": "Ana", "mode": '), 400, /JSON/i);
		});

		test("hostName as a number → 400", async () => {
			await refused(create({ hostName: 42, mode: "video" }), 400, /hostName must be string/);
		});

		test("mode outside video/audio → 400 listing the allowed values", async () => {
			await refused(create({ hostName: "Ana", mode: "tv" }), 400, /mode must be one of "video", "audio"/);
		});

		test("missing hostName → 400", async () => {
			await refused(create({ mode: "video" }), 400, /required property 'hostName'/);
		});

		test("missing mode → 400", async () => {
			await refused(create({ hostName: "Ana" }), 400, /required property 'mode'/);
		});

		test("empty object → 400", async () => {
			await refused(create({}), 400, /required property/);
		});

		test("a JSON array instead of an object → 400", async () => {
			await refused(create([{ hostName: "Ana", mode: "video" }]), 400, /must be object/);
		});

		test("JSON null → 400", async () => {
			await refused(create("null"), 400, /must be object/);
		});

		test("an extra field → 400 naming it", async () => {
			await refused(create({ hostName: "Ana", mode: "video", role: "admin" }), 400, /unknown field "role"/);
		});

		test("a __proto__ key → 400", async () => {
			await refused(create('{"hostName":"Ana","mode":"video","__proto__":{"admin":true}}'), 400, /./);
		});

		test("hostName of 41 characters after trimming → 400", async () => {
			const name = `  ${"a".repeat(limits.nameMaxLength + 1)}  `;
			await refused(create({ hostName: name, mode: "video" }), 400, /at most 40 characters/);
		});

		test("hostName far over the limit → 400", async () => {
			await refused(create({ hostName: "a".repeat(500), mode: "video" }), 400, /hostName must NOT have more than/);
		});

		test("hostName of only spaces → 400", async () => {
			await refused(create({ hostName: "    \t  ", mode: "video" }), 400, /hostName must not be empty/);
		});

		test("empty hostName → 400", async () => {
			await refused(create({ hostName: "", mode: "video" }), 400, /hostName must NOT have fewer than 1/);
		});

		test("body over the size limit → 413", async () => {
			const payload = JSON.stringify({ hostName: "Ana", mode: "video", pad: "x".repeat(limits.httpBodyMaxBytes) });
			await refused(create(payload), 413, /too large/i);
		});

		test("wrong content type → 415", async () => {
			await refused(
				{
					method: "POST",
					url: "/api/rooms",
					headers: { "content-type": "text/plain" },
					payload: "hostName=Ana&mode=video",
				},
				415,
				/content-type|media type/i,
			);
		});

		test("form-encoded body → 415", async () => {
			await refused(
				{
					method: "POST",
					url: "/api/rooms",
					headers: { "content-type": "application/x-www-form-urlencoded" },
					payload: "hostName=Ana&mode=video",
				},
				415,
				/./,
			);
		});

		test("a name of exactly 40 characters after trimming is accepted", async () => {
			const name = ` ${"b".repeat(limits.nameMaxLength)} `;
			const res = await api.app.inject(create({ hostName: name, mode: "audio" }));
			assert.equal(res.statusCode, 201);
		});

		test("HTML in a name is kept as text, neither escaped nor stripped", async () => {
			const html = `<img src=x onerror="alert(1)">&amp;`;
			const res = await api.app.inject(create({ hostName: html, mode: "video" }));
			assert.equal(res.statusCode, 201);
			const body = res.json<CreateRoomResponse>();
			const claims = await new TokenVerifier(redisPublicKeyStore(api.redis)).verify(body.hostToken);
			assert.equal(claims.name, html);
			const stored = JSON.parse((await api.redis.get(redisKeys.room(body.roomId))) ?? "{}");
			assert.equal(stored.hostName, html);
		});
	});

	describe("GET /api/rooms/:roomId", () => {
		test("unknown room id → 404", async () => {
			await refused({ method: "GET", url: "/api/rooms/zzzzzzzzzz" }, 404, /^room not found$/);
		});

		test("path-like room id → 404 room not found", async () => {
			await refused({ method: "GET", url: `/api/rooms/${encodeURIComponent("../../etc")}` }, 404, /^room not found$/);
		});

		test("200-character room id → 404 room not found", async () => {
			await refused({ method: "GET", url: `/api/rooms/${"a".repeat(200)}` }, 404, /^room not found$/);
		});

		test("room id with look-alike characters → 404 room not found", async () => {
			await refused({ method: "GET", url: "/api/rooms/0O1lI0O1lI" }, 404, /^room not found$/);
		});

		test("unknown nested path → JSON 404", async () => {
			await refused({ method: "GET", url: `/api/rooms/${roomId}/nope` }, 404, /not found/);
		});
	});

	describe("POST /api/rooms/:roomId/knocks", () => {
		test("unknown room → 404", async () => {
			await refused(knock("zzzzzzzzzz", { name: "Eva" }), 404, /^room not found$/);
		});

		test("path-like room id → 404", async () => {
			await refused(knock("../../etc", { name: "Eva" }), 404, /^room not found$/);
		});

		test("200-character room id → 404", async () => {
			await refused(knock("a".repeat(200), { name: "Eva" }), 404, /^room not found$/);
		});

		test("malformed JSON → 400", async () => {
			await refused(knock(roomId, '{"name": '), 400, /JSON/i);
		});

		test("name as a number → 400", async () => {
			await refused(knock(roomId, { name: 7 }), 400, /name must be string/);
		});

		test("missing name → 400", async () => {
			await refused(knock(roomId, {}), 400, /required property 'name'/);
		});

		test("an extra field → 400", async () => {
			await refused(knock(roomId, { name: "Eva", role: "host" }), 400, /unknown field "role"/);
		});

		test("name of 41 characters after trimming → 400", async () => {
			await refused(knock(roomId, { name: "c".repeat(41) }), 400, /at most 40 characters/);
		});

		test("name far over the limit → 400", async () => {
			await refused(knock(roomId, { name: "c".repeat(5000) }), 400, /name must NOT have more than/);
		});

		test("name of only spaces → 400", async () => {
			await refused(knock(roomId, { name: "   " }), 400, /name must not be empty/);
		});

		test("empty name → 400", async () => {
			await refused(knock(roomId, { name: "" }), 400, /name must NOT have fewer than 1/);
		});

		test("wrong content type → 415", async () => {
			await refused(
				{
					method: "POST",
					url: `/api/rooms/${roomId}/knocks`,
					headers: { "content-type": "text/plain" },
					payload: "Eva",
				},
				415,
				/./,
			);
		});

		test("a name of exactly 40 characters after trimming is accepted", async () => {
			const res = await api.app.inject(knock(roomId, { name: ` ${"d".repeat(limits.nameMaxLength)} ` }));
			assert.equal(res.statusCode, 201);
		});

		test("HTML in a guest name is kept as text, up to the token it gets", async () => {
			const html = "<script>alert('x')</script>";
			const res = await api.app.inject(knock(roomId, { name: html }));
			assert.equal(res.statusCode, 201);
			const { knockId } = res.json<KnockResponse>();
			const stored = JSON.parse((await api.redis.get(redisKeys.knock(knockId))) ?? "{}");
			assert.equal(stored.name, html);
			const admit = await api.app.inject({
				method: "POST",
				url: `/api/rooms/${roomId}/knocks/${knockId}/admit`,
				headers: { authorization: `Bearer ${hostToken}` },
			});
			assert.equal(admit.statusCode, 200);
			const token = JSON.parse((await api.redis.get(redisKeys.knock(knockId))) ?? "{}").admittedToken;
			const claims = await new TokenVerifier(redisPublicKeyStore(api.redis)).verify(token);
			assert.equal(claims.name, html);
		});
	});

	describe("knock decisions and withdrawal", () => {
		const decision = (id: string, knockId: string, what: string): InjectOptions => ({
			method: "POST",
			url: `/api/rooms/${encodeURIComponent(id)}/knocks/${encodeURIComponent(knockId)}/${what}`,
			headers: { authorization: `Bearer ${hostToken}` },
		});

		test("a decision on another room with this room's host token → 401", async () => {
			await refused(decision("zzzzzzzzzz", "A".repeat(16), "admit"), 401, /another room/);
		});

		test("a decision on a 200-character knock id → 404", async () => {
			await refused(decision(roomId, "k".repeat(200), "admit"), 404, /^knock not found$/);
		});

		test("an unknown decision → JSON 404", async () => {
			await refused(decision(roomId, "A".repeat(16), "maybe"), 404, /not found/);
		});

		test("withdrawing a knock with a path-like id → 404", async () => {
			await refused(
				{
					method: "DELETE",
					url: `/api/rooms/${roomId}/knocks/${encodeURIComponent("../../x")}`,
					headers: { "x-knock-secret": "s" },
				},
				404,
				/^knock not found$/,
			);
		});
	});

	test("unknown API route → JSON 404 without the query string", async () => {
		const res = await refused({ method: "GET", url: "/api/nope?token=secret" }, 404, /not found/);
		assert.doesNotMatch(res.body, /secret/);
	});

	test("a URL with broken percent-encoding → 400 that does not echo the query string", async () => {
		const res = await refused({ method: "GET", url: "/api/rooms/%E0%A4%A?token=secret" }, 400, /malformed URL/);
		assert.doesNotMatch(res.body, /secret/);
	});

	test("unsupported method on a room → JSON 404", async () => {
		await refused({ method: "DELETE", url: `/api/rooms/${roomId}` }, 404, /not found/);
	});
});
