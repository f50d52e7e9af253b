/**
 * `./mindmeet accounts …`: accounts made from the command line, straight in
 * the API's Redis, are the ones hosts sign in with.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { type HostSession, redisKeys } from "@mindmeet/protocol";
import { registerNode, startTestApi, type TestApi } from "./helpers.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const launcher = resolve(repoRoot, "mindmeet");

function accounts(redisUrl: string, args: string[], input = "") {
	const run = spawnSync(launcher, ["accounts", ...args], {
		cwd: repoRoot,
		env: { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL: redisUrl },
		input,
		encoding: "utf8",
		timeout: 60_000,
	});
	return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("./mindmeet accounts", () => {
	let api: TestApi;
	let url: string;

	before(async () => {
		api = await startTestApi({ ROOM_CREATION: "accounts", SIGN_IN_RATE_LIMIT: "1000" });
		await registerNode(api.redis, { id: "node-a" });
		url = api.redisServer.url;
	});
	after(async () => {
		await api?.close();
	});

	function signIn(name: string, password: string) {
		return api.app.inject({ method: "POST", url: "/api/session", payload: { name, password } });
	}

	test("add (password from stdin), list, and the host signs in and creates a room", async () => {
		const added = accounts(url, ["add", "ana"], "ana-password-1\n");
		assert.equal(added.status, 0, added.stderr);
		assert.match(added.stdout, /account ana created/);
		assert.ok(!added.stdout.includes("ana-password-1") && !added.stderr.includes("ana-password-1"));

		const list = accounts(url, ["list"]);
		assert.equal(list.status, 0, list.stderr);
		assert.match(list.stdout, /^ana\t\d{4}-\d\d-\d\dT/m);

		const res = await signIn("ana", "ana-password-1");
		assert.equal(res.statusCode, 201);
		const created = await api.app.inject({
			method: "POST",
			url: "/api/rooms",
			payload: { hostName: "Ana", mode: "video" },
			headers: { authorization: `Bearer ${res.json<HostSession>().token}` },
		});
		assert.equal(created.statusCode, 201);

		const again = accounts(url, ["add", "ana"], "whatever-password\n");
		assert.equal(again.status, 1);
		assert.match(again.stderr, /account ana already exists/);
	});

	test("passwd ends the old sign-ins; remove ends the account", async () => {
		const old = (await signIn("ana", "ana-password-1")).json<HostSession>();
		const changed = accounts(url, ["passwd", "ana"], "ana-password-2\n");
		assert.equal(changed.status, 0, changed.stderr);
		const status = await api.app.inject({
			method: "GET",
			url: "/api/session",
			headers: { authorization: `Bearer ${old.token}` },
		});
		assert.equal(status.json<{ signedIn: boolean }>().signedIn, false);
		assert.equal((await signIn("ana", "ana-password-1")).statusCode, 401);
		assert.equal((await signIn("ana", "ana-password-2")).statusCode, 201);

		const removed = accounts(url, ["remove", "ana"]);
		assert.equal(removed.status, 0, removed.stderr);
		assert.equal((await signIn("ana", "ana-password-2")).statusCode, 401);
		assert.equal(await api.redis.exists(redisKeys.account("ana")), 0);
		assert.equal(accounts(url, ["list"]).stdout, "");
	});

	test("bad input: clear message, non-zero exit, nothing written", async () => {
		const cases: [string[], string, number, RegExp][] = [
			[[], "", 2, /usage: mindmeet accounts/],
			[["frobnicate"], "", 2, /unknown command/],
			[["add"], "", 1, /a name is required/],
			[["add", "Not A Name"], "pw-12345678\n", 1, /is not a valid name/],
			[["add", "x".repeat(65)], "pw-12345678\n", 1, /is not a valid name/],
			[["add", "bea"], "short\n", 1, /8 to 256 characters/],
			[["add", "bea"], "", 1, /8 to 256 characters/],
			[["add", "bea", "extra"], "pw-12345678\n", 2, /unknown command/],
			[["list", "bea"], "", 1, /list takes no name/],
			[["passwd", "nobody"], "pw-12345678\n", 1, /no account named nobody/],
			[["remove", "nobody"], "", 1, /no account named nobody/],
		];
		for (const [args, input, status, pattern] of cases) {
			const run = accounts(url, args, input);
			assert.equal(run.status, status, `${args.join(" ")}: ${run.stderr}`);
			assert.match(run.stderr, pattern, args.join(" "));
		}
		assert.equal(await api.redis.exists(redisKeys.account("bea")), 0);
		assert.deepEqual(await api.redis.sMembers(redisKeys.accounts), []);

		const unreachable = accounts("redis://127.0.0.1:1", ["list"]);
		assert.equal(unreachable.status, 1);
		assert.match(unreachable.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
		const badUrl = accounts("http://127.0.0.1:6379", ["list"]);
		assert.equal(badUrl.status, 2);
		assert.match(badUrl.stderr, /REDIS_URL must start with redis:\/\//);
	});
});
