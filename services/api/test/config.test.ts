import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, test } from "node:test";
import { loadApiConfig } from "../src/config.ts";

const redis = { REDIS_URL: "redis://127.0.0.1:6379" };

describe("loadApiConfig", () => {
	test("defaults", () => {
		const config = loadApiConfig(redis);
		assert.equal(config.port, 3000);
		assert.equal(config.host, "0.0.0.0");
		assert.equal(config.publicUrl, "http://localhost:3000");
		assert.equal(config.webDist, resolve(import.meta.dirname, "../../../web/dist"));
		assert.equal(config.guestTokenTtl, 600);
		assert.equal(config.hostTokenTtl, 43_200);
		assert.equal(config.roomTtl, 1_800);
		assert.equal(config.knockTimeout, 120);
		assert.equal(config.knockRateLimit, 10);
		assert.equal(config.knocksPendingMax, 20);
		assert.equal(config.trustProxy, false);
		assert.equal(config.adminToken, undefined);
		assert.equal(config.turn, undefined);
		assert.equal(config.signalingPingInterval, 15);
		assert.equal(config.sfuNodeStaleMs, 15_000);
		assert.equal(config.tokenRenewalsPerMinute, 10);
		assert.equal(config.logLevel, "info");
	});

	test("signaling ping interval and renewal limit: whole numbers in range, named when wrong", () => {
		const config = loadApiConfig({ ...redis, SIGNALING_PING_INTERVAL: "5", TOKEN_RENEWALS_PER_MINUTE: "3" });
		assert.equal(config.signalingPingInterval, 5);
		assert.equal(config.tokenRenewalsPerMinute, 3);
		for (const bad of ["0", "-1", "1.5", "soon", "3601"]) {
			assert.throws(() => loadApiConfig({ ...redis, SIGNALING_PING_INTERVAL: bad }), /SIGNALING_PING_INTERVAL/);
		}
		for (const bad of ["0", "ten", "100001"]) {
			assert.throws(() => loadApiConfig({ ...redis, TOKEN_RENEWALS_PER_MINUTE: bad }), /TOKEN_RENEWALS_PER_MINUTE/);
		}
	});

	test("SFU node staleness: whole seconds in range, held in ms, named when wrong", () => {
		assert.equal(loadApiConfig({ ...redis, SFU_NODE_STALE_SECONDS: "3" }).sfuNodeStaleMs, 3_000);
		for (const bad of ["0", "-2", "2.5", "soon", "3601"]) {
			assert.throws(() => loadApiConfig({ ...redis, SFU_NODE_STALE_SECONDS: bad }), /SFU_NODE_STALE_SECONDS/);
		}
	});

	test("lobby, proxy, admin and TURN settings", () => {
		const config = loadApiConfig({
			...redis,
			KNOCK_TIMEOUT: "30",
			KNOCK_RATE_LIMIT: "5",
			KNOCKS_PENDING_MAX: "3",
			TRUST_PROXY: "true",
			ADMIN_TOKEN: "0123456789abcdef",
			TURN_URLS: "turn:meet.example.org:3478?transport=udp, turns:meet.example.org:5349",
			TURN_SECRET: "s3cret",
		});
		assert.equal(config.knockTimeout, 30);
		assert.equal(config.knockRateLimit, 5);
		assert.equal(config.knocksPendingMax, 3);
		assert.equal(config.trustProxy, true);
		assert.equal(config.adminToken, "0123456789abcdef");
		assert.deepEqual(config.turn, {
			urls: ["turn:meet.example.org:3478?transport=udp", "turns:meet.example.org:5349"],
			secret: "s3cret",
		});
		assert.equal(loadApiConfig({ ...redis, TRUST_PROXY: "0" }).trustProxy, false);
	});

	test("production refuses to start without ADMIN_TOKEN, naming it", () => {
		assert.throws(() => loadApiConfig({ ...redis, NODE_ENV: "production" }), /ADMIN_TOKEN is not set/);
		assert.throws(() => loadApiConfig({ ...redis, NODE_ENV: "production", ADMIN_TOKEN: "  " }), /ADMIN_TOKEN/);
		const config = loadApiConfig({ ...redis, NODE_ENV: "production", ADMIN_TOKEN: "a".repeat(32) });
		assert.equal(config.adminToken, "a".repeat(32));
	});

	test("the API process itself refuses to start in production without ADMIN_TOKEN", () => {
		const main = resolve(import.meta.dirname, "../src/main.ts");
		const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...redis, NODE_ENV: "production" };
		const run = spawnSync(process.execPath, [main], { env, encoding: "utf8", timeout: 30_000 });
		assert.equal(run.status, 1, run.stderr);
		assert.match(run.stderr, /configuration error: ADMIN_TOKEN is not set/);
	});

	test("a short ADMIN_TOKEN is refused", () => {
		assert.throws(() => loadApiConfig({ ...redis, ADMIN_TOKEN: "admin" }), /ADMIN_TOKEN must be at least 16/);
	});

	test("TURN_URLS without TURN_SECRET is refused; TURN_SECRET alone means no TURN", () => {
		assert.throws(() => loadApiConfig({ ...redis, TURN_URLS: "turn:x.example:3478" }), /TURN_SECRET/);
		assert.equal(loadApiConfig({ ...redis, TURN_SECRET: "s" }).turn, undefined);
	});

	test("a TURN URL that is not turn:/turns:/stun: names the variable", () => {
		assert.throws(
			() => loadApiConfig({ ...redis, TURN_URLS: "https://turn.example", TURN_SECRET: "s" }),
			/TURN_URLS must be/,
		);
	});

	test("TRUST_PROXY must be a boolean", () => {
		assert.throws(() => loadApiConfig({ ...redis, TRUST_PROXY: "caddy" }), /TRUST_PROXY/);
	});

	test("KNOCK_TIMEOUT and KNOCK_RATE_LIMIT must be positive whole numbers", () => {
		assert.throws(() => loadApiConfig({ ...redis, KNOCK_TIMEOUT: "0" }), /KNOCK_TIMEOUT/);
		assert.throws(() => loadApiConfig({ ...redis, KNOCK_RATE_LIMIT: "ten" }), /KNOCK_RATE_LIMIT/);
		assert.throws(() => loadApiConfig({ ...redis, KNOCKS_PENDING_MAX: "0" }), /KNOCKS_PENDING_MAX/);
	});

	test("PUBLIC_URL follows PORT and loses its trailing slash", () => {
		assert.equal(loadApiConfig({ ...redis, PORT: "8080" }).publicUrl, "http://localhost:8080");
		assert.equal(
			loadApiConfig({ ...redis, PUBLIC_URL: "https://meet.example.org/" }).publicUrl,
			"https://meet.example.org",
		);
	});

	test("missing REDIS_URL is a clear error", () => {
		assert.throws(() => loadApiConfig({}), /REDIS_URL is not set/);
	});

	test("a REDIS_URL that is not a redis URL is refused", () => {
		assert.throws(() => loadApiConfig({ REDIS_URL: "localhost:6379" }), /REDIS_URL/);
	});

	test("a non-numeric PORT names the variable", () => {
		assert.throws(() => loadApiConfig({ ...redis, PORT: "http" }), /PORT/);
	});

	test("an out-of-range PORT names the variable", () => {
		assert.throws(() => loadApiConfig({ ...redis, PORT: "70000" }), /PORT/);
	});

	test("a fractional TTL names the variable", () => {
		assert.throws(() => loadApiConfig({ ...redis, GUEST_TOKEN_TTL: "1.5" }), /GUEST_TOKEN_TTL/);
	});

	test("a negative TTL names the variable", () => {
		assert.throws(() => loadApiConfig({ ...redis, ROOM_TTL: "-5" }), /ROOM_TTL/);
	});

	test("a non-numeric HOST_TOKEN_TTL names the variable", () => {
		assert.throws(() => loadApiConfig({ ...redis, HOST_TOKEN_TTL: "12h" }), /HOST_TOKEN_TTL/);
	});

	test("a guest token may not outlive the host token", () => {
		assert.throws(
			() => loadApiConfig({ ...redis, GUEST_TOKEN_TTL: "7200", HOST_TOKEN_TTL: "3600" }),
			/GUEST_TOKEN_TTL/,
		);
	});

	test("an unknown LOG_LEVEL names the variable", () => {
		assert.throws(() => loadApiConfig({ ...redis, LOG_LEVEL: "loud" }), /LOG_LEVEL/);
	});

	test("a PUBLIC_URL that is not http(s) names the variable", () => {
		assert.throws(() => loadApiConfig({ ...redis, PUBLIC_URL: "meet.example.org" }), /PUBLIC_URL/);
		assert.throws(() => loadApiConfig({ ...redis, PUBLIC_URL: "ftp://meet.example.org" }), /PUBLIC_URL/);
	});

	test("empty variables count as unset", () => {
		assert.equal(loadApiConfig({ ...redis, PORT: "", HOST: " " }).port, 3000);
	});
});
