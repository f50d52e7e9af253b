/**
 * Who may create rooms (ROOM_CREATION): open (rate-limited per address, IPv6
 * per /64), password (the team's host password) and accounts (host accounts
 * managed through the admin API). Guests never sign in. Real Redis throughout.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
	type AccountSummary,
	type ApiError,
	type CreateRoomResponse,
	type HostSession,
	redisKeys,
	type SessionStatus,
} from "@mindmeet/protocol";
import { pino } from "pino";
import { decoyHash, hashPassword, verifyPassword } from "../src/accounts/passwords.ts";
import { buildApi } from "../src/app.ts";
import { clientAddressKey } from "../src/client-address.ts";
import { loadApiConfig } from "../src/config.ts";
import { createApiRedis } from "../src/redis.ts";
import { admitGuest, listen, publicUrl, redisContents, registerNode, startTestApi, type TestApi } from "./helpers.ts";

const adminToken = "admin-token-0123456789abcdef";
const teamPassword = "correct horse battery";

function create(api: TestApi, options: { token?: string; remoteAddress?: string; forwardedFor?: string } = {}) {
	return api.app.inject({
		method: "POST",
		url: "/api/rooms",
		payload: { hostName: "Host", mode: "video" },
		remoteAddress: options.remoteAddress ?? "127.0.0.1",
		headers: {
			...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
			...(options.forwardedFor !== undefined ? { "x-forwarded-for": options.forwardedFor } : {}),
		},
	});
}

function signIn(api: TestApi, body: unknown, remoteAddress = "127.0.0.1") {
	return api.app.inject({ method: "POST", url: "/api/session", payload: body as object, remoteAddress });
}

async function sessionStatus(api: TestApi, token?: string): Promise<SessionStatus> {
	const res = await api.app.inject({
		method: "GET",
		url: "/api/session",
		headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
	});
	assert.equal(res.statusCode, 200);
	return res.json<SessionStatus>();
}

function admin(api: TestApi, method: "GET" | "POST" | "PUT" | "DELETE", url: string, payload?: unknown) {
	return api.app.inject({
		method,
		url,
		headers: { authorization: `Bearer ${adminToken}` },
		...(payload !== undefined ? { payload: payload as object } : {}),
	});
}

function message(res: { json<T>(): T }): string {
	return res.json<ApiError>().message;
}

describe("clientAddressKey", () => {
	test("IPv4 by address, IPv6 by /64, IPv4-mapped IPv6 as the IPv4 address", () => {
		assert.equal(clientAddressKey("192.0.2.7"), "192.0.2.7");
		assert.equal(clientAddressKey("::ffff:192.0.2.7"), "192.0.2.7");
		const prefix = "2001:db8:1:2::/64";
		for (const a of [
			"2001:db8:1:2::1",
			"2001:db8:1:2:ffff:ffff:ffff:ffff",
			"2001:0db8:0001:0002:0:0:0:9",
			"2001:db8:1:2::1%eth0",
		]) {
			assert.equal(clientAddressKey(a), prefix, a);
		}
		assert.equal(clientAddressKey("2001:db8:1:3::1"), "2001:db8:1:3::/64");
		assert.notEqual(clientAddressKey("2001:db8:1:2::1"), clientAddressKey("2001:db8:1:3::1"));
	});
});

describe("password hashing (scrypt)", () => {
	test("salted, parameters stored with the hash, and only the right password matches", async () => {
		const a = await hashPassword("same password");
		const b = await hashPassword("same password");
		assert.match(a, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]{43}$/);
		assert.notEqual(a, b, "each hash has its own salt");
		assert.equal(await verifyPassword("same password", a), true);
		assert.equal(await verifyPassword("same passworD", a), false);
		assert.equal(await verifyPassword("Same password", a), false);
		assert.equal(await verifyPassword("same password and more", a), false);
		assert.equal(await verifyPassword("same password", await decoyHash()), false);
	});

	test("an unreadable or tampered hash never matches and never runs an oversized KDF", async () => {
		const good = await hashPassword("pw-12345678");
		const parts = good.split("$");
		for (const bad of [
			"",
			"plain",
			good.replace("scrypt", "bcrypt"),
			[...parts.slice(0, 1), String(2 ** 30), ...parts.slice(2)].join("$"),
			[...parts.slice(0, 1), "1000", ...parts.slice(2)].join("$"),
			[...parts.slice(0, 5), "c2hvcnQ"].join("$"),
		]) {
			assert.equal(await verifyPassword("pw-12345678", bad), false, bad);
		}
	});
});

describe("ROOM_CREATION=open (ROOM_CREATE_RATE_LIMIT=3)", () => {
	let api: TestApi;

	before(async () => {
		api = await startTestApi({ ROOM_CREATE_RATE_LIMIT: "3" });
		await registerNode(api.redis, { id: "node-a" });
	});
	after(async () => {
		await api?.close();
	});

	test("the home page is told no sign-in is needed; signing in is refused as pointless", async () => {
		assert.deepEqual(await sessionStatus(api), { roomCreation: "open", signedIn: false });
		const res = await signIn(api, { password: "whatever-password" });
		assert.equal(res.statusCode, 409);
		assert.match(message(res), /not needed/);
	});

	test("anyone may create rooms, up to the limit per address; then 429 with a clear message, nothing written", async () => {
		for (let i = 0; i < 3; i++) assert.equal((await create(api, { remoteAddress: "10.1.0.1" })).statusCode, 201);
		const before = await redisContents(api.redis);
		const res = await create(api, { remoteAddress: "10.1.0.1" });
		assert.equal(res.statusCode, 429);
		assert.match(message(res), /^too many rooms created from this address, try again in \d+ seconds$/);
		assert.match(String(res.headers["retry-after"]), /^\d+$/);
		assert.deepEqual(await redisContents(api.redis), before, "a refused creation writes nothing");
		assert.equal((await create(api, { remoteAddress: "10.1.0.2" })).statusCode, 201, "another address is unaffected");
		// The IPv4-mapped form of the same client is the same client.
		assert.equal((await create(api, { remoteAddress: "::ffff:10.1.0.1" })).statusCode, 429);
	});

	test("IPv6 addresses in one /64 share one budget; the next /64 has its own", async () => {
		const sameSlash64 = ["2001:db8:aa:1::1", "2001:db8:aa:1::2", "2001:db8:aa:1:ffff:0:0:3"];
		for (const remoteAddress of sameSlash64) assert.equal((await create(api, { remoteAddress })).statusCode, 201);
		assert.equal((await create(api, { remoteAddress: "2001:db8:aa:1:1234:5678:9abc:def0" })).statusCode, 429);
		assert.equal((await create(api, { remoteAddress: "2001:db8:aa:2::1" })).statusCode, 201);
	});

	test("without a trusted proxy, X-Forwarded-For does not pick the address", async () => {
		for (let i = 0; i < 3; i++) {
			const res = await create(api, { remoteAddress: "10.1.0.3", forwardedFor: `203.0.113.${i}` });
			assert.equal(res.statusCode, 201);
		}
		assert.equal((await create(api, { remoteAddress: "10.1.0.3", forwardedFor: "203.0.113.99" })).statusCode, 429);
	});
});

describe("ROOM_CREATION=open behind a trusted proxy (TRUST_PROXY=true, ROOM_CREATE_RATE_LIMIT=1)", () => {
	let api: TestApi;

	before(async () => {
		api = await startTestApi({ ROOM_CREATE_RATE_LIMIT: "1", TRUST_PROXY: "true" });
		await registerNode(api.redis, { id: "node-a" });
	});
	after(async () => {
		await api?.close();
	});

	test("forwarded IPv6 clients are counted by /64", async () => {
		const proxy = "172.18.0.5";
		assert.equal((await create(api, { remoteAddress: proxy, forwardedFor: "2001:db8:bb:1::1" })).statusCode, 201);
		assert.equal((await create(api, { remoteAddress: proxy, forwardedFor: "2001:db8:bb:1::2" })).statusCode, 429);
		assert.equal((await create(api, { remoteAddress: proxy, forwardedFor: "2001:db8:bb:2::1" })).statusCode, 201);
		assert.equal((await create(api, { remoteAddress: proxy, forwardedFor: "198.51.100.1" })).statusCode, 201);
	});
});

describe("ROOM_CREATION=password", () => {
	let api: TestApi;

	before(async () => {
		api = await startTestApi({
			ROOM_CREATION: "password",
			ROOM_CREATION_PASSWORD: teamPassword,
			SIGN_IN_RATE_LIMIT: "100",
		});
		await registerNode(api.redis, { id: "node-a" });
	});
	after(async () => {
		await api?.close();
	});

	test("the home page is told a password is needed", async () => {
		assert.deepEqual(await sessionStatus(api), { roomCreation: "password", signedIn: false });
	});

	test("creating a room without signing in, or with a made-up credential, is 401 and writes nothing", async () => {
		const before = await redisContents(api.redis);
		const missing = await create(api);
		assert.equal(missing.statusCode, 401);
		assert.match(message(missing), /sign in with the host password/);
		for (const token of ["made-up", "A".repeat(43), "x".repeat(5000)]) {
			const res = await create(api, { token });
			assert.equal(res.statusCode, 401, token.slice(0, 10));
			assert.match(message(res), /sign in again/);
		}
		assert.deepEqual(await redisContents(api.redis), before);
	});

	test("a wrong password is 401 'wrong password' (near misses and other lengths alike); no session is stored", async () => {
		for (const password of [
			"correct horse batterY",
			"Correct horse battery",
			"correct horse battery ",
			"correct",
			"x".repeat(256),
		]) {
			const res = await signIn(api, { password });
			assert.equal(res.statusCode, 401, password);
			assert.equal(message(res), "wrong password");
		}
		assert.deepEqual(await api.redis.keys(redisKeys.hostSession("*")), []);
	});

	test("the right password gives a credential that creates rooms; Redis keeps only its hash; sign-out ends it", async () => {
		const res = await signIn(api, { password: teamPassword });
		assert.equal(res.statusCode, 201);
		const session = res.json<HostSession>();
		assert.match(session.token, /^[A-Za-z0-9_-]{43}$/);
		assert.ok(session.expiresAt > Date.now() + 29 * 86_400_000, "30 days by default");
		assert.equal(session.name, undefined);

		const dump = JSON.stringify(await redisContents(api.redis));
		assert.ok(!dump.includes(session.token), "the token itself is not in Redis");
		assert.ok(!dump.includes(teamPassword), "the password is not in Redis");
		const [key] = await api.redis.keys(redisKeys.hostSession("*"));
		assert.ok(key);
		const ttl = await api.redis.ttl(key);
		assert.ok(ttl > 0 && ttl <= 30 * 86_400, `the session expires (ttl ${ttl})`);

		const status = await sessionStatus(api, session.token);
		assert.equal(status.signedIn, true);
		assert.equal(status.expiresAt, session.expiresAt);

		const created = await create(api, { token: session.token });
		assert.equal(created.statusCode, 201);
		assert.ok(created.json<CreateRoomResponse>().hostToken);

		const out = await api.app.inject({
			method: "DELETE",
			url: "/api/session",
			headers: { authorization: `Bearer ${session.token}` },
		});
		assert.equal(out.statusCode, 204);
		assert.equal((await create(api, { token: session.token })).statusCode, 401);
		assert.equal((await sessionStatus(api, session.token)).signedIn, false);
	});

	test("guests knock and are admitted with only a name", async () => {
		const session = (await signIn(api, { password: teamPassword })).json<HostSession>();
		const room = (await create(api, { token: session.token })).json<CreateRoomResponse>();
		const base = await listen(api);
		const guest = await admitGuest(api, base, room.roomId, room.hostToken, "Guest without account");
		assert.ok(guest.token);
	});

	test("a session stops working when the API runs with another team password or another mode", async () => {
		const session = (await signIn(api, { password: teamPassword })).json<HostSession>();
		const log = pino({ level: "silent" });
		for (const env of [
			{ ROOM_CREATION: "password", ROOM_CREATION_PASSWORD: "a different password" },
			{ ROOM_CREATION: "accounts" },
		]) {
			const config = loadApiConfig({ REDIS_URL: api.redisServer.url, PUBLIC_URL: publicUrl, ...env });
			const redis = createApiRedis(config.redisUrl, log);
			await redis.connect();
			const other = await buildApi({ config, redis, logger: false });
			try {
				const res = await other.inject({
					method: "POST",
					url: "/api/rooms",
					payload: { hostName: "Host", mode: "video" },
					headers: { authorization: `Bearer ${session.token}` },
				});
				assert.equal(res.statusCode, 401, env.ROOM_CREATION_PASSWORD ?? env.ROOM_CREATION);
			} finally {
				await other.close();
				redis.destroy();
			}
		}
		// …while the same password on another instance (or after a restart) keeps it.
		const config = loadApiConfig({
			REDIS_URL: api.redisServer.url,
			PUBLIC_URL: publicUrl,
			ROOM_CREATION: "password",
			ROOM_CREATION_PASSWORD: teamPassword,
		});
		const redis = createApiRedis(config.redisUrl, log);
		await redis.connect();
		const same = await buildApi({ config, redis, logger: false });
		try {
			const res = await same.inject({
				method: "POST",
				url: "/api/rooms",
				payload: { hostName: "Host", mode: "video" },
				headers: { authorization: `Bearer ${session.token}` },
			});
			assert.equal(res.statusCode, 201);
		} finally {
			await same.close();
			redis.destroy();
		}
	});
});

describe("sign-in rate limit (SIGN_IN_RATE_LIMIT=3)", () => {
	let api: TestApi;

	before(async () => {
		api = await startTestApi({
			ROOM_CREATION: "password",
			ROOM_CREATION_PASSWORD: teamPassword,
			SIGN_IN_RATE_LIMIT: "3",
		});
	});
	after(async () => {
		await api?.close();
	});

	test("guessing is cut off per address (IPv6 per /64), even the right password after the limit", async () => {
		for (let i = 0; i < 3; i++)
			assert.equal((await signIn(api, { password: `guess-${i}-xx` }, "2001:db8:cc:1::1")).statusCode, 401);
		const blocked = await signIn(api, { password: teamPassword }, "2001:db8:cc:1::99");
		assert.equal(blocked.statusCode, 429);
		assert.match(message(blocked), /^too many sign-in attempts from this address, try again in \d+ seconds$/);
		assert.equal((await signIn(api, { password: teamPassword }, "2001:db8:cc:2::1")).statusCode, 201);
	});
});

describe("ROOM_CREATION=accounts", () => {
	let api: TestApi;

	before(async () => {
		api = await startTestApi({ ROOM_CREATION: "accounts", ADMIN_TOKEN: adminToken, SIGN_IN_RATE_LIMIT: "1000" });
		await registerNode(api.redis, { id: "node-a" });
	});
	after(async () => {
		await api?.close();
	});

	test("the home page is told accounts are needed", async () => {
		assert.deepEqual(await sessionStatus(api), { roomCreation: "accounts", signedIn: false });
	});

	test("the admin API needs the admin token", async () => {
		for (const headers of [{}, { authorization: "Bearer wrong-token-0123456789" }]) {
			for (const [method, url] of [
				["GET", "/api/admin/accounts"],
				["POST", "/api/admin/accounts"],
				["DELETE", "/api/admin/accounts/ana"],
				["PUT", "/api/admin/accounts/ana/password"],
			] as const) {
				const res = await api.app.inject({ method, url, headers, payload: { name: "ana", password: "password-1" } });
				assert.equal(res.statusCode, 401, `${method} ${url}`);
			}
		}
		assert.equal(await api.redis.exists(redisKeys.account("ana")), 0);
	});

	test("create, list, sign in, create a room; the account's password is stored only as a scrypt hash", async () => {
		const created = await admin(api, "POST", "/api/admin/accounts", { name: "ana", password: "ana-password-1" });
		assert.equal(created.statusCode, 201);
		assert.equal(created.json<AccountSummary>().name, "ana");
		const duplicate = await admin(api, "POST", "/api/admin/accounts", { name: "ana", password: "other-password" });
		assert.equal(duplicate.statusCode, 409);
		assert.equal(
			(await admin(api, "POST", "/api/admin/accounts", { name: "bia", password: "bia-password-1" })).statusCode,
			201,
		);

		const list = await admin(api, "GET", "/api/admin/accounts");
		assert.equal(list.statusCode, 200);
		assert.deepEqual(
			list.json<{ accounts: AccountSummary[] }>().accounts.map((a) => a.name),
			["ana", "bia"],
		);
		assert.ok(!list.body.includes("scrypt"), "no hashes in the listing");

		const stored = await api.redis.get(redisKeys.account("ana"));
		assert.ok(stored?.includes('"passwordHash":"scrypt$'));
		assert.ok(!stored?.includes("ana-password-1"));

		const res = await signIn(api, { name: "ana", password: "ana-password-1" });
		assert.equal(res.statusCode, 201);
		const session = res.json<HostSession>();
		assert.equal(session.name, "ana");
		assert.deepEqual(await sessionStatus(api, session.token), {
			roomCreation: "accounts",
			signedIn: true,
			name: "ana",
			expiresAt: session.expiresAt,
		});
		assert.equal((await create(api, { token: session.token })).statusCode, 201);
		// Names are case-insensitive at sign-in.
		assert.equal((await signIn(api, { name: " ANA ", password: "ana-password-1" })).statusCode, 201);
	});

	test("a wrong password and an unknown account get the very same answer", async () => {
		const wrong = await signIn(api, { name: "ana", password: "not-her-password" });
		const unknown = await signIn(api, { name: "nobody", password: "not-her-password" });
		const invalidName = await signIn(api, { name: "Not A Name!", password: "not-her-password" });
		for (const res of [wrong, unknown, invalidName]) {
			assert.equal(res.statusCode, 401);
			assert.deepEqual(res.json(), { statusCode: 401, error: "Unauthorized", message: "wrong name or password" });
		}
		const missing = await signIn(api, { password: "ana-password-1" });
		assert.equal(missing.statusCode, 400);
		assert.match(message(missing), /name is required/);
		assert.equal((await create(api)).statusCode, 401);
		assert.match(message(await create(api)), /host account/);
	});

	test("a password reset ends the old sign-ins and the old password; the new one works", async () => {
		const old = (await signIn(api, { name: "bia", password: "bia-password-1" })).json<HostSession>();
		const reset = await admin(api, "PUT", "/api/admin/accounts/bia/password", { password: "bia-password-2" });
		assert.equal(reset.statusCode, 204);
		assert.equal((await create(api, { token: old.token })).statusCode, 401);
		assert.equal((await signIn(api, { name: "bia", password: "bia-password-1" })).statusCode, 401);
		const fresh = await signIn(api, { name: "bia", password: "bia-password-2" });
		assert.equal(fresh.statusCode, 201);
		assert.equal((await create(api, { token: fresh.json<HostSession>().token })).statusCode, 201);
		assert.equal(
			(await admin(api, "PUT", "/api/admin/accounts/nobody/password", { password: "whatever-1" })).statusCode,
			404,
		);
	});

	test("a deleted account's credential stops working at once", async () => {
		assert.equal(
			(await admin(api, "POST", "/api/admin/accounts", { name: "caio", password: "caio-password" })).statusCode,
			201,
		);
		const session = (await signIn(api, { name: "caio", password: "caio-password" })).json<HostSession>();
		assert.equal((await create(api, { token: session.token })).statusCode, 201);
		assert.equal((await admin(api, "DELETE", "/api/admin/accounts/caio")).statusCode, 204);
		const refused = await create(api, { token: session.token });
		assert.equal(refused.statusCode, 401);
		assert.match(message(refused), /sign in again/);
		assert.equal((await sessionStatus(api, session.token)).signedIn, false);
		assert.equal((await signIn(api, { name: "caio", password: "caio-password" })).statusCode, 401);
		assert.equal((await admin(api, "DELETE", "/api/admin/accounts/caio")).statusCode, 404);
		assert.ok(!(await api.redis.sMembers(redisKeys.accounts)).includes("caio"));
	});

	test("guests knock and are admitted with only a name", async () => {
		await admin(api, "POST", "/api/admin/accounts", { name: "duda", password: "duda-password" });
		const session = (await signIn(api, { name: "duda", password: "duda-password" })).json<HostSession>();
		const room = (await create(api, { token: session.token })).json<CreateRoomResponse>();
		const base = await listen(api);
		const guest = await admitGuest(api, base, room.roomId, room.hostToken, "Guest");
		assert.ok(guest.token);
	});

	test("bad input to the admin routes: clear 4xx, nothing changes", async () => {
		const before = await redisContents(api.redis);
		const bodies: [unknown, number][] = [
			[{}, 400],
			[{ name: "eva" }, 400],
			[{ password: "eva-password" }, 400],
			[{ name: "eva", password: "short" }, 400],
			[{ name: "eva", password: "x".repeat(257) }, 400],
			[{ name: "Eva", password: "eva-password" }, 400],
			[{ name: "e va", password: "eva-password" }, 400],
			[{ name: "-eva", password: "eva-password" }, 400],
			[{ name: "e".repeat(65), password: "eva-password" }, 400],
			[{ name: 42, password: "eva-password" }, 400],
			[{ name: "eva", password: 12345678 }, 400],
			[{ name: "eva", password: "eva-password", admin: true }, 400],
			[["eva", "eva-password"], 400],
			[{ name: "eva", password: "x".repeat(20_000) }, 413],
		];
		for (const [body, status] of bodies) {
			const res = await admin(api, "POST", "/api/admin/accounts", body);
			assert.equal(res.statusCode, status, JSON.stringify(body).slice(0, 80));
			assert.ok(message(res).length > 0);
		}
		const text = await api.app.inject({
			method: "POST",
			url: "/api/admin/accounts",
			headers: { authorization: `Bearer ${adminToken}`, "content-type": "text/plain" },
			payload: "name=eva",
		});
		assert.equal(text.statusCode, 415);
		for (const [body, status] of [
			[{}, 400],
			[{ password: "short" }, 400],
			[{ password: 12345678 }, 400],
			[{ password: "ana-password-2", extra: 1 }, 400],
		] as const) {
			assert.equal((await admin(api, "PUT", "/api/admin/accounts/ana/password", body)).statusCode, status);
		}
		assert.equal((await admin(api, "DELETE", `/api/admin/accounts/${"a".repeat(500)}`)).statusCode, 404);
		assert.equal((await admin(api, "DELETE", "/api/admin/accounts/%2e%2e")).statusCode, 404);
		assert.deepEqual(await redisContents(api.redis), before);
		assert.equal((await signIn(api, { name: "ana", password: "ana-password-1" })).statusCode, 201, "ana is intact");
	});

	test("bad input to sign-in and sign-out: clear 4xx, no session made", async () => {
		const sessionsBefore = (await api.redis.keys(redisKeys.hostSession("*"))).length;
		const bodies: [unknown, number][] = [
			[{}, 400],
			[{ name: "ana" }, 400],
			[{ name: "ana", password: "" }, 400],
			[{ name: "ana", password: 12345 }, 400],
			[{ name: ["ana"], password: "ana-password-1" }, 400],
			[{ name: "", password: "ana-password-1" }, 400],
			[{ name: "a".repeat(65), password: "ana-password-1" }, 400],
			[{ name: "ana", password: "x".repeat(257) }, 400],
			[{ name: "ana", password: "ana-password-1", remember: true }, 400],
			["ana-password-1", 400],
			[null, 400],
			[{ name: "ana", password: "x".repeat(20_000) }, 413],
		];
		for (const [body, status] of bodies) {
			const res = await api.app.inject({
				method: "POST",
				url: "/api/session",
				headers: { "content-type": "application/json" },
				payload: JSON.stringify(body),
			});
			assert.equal(res.statusCode, status, JSON.stringify(body).slice(0, 80));
			assert.ok(message(res).length > 0);
		}
		const text = await api.app.inject({
			method: "POST",
			url: "/api/session",
			headers: { "content-type": "text/plain" },
			payload: "ana:ana-password-1",
		});
		assert.equal(text.statusCode, 415);
		const broken = await api.app.inject({
			method: "POST",
			url: "/api/session",
			headers: { "content-type": "application/json" },
			payload: "{not json",
		});
		assert.equal(broken.statusCode, 400);
		for (const authorization of ["", "Bearer", "Basic abc", `Bearer ${"x".repeat(5000)}`, "Bearer a b"]) {
			const status = await api.app.inject({ method: "GET", url: "/api/session", headers: { authorization } });
			assert.equal(status.statusCode, 200);
			assert.equal(status.json<SessionStatus>().signedIn, false);
			const out = await api.app.inject({ method: "DELETE", url: "/api/session", headers: { authorization } });
			assert.equal(out.statusCode, 204);
		}
		assert.equal((await api.redis.keys(redisKeys.hostSession("*"))).length, sessionsBefore);
	});
});
