/**
 * Knock caps with the real Redis: at most KNOCKS_PENDING_MAX (default 20)
 * knocks wait in one room, also when they race; the knock rate limit counts
 * an IPv6 /64 as one address; the host's pending list is one round trip.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { redisKeys } from "@mindmeet/protocol";
import { clientAddressKey } from "../src/client-address.ts";
import { defaultKnocksPendingMax, KnockStore } from "../src/lobby/knocks.ts";
import { createRoom, decide, knock, redisContents, registerNode, startTestApi, type TestApi } from "./helpers.ts";

function knockFrom(api: TestApi, roomId: string, remoteAddress: string, name = "Guest") {
	return api.app.inject({ method: "POST", url: `/api/rooms/${roomId}/knocks`, payload: { name }, remoteAddress });
}

const roomFull = /^too many people are already waiting to be let in to this room \(20\); try again in a moment$/;

describe("pending knocks per room (default cap 20)", () => {
	let api: TestApi;

	before(async () => {
		api = await startTestApi({ KNOCK_RATE_LIMIT: "100000" });
		await registerNode(api.redis, { id: "node-a" });
	});
	after(async () => {
		await api?.close();
	});

	test("the knock after the cap gets 429 with a clear message and writes nothing; a settled knock frees a place", async () => {
		assert.equal(defaultKnocksPendingMax, 20);
		const room = await createRoom(api);
		const knocks = [];
		for (let i = 0; i < 20; i++) knocks.push(await knock(api, room.roomId, `Guest ${i}`, `10.1.0.${i}`));
		const before = await redisContents(api.redis);
		const refused = await knockFrom(api, room.roomId, "10.1.1.1");
		assert.equal(refused.statusCode, 429);
		assert.match(refused.json<{ message: string }>().message, roomFull);
		assert.match(String(refused.headers["retry-after"]), /^\d+$/);
		assert.deepEqual(await redisContents(api.redis), before, "a refused knock writes nothing");

		// Another room is not affected.
		const other = await createRoom(api);
		assert.equal((await knockFrom(api, other.roomId, "10.1.1.1")).statusCode, 201);

		const first = knocks[0];
		assert.ok(first);
		assert.equal((await decide(api, room.roomId, first.knockId, "deny", room.hostToken)).statusCode, 200);
		assert.equal((await knockFrom(api, room.roomId, "10.1.1.1")).statusCode, 201);
		assert.equal((await knockFrom(api, room.roomId, "10.1.1.2")).statusCode, 429);
	});

	test("40 knocks racing for the last places: exactly the cap is accepted", async () => {
		const room = await createRoom(api);
		const answers = await Promise.all(
			Array.from({ length: 40 }, (_, i) => knockFrom(api, room.roomId, `10.2.0.${i}`, `Racer ${i}`)),
		);
		const codes = answers.map((res) => res.statusCode);
		assert.equal(codes.filter((code) => code === 201).length, 20, `answers: ${codes.join(",")}`);
		assert.equal(codes.filter((code) => code === 429).length, 20);
		assert.equal(await api.redis.zCard(redisKeys.roomKnocks(room.roomId)), 20);
	});

	test("knocks whose records expired without leaving the queue do not hold places", async () => {
		const room = await createRoom(api);
		const knocks = [];
		for (let i = 0; i < 20; i++) knocks.push(await knock(api, room.roomId, `Guest ${i}`, `10.3.0.${i}`));
		// As if Redis had expired five records while their ids stayed queued (a crash between the two, say).
		for (const k of knocks.slice(0, 5)) await api.redis.del(redisKeys.knock(k.knockId));
		const answers = [];
		for (let i = 0; i < 6; i++) answers.push((await knockFrom(api, room.roomId, `10.3.1.${i}`)).statusCode);
		assert.deepEqual(answers, [201, 201, 201, 201, 201, 429]);
		assert.equal(await api.redis.zCard(redisKeys.roomKnocks(room.roomId)), 20);
	});
});

describe("knock rate limit keys: IPv4 address, IPv6 /64", () => {
	test("addresses map to what they are counted against", () => {
		assert.equal(clientAddressKey("198.51.100.7"), "198.51.100.7");
		assert.equal(clientAddressKey("::ffff:198.51.100.7"), "198.51.100.7", "IPv4-mapped IPv6 is the IPv4 address");
		assert.equal(clientAddressKey("::FFFF:198.51.100.7"), "198.51.100.7");
		assert.equal(clientAddressKey("2001:db8:1:2::1"), "2001:db8:1:2::/64");
		assert.equal(clientAddressKey("2001:0db8:0001:0002:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
		assert.equal(clientAddressKey("2001:db8::1"), "2001:db8:0:0::/64");
		assert.equal(clientAddressKey("2001:db8:1:2:3:4:5.6.7.8"), "2001:db8:1:2::/64");
		assert.equal(clientAddressKey("fe80::1%eth0"), "fe80:0:0:0::/64");
		assert.equal(clientAddressKey("::1"), "0:0:0:0::/64");
		assert.equal(clientAddressKey("::"), "0:0:0:0::/64");
		assert.notEqual(clientAddressKey("2001:db8:1:2::1"), clientAddressKey("2001:db8:1:3::1"));
	});

	describe("through the API (KNOCK_RATE_LIMIT=3)", () => {
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

		test("every address of one /64 shares one budget; the next /64 has its own", async () => {
			for (const address of ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:abcd::99"]) {
				assert.equal((await knockFrom(api, roomId, address)).statusCode, 201, address);
			}
			const refused = await knockFrom(api, roomId, "2001:db8:1:2:ffff:ffff:ffff:fffe");
			assert.equal(refused.statusCode, 429);
			assert.match(refused.json<{ message: string }>().message, /^too many knocks from this address/);
			assert.equal((await knockFrom(api, roomId, "2001:db8:1:3::1")).statusCode, 201);
		});

		test("an IPv4 address and its IPv4-mapped IPv6 form share one budget", async () => {
			for (let i = 0; i < 3; i++) assert.equal((await knockFrom(api, roomId, "192.0.2.44")).statusCode, 201);
			assert.equal((await knockFrom(api, roomId, "::ffff:192.0.2.44")).statusCode, 429);
			assert.equal((await knockFrom(api, roomId, "192.0.2.45")).statusCode, 201);
		});
	});
});

describe("the host's pending list", () => {
	let api: TestApi;

	before(async () => {
		api = await startTestApi({ KNOCK_RATE_LIMIT: "100000" });
		await registerNode(api.redis, { id: "node-a" });
	});
	after(async () => {
		await api?.close();
	});

	test("is read in one round trip, however many knock", async () => {
		const room = await createRoom(api);
		const knocks = [];
		for (let i = 0; i < 15; i++) knocks.push(await knock(api, room.roomId, `Guest ${i}`, `10.4.0.${i}`));
		// A connection of its own, so MONITOR sees exactly what the store sends.
		const client = api.redis.duplicate();
		client.on("error", () => {});
		await client.connect();
		const addr = /addr=(\S+)/.exec(String(await client.sendCommand(["CLIENT", "INFO"])))?.[1];
		assert.ok(addr);
		const monitor = api.redis.duplicate();
		monitor.on("error", () => {});
		await monitor.connect();
		const seen: string[] = [];
		await monitor.monitor((line) => seen.push(line));
		try {
			const store = new KnockStore(client, 120, 20);
			const pending = await store.pending(room.roomId);
			// Same-millisecond knocks tie on their score: compare the sets.
			assert.deepEqual(pending.map((k) => k.id).sort(), knocks.map((k) => k.knockId).sort());
			await client.echo("sentinel");
			await waitFor(() => seen.some((line) => line.includes('"sentinel"')));
			// Lines of commands the store's connection sent itself (a script's own calls show as "[0 lua]").
			const sent = seen.filter((line) => line.includes(` ${addr}]`) && !line.includes('"sentinel"'));
			assert.equal(
				sent.filter((line) => /"eval"/i.test(line)).length,
				1,
				`one EVAL for the whole list; seen: ${sent.join("\n")}`,
			);
			assert.equal(sent.filter((line) => /"get"/i.test(line)).length, 0, "no GET per knock outside the script");
		} finally {
			monitor.destroy();
			client.destroy();
		}
	});
});

async function waitFor(condition: () => boolean): Promise<void> {
	for (let i = 0; i < 200; i++) {
		if (condition()) return;
		await new Promise((resolve) => setTimeout(resolve, 25));
	}
	throw new Error("the monitor never saw the sentinel");
}
