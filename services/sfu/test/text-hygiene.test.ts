/**
 * Chat text hygiene in the SFU (real mediasoup worker, real Redis): what is
 * stored and broadcast has no control characters other than line breaks, no
 * bidi overrides or isolates, no invisible characters, and is NFC; what is
 * empty once cleaned is refused and stores nothing; length is counted in
 * code points after cleaning, as the web client counts it.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ChatMessage, checkText, limits, redisKeys } from "@mindmeet/protocol";
import { createRoom, joinPeer, type Rig, rejection, startRig } from "./support.ts";

let rig: Rig;
before(async () => {
	rig = await startRig();
});
after(async () => {
	await rig.close();
});

async function storedChat(room: string): Promise<ChatMessage[]> {
	return (await rig.redis.lRange(redisKeys.roomChat(room), 0, -1)).map((json) => JSON.parse(json) as ChatMessage);
}

const family = "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}";
const flag = "\u{1F1E7}\u{1F1F7}";

test("NUL, BEL, U+202E and invisible characters are cleaned before storing and broadcasting; line breaks stay", async () => {
	const room = await createRoom(rig);
	// Three senders in turn keep each under the chat rate limit (3 a second); Dora only listens.
	const senders = [
		await joinPeer(rig, room, { name: "Ana", role: "host" }),
		await joinPeer(rig, room, { name: "Bia" }),
		await joinPeer(rig, room, { name: "Caio" }),
	];
	const dora = await joinPeer(rig, room, { name: "Dora" });
	const cases: [string, string][] = [
		["oi\u0000 to\u0007dos", "oi todos"],
		["Ana\u202Egnp.exe", "Anagnp.exe"],
		["\u2066linha 1\u2069\r\nlinha 2\rlinha 3\u2028fim", "linha 1\nlinha 2\nlinha 3\nfim"],
		["a\tb\u200B\uFEFFc\u0085", "a bc"],
		["cafe\u0301", "caf\u00E9"],
		[`fam\u00EDlia ${family} e bandeira ${flag}`, `fam\u00EDlia ${family} e bandeira ${flag}`],
	];
	const sent: ChatMessage[] = [];
	for (const [index, [typed, kept]] of cases.entries()) {
		const sender = senders[index % senders.length];
		assert.ok(sender);
		const { message } = await sender.request("sendChat", { text: typed });
		assert.equal(message.text, kept, JSON.stringify(typed));
		const heard = await dora.notification("chatMessage", (m) => m.id === message.id);
		assert.equal(heard.text, kept);
		sent.push(message);
	}
	assert.deepEqual(
		(await storedChat(room)).map((m) => m.text),
		sent.map((m) => m.text),
	);
	// The same function on the client gives the same text: nothing changes on the way.
	for (const [typed, kept] of cases) assert.equal(checkText(typed, "chat").text, kept);
	for (const peer of [...senders, dora]) peer.close();
});

test("a message that is empty once cleaned is refused, stores nothing, and the peer stays", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	for (const text of ["\u0000", "\u202E\u202C", " \u200B\u2066\u2069\n\t", "\u0007\u001B\u009B"]) {
		assert.match(
			await rejection(ana.request("sendChat", { text })),
			/^bad-request: the message is empty/,
			JSON.stringify(text),
		);
	}
	assert.deepEqual(await storedChat(room), []);
	// A terminal escape sequence loses its ESC and is shown as the plain text that is left.
	const { message } = await ana.request("sendChat", { text: "\u001B[2Jainda aqui" });
	assert.equal(message.text, "[2Jainda aqui");
	ana.close();
});

test("length is counted in code points after cleaning, as the client counts it", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const longest = "\u{1F600}".repeat(limits.chatMaxLength);
	// Stripped characters do not count: the limit is on what is kept.
	const { message } = await ana.request("sendChat", { text: `${longest}\u202E\u0000` });
	assert.equal(message.text, longest);
	assert.match(
		await rejection(ana.request("sendChat", { text: `${"a".repeat(limits.chatMaxLength)}b\u202E` })),
		/^bad-request: the message is longer than 2000 characters/,
	);
	assert.equal((await storedChat(room)).length, 1);
	ana.close();
});
