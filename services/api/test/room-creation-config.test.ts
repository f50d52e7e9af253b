/** ROOM_CREATION and its companions, as the API reads them at start. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, test } from "node:test";
import { loadApiConfig } from "../src/config.ts";

const redis = { REDIS_URL: "redis://127.0.0.1:6379" };

describe("room creation settings", () => {
	test("defaults: open, 20 rooms and 10 sign-ins a minute per address, 30-day sign-ins", () => {
		const config = loadApiConfig(redis);
		assert.deepEqual(config.roomCreation, { mode: "open" });
		assert.equal(config.roomCreateRateLimit, 20);
		assert.equal(config.signInRateLimit, 10);
		assert.equal(config.hostSessionTtl, 30 * 86_400);
	});

	test("each mode is read; anything else is refused, naming the variable", () => {
		assert.deepEqual(loadApiConfig({ ...redis, ROOM_CREATION: "accounts" }).roomCreation, { mode: "accounts" });
		assert.deepEqual(
			loadApiConfig({ ...redis, ROOM_CREATION: "password", ROOM_CREATION_PASSWORD: "team secret" }).roomCreation,
			{ mode: "password", password: "team secret" },
		);
		for (const bad of ["closed", "OPEN", "accounts,password", "1"]) {
			assert.throws(
				() => loadApiConfig({ ...redis, ROOM_CREATION: bad }),
				/ROOM_CREATION must be one of open, password, accounts/,
			);
		}
		for (const [name, bad] of [
			["ROOM_CREATE_RATE_LIMIT", "0"],
			["ROOM_CREATE_RATE_LIMIT", "many"],
			["SIGN_IN_RATE_LIMIT", "-1"],
			["HOST_SESSION_TTL", "59"],
			["HOST_SESSION_TTL", "1.5"],
		] as const) {
			assert.throws(() => loadApiConfig({ ...redis, [name]: bad }), new RegExp(name));
		}
	});

	test("password mode needs a password of at least 8 characters", () => {
		assert.throws(
			() => loadApiConfig({ ...redis, ROOM_CREATION: "password" }),
			/ROOM_CREATION=password but ROOM_CREATION_PASSWORD is not set/,
		);
		assert.throws(
			() => loadApiConfig({ ...redis, ROOM_CREATION: "password", ROOM_CREATION_PASSWORD: "   " }),
			/ROOM_CREATION_PASSWORD is not set/,
		);
		assert.throws(
			() => loadApiConfig({ ...redis, ROOM_CREATION: "password", ROOM_CREATION_PASSWORD: "short" }),
			/ROOM_CREATION_PASSWORD must be 8 to 256 characters/,
		);
		// The password is only needed in password mode.
		assert.deepEqual(loadApiConfig({ ...redis, ROOM_CREATION: "accounts", ROOM_CREATION_PASSWORD: "x" }).roomCreation, {
			mode: "accounts",
		});
	});

	test("the API process refuses to start in production in password mode without a password, saying so", () => {
		const main = resolve(import.meta.dirname, "../src/main.ts");
		const env: NodeJS.ProcessEnv = {
			PATH: process.env.PATH,
			...redis,
			NODE_ENV: "production",
			ADMIN_TOKEN: "a".repeat(32),
			ROOM_CREATION: "password",
		};
		const run = spawnSync(process.execPath, [main], { env, encoding: "utf8", timeout: 30_000 });
		assert.equal(run.status, 1);
		assert.match(run.stderr, /configuration error: ROOM_CREATION=password but ROOM_CREATION_PASSWORD is not set/);
	});
});
