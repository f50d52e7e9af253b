/**
 * Display names through the API (real Redis, the real app): room creation and
 * knocks strip control, bidi and invisible characters, NFC-normalise, refuse
 * what is empty or too long once cleaned, and what the host's lobby socket
 * shows is the cleaned name.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type LobbyHostEvent, limits, redisKeys, type StoredRoom } from "@mindmeet/protocol";
import { redisPublicKeyStore, TokenVerifier } from "@mindmeet/protocol/token-keys";
import {
	createRoom,
	knock,
	listen,
	redisContents,
	registerNode,
	startTestApi,
	type TestApi,
	watchSocket,
} from "./helpers.ts";

const spoof = "Ana\u202Egnp.exe";
const family = "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}";
const flag = "\u{1F1E7}\u{1F1F7}";
/** Nothing here may reach a person's screen: overrides, isolates, controls, invisible characters. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const forbidden = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\u200B\u200E\u200F\u061C\uFEFF]/u;

describe("display name hygiene", { timeout: 60_000 }, () => {
	let api: TestApi;
	let base: string;
	let verifier: TokenVerifier;

	before(async () => {
		api = await startTestApi({ KNOCK_RATE_LIMIT: "100000" });
		await registerNode(api.redis, { id: "node-a" });
		base = await listen(api);
		verifier = new TokenVerifier(redisPublicKeyStore(api.redis));
	});
	after(async () => {
		await api?.close();
	});

	test('a host named "Ana\\u202Egnp.exe" is stored, signed and shown without the override', async () => {
		const room = await createRoom(api, spoof);
		const stored = JSON.parse((await api.redis.get(redisKeys.room(room.roomId))) ?? "null") as StoredRoom;
		assert.equal(stored.hostName, "Anagnp.exe");
		assert.equal((await verifier.verify(room.hostToken)).name, "Anagnp.exe");
	});

	test("a knock named with an override, controls and invisible characters reaches the host's modal cleaned", async () => {
		const room = await createRoom(api, "Host");
		const host = watchSocket<LobbyHostEvent>(
			`${base}/api/rooms/${room.roomId}/lobby?token=${encodeURIComponent(room.hostToken)}`,
		);
		assert.deepEqual(await host.next(), { type: "knocks", knocks: [] });
		const names: [string, string][] = [
			[spoof, "Anagnp.exe"],
			["\u2067Bia\u2069\u0000\u0007 \u200BLima\u200F", "Bia Lima"],
			["Jose\u0301\tda\nSilva\u0085", "Jos\u00E9 da Silva"],
			[`Caio ${family} ${flag}`, `Caio ${family} ${flag}`],
		];
		for (const [typed, shown] of names) {
			await knock(api, room.roomId, typed);
			const event = await host.next();
			assert.ok(event.type === "knock", JSON.stringify(event));
			assert.equal(event.knock.name, shown, JSON.stringify(typed));
			assert.doesNotMatch(event.knock.name, forbidden);
		}
		host.socket.close();
	});

	test("a name that is empty once cleaned is refused and changes nothing", async () => {
		const room = await createRoom(api, "Host");
		const before = await redisContents(api.redis);
		for (const name of ["\u202E", "\u0000\u0007\u001B", " \u200B\u2066\u2069 ", "\uFEFF\u3164"]) {
			const create = await api.app.inject({
				method: "POST",
				url: "/api/rooms",
				payload: { hostName: name, mode: "video" },
			});
			assert.equal(create.statusCode, 400, create.body);
			assert.match(create.json<{ message: string }>().message, /hostName must not be empty/);
			const res = await api.app.inject({
				method: "POST",
				url: `/api/rooms/${room.roomId}/knocks`,
				payload: { name },
			});
			assert.equal(res.statusCode, 400, res.body);
			assert.match(res.json<{ message: string }>().message, /name must not be empty/);
		}
		assert.deepEqual(await redisContents(api.redis), before);
	});

	test("length is counted in code points after cleaning: 40 emoji pass, 41 letters do not", async () => {
		const emoji = "\u{1F600}".repeat(limits.nameMaxLength);
		const room = await createRoom(api, emoji);
		assert.equal((await verifier.verify(room.hostToken)).name, emoji);
		// Stripped characters do not count towards the limit.
		const padded = `${"a".repeat(limits.nameMaxLength)}\u202E\u202C\u200B`;
		assert.equal((await verifier.verify((await createRoom(api, padded)).hostToken)).name, "a".repeat(40));
		const res = await api.app.inject({
			method: "POST",
			url: "/api/rooms",
			payload: { hostName: "a".repeat(limits.nameMaxLength + 1), mode: "video" },
		});
		assert.equal(res.statusCode, 400);
		assert.match(res.json<{ message: string }>().message, /at most 40 characters/);
	});
});
