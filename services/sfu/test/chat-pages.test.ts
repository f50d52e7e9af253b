/**
 * Chat history never blocks joining: the join answer carries one page of
 * the newest messages, bounded in count and bytes, and older pages come
 * with `chatHistory`.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ChatMessage, limits, redisKeys } from "@mindmeet/protocol";
import { connectPeer, createRoom, eventually, failure, joinPeer, type Rig, startRig } from "./support.ts";

let rig: Rig;
before(async () => {
	rig = await startRig();
});
after(async () => {
	await rig.close();
});

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), "utf8");

/** 1,000+ characters of what people type: accents, emoji (two UTF-16 units, four UTF-8 bytes), a number to tell them apart. */
function longText(i: number): string {
	const line = `Mensagem nº ${i}: ação, coração, pão — café ☕ e 😀🎉👍🏽 `;
	return line.repeat(Math.ceil(1100 / line.length));
}

test("300 long messages: a late joiner gets a bounded newest page and pages back to the oldest kept, each once", async () => {
	const room = await createRoom(rig);
	// Written as the SFU stores them: RPUSH of JSON, trimmed to the newest chatHistoryMax.
	const written: ChatMessage[] = Array.from({ length: 300 }, (_, i) => ({
		id: `m-${String(i).padStart(3, "0")}`,
		peerId: "someone",
		name: "Zé 🎸",
		text: longText(i),
		sentAt: 1_700_000_000_000 + i,
	}));
	const key = redisKeys.roomChat(room);
	for (const message of written) await rig.redis.rPush(key, JSON.stringify(message));
	await rig.redis.lTrim(key, -limits.chatHistoryMax, -1);

	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	// And two through the real path, as people chat on.
	const sent: ChatMessage[] = [];
	for (const text of ["olá, tudo bem? 😀", "cheguei agora — até já"]) {
		sent.push((await host.request("sendChat", { text })).message);
	}

	const late = await joinPeer(rig, room, { name: "Bia" });
	const answer = late.joined;
	assert.ok(bytes(answer.chat) <= limits.chatHistoryPageMaxBytes, `page of ${bytes(answer.chat)} bytes`);
	assert.ok(answer.chat.length <= limits.chatHistoryPageMax);
	assert.ok(
		bytes(answer) < limits.signalingMessageMaxBytes,
		"the whole answer fits even the client→server frame limit",
	);
	assert.deepEqual(answer.chat.at(-1), sent.at(-1), "the newest message is there");
	assert.equal(answer.chatMore, true);

	const seen: ChatMessage[] = [...answer.chat];
	let more: boolean = answer.chatMore;
	while (more) {
		const before = seen[0]?.id ?? "";
		const page = await late.request("chatHistory", { before });
		assert.ok(page.messages.length > 0, "every page makes progress");
		assert.ok(bytes(page.messages) <= limits.chatHistoryPageMaxBytes);
		assert.ok(page.messages.length <= limits.chatHistoryPageMax);
		seen.unshift(...page.messages);
		more = page.more;
	}
	const kept = [...written, ...sent].slice(-limits.chatHistoryMax);
	assert.deepEqual(
		seen.map((m) => m.id),
		kept.map((m) => m.id),
		"oldest kept to newest, each exactly once, in order",
	);
	assert.deepEqual(seen[0], kept[0], "stored verbatim, accents and emoji included");
	host.close();
	late.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room closes once empty");
});

test("chatHistory: unknown id is not-found, before joining is not-joined, bad data is bad-request; ping answers the time", async () => {
	const room = await createRoom(rig);
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const { message } = await host.request("sendChat", { text: "a primeira" });
	assert.deepEqual(await host.request("chatHistory", { before: message.id }), { messages: [], more: false });
	assert.match((await failure(host.request("chatHistory", { before: "nope" }))).message, /^not-found/);
	assert.match((await failure(host.rawRequest("chatHistory", { before: 7 }))).message, /^bad-request/);
	assert.match((await failure(host.rawRequest("chatHistory", {}))).message, /^bad-request/);
	assert.match((await failure(host.rawRequest("ping", { extra: 1 }))).message, /^bad-request/);
	const outsider = await connectPeer(rig, room, { name: "Bia" });
	assert.match((await failure(outsider.request("chatHistory", { before: message.id }))).message, /^not-joined/);
	const before = Date.now();
	const { now } = await outsider.request("ping", {});
	assert.ok(Number.isInteger(now) && now >= before, "ping works before joining and answers the server's time");
	assert.ok(!host.closed && !outsider.closed);
	host.close();
	outsider.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room closes once empty");
});
