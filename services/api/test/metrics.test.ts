/**
 * GET /metrics (behind the admin token when ADMIN_TOKEN is set) and what
 * /api/health says about Redis and the SFU nodes, with a real Redis: knock
 * outcomes and rooms are counted by the code paths that really end them,
 * routes are labelled by pattern (never by id), and Redis going away shows
 * as 503 in health and 0 in mindmeet_redis_up.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { redisKeys } from "@mindmeet/protocol";
import { metricValue, parsePrometheus, type Scrape, samplesOf } from "@mindmeet/testing/prometheus";
import {
	addPresence,
	clearNodes,
	createRoom,
	decide,
	knock,
	registerNode,
	startTestApi,
	type TestApi,
} from "./helpers.ts";

const adminToken = "metrics-admin-token-0123456789";

describe("GET /metrics with ADMIN_TOKEN set", () => {
	let api: TestApi;

	before(async () => {
		api = await startTestApi({
			ADMIN_TOKEN: adminToken,
			KNOCK_TIMEOUT: "1",
			KNOCKS_PENDING_MAX: "3",
			KNOCK_RATE_LIMIT: "100000",
		});
	});
	after(async () => {
		await api?.close();
	});

	async function metrics(): Promise<Scrape> {
		const res = await api.app.inject({
			method: "GET",
			url: "/metrics",
			headers: { authorization: `Bearer ${adminToken}` },
		});
		assert.equal(res.statusCode, 200);
		assert.match(String(res.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
		return parsePrometheus(res.body);
	}

	const outcome = (scrape: Scrape, value: string) =>
		samplesOf(scrape, "mindmeet_knock_outcomes_total", { outcome: value }).reduce((sum, s) => sum + s.value, 0);

	test("without the admin bearer token (missing, wrong, other scheme): 401, and nothing about the metrics", async () => {
		for (const authorization of [undefined, "Bearer wrong-token-wrong-token", `Basic ${adminToken}`, adminToken]) {
			const res = await api.app.inject({
				method: "GET",
				url: "/metrics",
				...(authorization ? { headers: { authorization } } : {}),
			});
			assert.equal(res.statusCode, 401, String(authorization));
			assert.equal(res.json().message, "the admin bearer token (ADMIN_TOKEN) is required");
			assert.match(String(res.headers["www-authenticate"]), /^Bearer /);
			assert.doesNotMatch(res.body, /mindmeet_/);
		}
	});

	test("Redis up and the live SFU nodes (stale heartbeats do not count); process metrics", async () => {
		await clearNodes(api.redis);
		await registerNode(api.redis, { id: "node-a" });
		await registerNode(api.redis, { id: "node-stale", heartbeatAt: Date.now() - 60_000 });
		const scrape = await metrics();
		assert.equal(metricValue(scrape, "mindmeet_redis_up"), 1);
		assert.equal(metricValue(scrape, "mindmeet_sfu_nodes_live"), 1);
		assert.ok(metricValue(scrape, "mindmeet_process_cpu_user_seconds_total") > 0);
		assert.equal(scrape.types.get("mindmeet_knock_outcomes_total"), "counter");
		assert.equal(scrape.types.get("mindmeet_knock_wait_seconds"), "histogram");
	});

	test("a knock on a full room is counted as refused: room-full", async () => {
		await registerNode(api.redis, { id: "node-a" });
		const room = await createRoom(api);
		await addPresence(api.redis, room.roomId, { peerId: room.peerId, role: "host" });
		for (let i = 1; i < api.config.roomMaxPeers; i++)
			await addPresence(api.redis, room.roomId, { peerId: `guest-${i}` });
		const start = outcome(await metrics(), "room-full");
		const refused = await api.app.inject({
			method: "POST",
			url: `/api/rooms/${room.roomId}/knocks`,
			payload: { name: "Ivo" },
		});
		assert.equal(refused.statusCode, 409);
		assert.equal(outcome(await metrics(), "room-full") - start, 1);
	});

	test("rooms created and every knock outcome: admitted, denied, cancelled, expired, queue-full", async () => {
		await registerNode(api.redis, { id: "node-a" });
		const start = await metrics();
		const room = await createRoom(api);

		const admitted = await knock(api, room.roomId, "Ada");
		assert.equal((await decide(api, room.roomId, admitted.knockId, "admit", room.hostToken)).statusCode, 200);
		const denied = await knock(api, room.roomId, "Bia");
		assert.equal((await decide(api, room.roomId, denied.knockId, "deny", room.hostToken)).statusCode, 200);
		const cancelled = await knock(api, room.roomId, "Cai");
		const withdrawn = await api.app.inject({
			method: "DELETE",
			url: `/api/rooms/${room.roomId}/knocks/${cancelled.knockId}`,
			headers: { "x-knock-secret": cancelled.knockSecret },
		});
		assert.equal(withdrawn.statusCode, 204);
		// Twice the same decision: the second is a conflict and counts nothing.
		assert.equal((await decide(api, room.roomId, denied.knockId, "deny", room.hostToken)).statusCode, 409);

		// KNOCKS_PENDING_MAX is 3: the fourth waiting knock is turned away.
		const waiting = [
			await knock(api, room.roomId, "Duda"),
			await knock(api, room.roomId, "Edu"),
			await knock(api, room.roomId, "Fabi"),
		];
		const full = await api.app.inject({
			method: "POST",
			url: `/api/rooms/${room.roomId}/knocks`,
			payload: { name: "Gil" },
		});
		assert.equal(full.statusCode, 429);

		// KNOCK_TIMEOUT is 1 s. Once it is past, Redis has dropped the three waiting records: admitting one
		// finds nothing, and the next knock finds the queue full of ids without records, expires them
		// (each counted once) and takes a place.
		const last = waiting.at(-1);
		assert.ok(last);
		await sleep(Math.max(0, last.expiresAt - Date.now()) + 300);
		assert.equal((await decide(api, room.roomId, last.knockId, "admit", room.hostToken)).statusCode, 404);
		await knock(api, room.roomId, "Hugo");

		const end = await metrics();
		assert.equal(
			metricValue(end, "mindmeet_rooms_created_total") - metricValue(start, "mindmeet_rooms_created_total"),
			1,
		);
		assert.equal(
			metricValue(end, "mindmeet_knocks_created_total") - metricValue(start, "mindmeet_knocks_created_total"),
			7,
		);
		const expected: Record<string, number> = { admitted: 1, denied: 1, cancelled: 1, expired: 3, "queue-full": 1 };
		for (const [name, count] of Object.entries(expected)) {
			assert.equal(outcome(end, name) - outcome(start, name), count, name);
		}
		// How long a knock waited is known when its record is: admitted, denied, cancelled.
		for (const name of ["admitted", "denied", "cancelled"]) {
			assert.equal(metricValue(end, "mindmeet_knock_wait_seconds_count", { outcome: name }), 1, name);
		}
	});

	test("HTTP requests by route pattern and status class; no ids, names or tokens in the text", async () => {
		await registerNode(api.redis, { id: "node-a" });
		const room = await createRoom(api, "Zeca");
		await api.app.inject({ method: "GET", url: `/api/rooms/${room.roomId}` });
		await api.app.inject({ method: "GET", url: "/api/nothing-here" });
		const scrape = await metrics();
		assert.ok(
			metricValue(scrape, "mindmeet_http_requests_total", {
				method: "GET",
				route: "/api/rooms/:roomId",
				status: "2xx",
			}) >= 1,
		);
		assert.ok(
			metricValue(scrape, "mindmeet_http_requests_total", { method: "POST", route: "/api/rooms", status: "2xx" }) >= 1,
		);
		assert.ok(metricValue(scrape, "mindmeet_http_requests_total", { route: "unmatched", status: "4xx" }) >= 1);
		assert.ok(metricValue(scrape, "mindmeet_http_requests_total", { route: "/metrics", status: "4xx" }) >= 1);
		for (const secret of [room.roomId, room.hostToken, "Zeca", "nothing-here", adminToken]) {
			assert.ok(!scrape.text.includes(secret), `${secret} is not in the metrics`);
		}
	});

	test("with Redis stopped, /metrics still answers, with mindmeet_redis_up 0", { timeout: 20_000 }, async () => {
		await api.redisServer.stop();
		try {
			const scrape = await metrics();
			assert.equal(metricValue(scrape, "mindmeet_redis_up"), 0);
			assert.equal(metricValue(scrape, "mindmeet_sfu_nodes_live"), 0);
		} finally {
			await api.redisServer.restart();
		}
	});
});

describe("GET /metrics without ADMIN_TOKEN (development)", () => {
	let api: TestApi;
	before(async () => {
		api = await startTestApi();
	});
	after(async () => {
		await api?.close();
	});

	test("is open: there is no token to ask for", async () => {
		const res = await api.app.inject({ method: "GET", url: "/metrics" });
		assert.equal(res.statusCode, 200);
		assert.equal(metricValue(parsePrometheus(res.body), "mindmeet_redis_up"), 1);
	});

	test("the admin API stays closed all the same", async () => {
		const res = await api.app.inject({ method: "GET", url: "/api/admin/rooms" });
		assert.equal(res.statusCode, 401);
	});
});

describe("GET /api/health: Redis and the live SFU nodes", { timeout: 30_000 }, () => {
	let api: TestApi;
	before(async () => {
		api = await startTestApi();
	});
	after(async () => {
		await api?.close();
	});

	const health = async () => {
		const res = await api.app.inject({ method: "GET", url: "/api/health" });
		return { status: res.statusCode, body: res.json() };
	};

	test("no SFU node registered: 503, saying Redis is up and no node is live", async () => {
		await clearNodes(api.redis);
		assert.deepEqual(await health(), {
			status: 503,
			body: { ok: false, redis: "up", sfu: { live: 0, nodes: [] } },
		});
	});

	test("only a node whose heartbeat is stale: still 503", async () => {
		await registerNode(api.redis, { id: "gone", heartbeatAt: Date.now() - 60_000 });
		assert.deepEqual(await health(), { status: 503, body: { ok: false, redis: "up", sfu: { live: 0, nodes: [] } } });
	});

	test("live nodes: 200 with their count and ids; a malformed entry is ignored", async () => {
		await registerNode(api.redis, { id: "node-b" });
		await registerNode(api.redis, { id: "node-a" });
		await api.redis.hSet(redisKeys.sfuNodes, "broken", "{not json");
		assert.deepEqual(await health(), {
			status: 200,
			body: { ok: true, redis: "up", sfu: { live: 2, nodes: ["node-a", "node-b"] } },
		});
	});

	test("Redis stopped: 503, Redis down, nodes unknown; back to 200 once it returns", async () => {
		await api.redisServer.stop();
		try {
			assert.deepEqual(await health(), { status: 503, body: { ok: false, redis: "down", sfu: null } });
		} finally {
			await api.redisServer.restart();
		}
		// The restarted Redis is empty: the node registers again, as a node does on its next heartbeat.
		for (let attempt = 0; attempt < 100; attempt++) {
			try {
				await registerNode(api.redis, { id: "node-a" });
				break;
			} catch {
				await sleep(100);
			}
		}
		let last = await health();
		for (let attempt = 0; attempt < 100 && last.status !== 200; attempt++) {
			await sleep(100);
			last = await health();
		}
		assert.deepEqual(last, { status: 200, body: { ok: true, redis: "up", sfu: { live: 1, nodes: ["node-a"] } } });
	});
});
