import assert from "node:assert/strict";
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
		assert.equal(config.roomTtl, 86_400);
		assert.equal(config.logLevel, "info");
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
