import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ChatMessage, limits, redisKeys } from "@mindmeet/protocol";
import {
	connectPeer,
	createRoom,
	eventually,
	failure,
	joinPeer,
	mint,
	type Rig,
	rejection,
	signalingUrl,
	startRig,
	TestPeer,
} from "./support.ts";

const occupiedMs = 120_000; // ROOM_OCCUPIED_TTL_SECONDS default
const graceMs = 1_000;
/** Sent in several tests; must never show up in a log line. */
const secret = "pão-de-queijo-secreto";

let rig: Rig;
before(async () => {
	rig = await startRig({ logs: true, env: { ROOM_GRACE_SECONDS: String(graceMs / 1000) } });
});
after(async () => {
	await rig.close();
});

function chatNotes(peer: TestPeer): ChatMessage[] {
	return peer.notifications.filter((n) => n.method === "chatMessage").map((n) => n.data as ChatMessage);
}

async function storedChat(room: string): Promise<unknown[]> {
	return (await rig.redis.lRange(redisKeys.roomChat(room), 0, -1)).map((json) => JSON.parse(json));
}

/** A well-formed history entry, as if sent earlier. */
function entry(n: number): ChatMessage {
	return { id: `old-${n}`, peerId: "someone", name: "Someone", text: `message ${n}`, sentAt: 1_700_000_000_000 + n };
}

test("two peers chat: both get the message, stamped with the sender's token name and the server's time", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const before = Date.now();
	const { message } = await ana.request("sendChat", { text: `  oi, ${secret}!  ` });
	assert.equal(message.text, `oi, ${secret}!`, "trimmed, otherwise as sent");
	assert.equal(message.name, "Ana");
	assert.equal(message.peerId, ana.peerId);
	assert.ok(message.sentAt >= before && message.sentAt <= Date.now());
	assert.match(message.id, /^[0-9a-f-]{36}$/);
	assert.deepEqual(await bia.notification("chatMessage"), message);
	assert.deepEqual(await ana.notification("chatMessage"), message, "the sender hears its own message too");

	// The name is the server's to say.
	assert.match(
		await rejection(bia.rawRequest("sendChat", { text: "sou a Ana", name: "Ana", peerId: ana.peerId })),
		/^bad-request/,
	);
	const reply = await bia.request("sendChat", { text: "oi!" });
	assert.equal(reply.message.name, "Bia");
	await ana.notification("chatMessage", (m) => m.id === reply.message.id);
	assert.deepEqual(await storedChat(room), [message, reply.message]);
	ana.close();
	bia.close();
});

test("a late joiner gets the history in order, and so does a peer reconnecting with the same id", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const { token: biaToken, peerId: biaId } = await mint(rig, room, { name: "Bia" });
	const bia = await joinPeer(rig, room, { name: "Bia", peerId: biaId });
	assert.deepEqual(ana.joined.chat, []);
	const sent: ChatMessage[] = [];
	for (const [peer, text] of [
		[ana, "primeira"],
		[bia, "segunda"],
		[ana, "terceira"],
	] as const) {
		sent.push((await peer.request("sendChat", { text })).message);
	}

	const caio = await joinPeer(rig, room, { name: "Caio" });
	assert.deepEqual(caio.joined.chat, sent);
	assert.deepEqual(chatNotes(caio), [], "history comes in the response, not again as notifications");

	// A reload: the same peer id on a new connection replaces the old one and sees the same history.
	const reloaded = new TestPeer(signalingUrl(rig, { token: biaToken, roomId: room }));
	await reloaded.opened();
	await bia.closedEvent();
	// The others are told why, so they can wait for the comeback instead of announcing a departure.
	assert.equal((await ana.notification("peerLeft", (d) => d.peerId === biaId)).reason, "replaced");
	const caps = await reloaded.request("getRouterRtpCapabilities", {});
	const rejoined = await reloaded.request("join", { rtpCapabilities: caps });
	assert.deepEqual(rejoined.chat, sent);
	for (const peer of [ana, caio, reloaded]) peer.close();
});

test("a peer alone in the room can reconnect with the same id and finds the room and its history", async () => {
	const room = await createRoom(rig);
	const { token, peerId } = await mint(rig, room, { name: "Ana", role: "host" });
	const ana = await joinPeer(rig, room, { name: "Ana", peerId });
	const { message } = await ana.request("sendChat", { text: "alguém aí?" });
	const open = rig.sfu.rooms.rooms.get(room);

	const reloaded = new TestPeer(signalingUrl(rig, { token, roomId: room }));
	await reloaded.opened();
	await ana.closedEvent();
	assert.equal(rig.sfu.rooms.rooms.get(room), open, "the room did not close in between");
	const caps = await reloaded.request("getRouterRtpCapabilities", {});
	const joined = await reloaded.request("join", { rtpCapabilities: caps });
	assert.deepEqual(joined.chat, [message]);
	assert.equal(joined.self.role, "host");
	reloaded.close();
});

test("text rules: trimmed, 1 to 2000 characters counted as code points, stored verbatim", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });

	for (const text of [" ", "     ", "\n\t  \n"]) {
		const error = await failure(ana.request("sendChat", { text }));
		assert.equal(error.code, 400);
		assert.match(error.message, /^bad-request: the message is empty/);
	}
	assert.match(await rejection(ana.request("sendChat", { text: "a".repeat(2001) })), /^bad-request: .*2000 characters/);
	assert.match(
		await rejection(ana.request("sendChat", { text: "😀".repeat(2001) })),
		/^bad-request: .*2000 characters/,
	);
	assert.match(await rejection(ana.request("sendChat", { text: "a".repeat(4001) })), /^bad-request/);
	assert.match(await rejection(ana.rawRequest("sendChat", { text: 42 })), /^bad-request/);
	assert.match(await rejection(ana.rawRequest("sendChat", {})), /^bad-request/);
	// Padding does not count once trimmed.
	const padded = await ana.request("sendChat", { text: ` ${"a".repeat(2000)} ` });
	assert.equal(padded.message.text.length, 2000);
	const emoji = await ana.request("sendChat", { text: "😀".repeat(2000) });
	assert.equal(emoji.message.text, "😀".repeat(2000), "2000 emoji are 2000 characters (4000 UTF-16 units)");

	const html = `<script>alert("x")</script> <b>negrito</b> &amp; 'aspas' "duplas"`;
	const { message } = await bia.request("sendChat", { text: html });
	assert.equal(message.text, html);
	assert.equal((await ana.notification("chatMessage", (m) => m.id === message.id)).text, html);
	const stored = (await storedChat(room)) as ChatMessage[];
	assert.deepEqual(
		stored.map((m) => m.id),
		[padded.message.id, emoji.message.id, message.id],
		"refused messages were never stored",
	);
	assert.equal(stored[2]?.text, html);
	ana.close();
	bia.close();
});

test("a peer that has not joined cannot chat and hears nothing", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const lurker = await connectPeer(rig, room, { name: "Espião" });
	const error = await failure(lurker.request("sendChat", { text: "oi" }));
	assert.equal(error.code, 403);
	assert.match(error.message, /^not-joined/);
	const { message } = await ana.request("sendChat", { text: "só para quem entrou" });
	await ana.notification("chatMessage", (m) => m.id === message.id);
	// Requests are answered in order: once this one is, the chat message would have come before it.
	await lurker.request("getRouterRtpCapabilities", {});
	assert.deepEqual(chatNotes(lurker), []);
	assert.deepEqual(
		((await storedChat(room)) as ChatMessage[]).map((m) => m.id),
		[message.id],
	);
	ana.close();
	lurker.close();
});

test("a burst above the per-second limit is refused with rate-limited; other peers are unaffected", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	// Large enough that even a slow machine cannot spread it thin enough to pass.
	const burst = limits.chatPerSecond * 3 + 1;
	const results = await Promise.allSettled(
		Array.from({ length: burst }, (_, i) => ana.request("sendChat", { text: `rajada ${i}` })),
	);
	const accepted = results.filter((r) => r.status === "fulfilled");
	const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason as Error & { code: number }] : []));
	assert.ok(accepted.length >= 1 && accepted.length <= limits.chatPerSecond, `accepted ${accepted.length}`);
	assert.ok(refused.length >= 1);
	for (const error of refused) {
		assert.equal(error.code, 429);
		assert.match(error.message, /^rate-limited/);
	}

	// Bia is not limited by Ana's burst, and only what was accepted was broadcast.
	const { message } = await bia.request("sendChat", { text: "calma, Ana" });
	await bia.notification("chatMessage", (m) => m.id === message.id);
	assert.equal(chatNotes(bia).filter((m) => m.peerId === ana.peerId).length, accepted.length);
	assert.equal((await storedChat(room)).length, accepted.length + 1);

	// The window slides: Ana gets through again once it has passed.
	await eventually(
		async () => {
			try {
				await ana.request("sendChat", { text: "de novo" });
				return true;
			} catch (error) {
				assert.match((error as Error).message, /^rate-limited/);
				return false;
			}
		},
		"the limit lifts after a second",
		100,
	);
	ana.close();
	bia.close();
});

test("history is bounded to the newest chatHistoryMax messages", async () => {
	const room = await createRoom(rig);
	const key = redisKeys.roomChat(room);
	// Fill the history as if the room had been chatting for a while.
	await rig.redis.rPush(
		key,
		Array.from({ length: limits.chatHistoryMax }, (_, i) => JSON.stringify(entry(i))),
	);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	// The join carries the newest page; the rest is paged (see chat-pages.test.ts).
	assert.equal(ana.joined.chat.length, limits.chatHistoryPageMax);
	assert.equal(ana.joined.chat.at(-1)?.id, `old-${limits.chatHistoryMax - 1}`);
	assert.equal(ana.joined.chatMore, true);
	const { message } = await ana.request("sendChat", { text: "a mais nova" });
	assert.equal(await rig.redis.lLen(key), limits.chatHistoryMax);
	const stored = (await storedChat(room)) as ChatMessage[];
	assert.equal(stored[0]?.id, "old-1", "the oldest dropped off");
	assert.deepEqual(stored.at(-1), message);

	const bia = await joinPeer(rig, room, { name: "Bia" });
	assert.equal(bia.joined.chat.length, limits.chatHistoryPageMax);
	assert.deepEqual(bia.joined.chat.at(-1), message);
	// Paging back ends at the oldest kept message: old-0 dropped off.
	let oldest = bia.joined.chat[0]?.id ?? "";
	for (let more = bia.joined.chatMore; more; ) {
		const page = await bia.request("chatHistory", { before: oldest });
		oldest = page.messages[0]?.id ?? "";
		more = page.more;
	}
	assert.equal(oldest, "old-1");
	ana.close();
	bia.close();
});

test("malformed history entries are skipped, and not logged", async () => {
	const room = await createRoom(rig);
	const good = entry(1);
	await rig.redis.rPush(redisKeys.roomChat(room), [
		`not json ${secret}`,
		"null",
		"42",
		JSON.stringify({ text: `sem remetente ${secret}` }),
		JSON.stringify(good),
		JSON.stringify({ ...entry(2), sentAt: "ontem" }),
		JSON.stringify({ ...entry(3), name: null }),
	]);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	assert.deepEqual(ana.joined.chat, [good]);
	assert.ok(rig.logs.some((line) => line.includes("skipped malformed chat history entries")));
	ana.close();
});

test("someone joining while others chat gets every message exactly once: in the history or after it", async () => {
	const room = await createRoom(rig);
	const senders = [
		await joinPeer(rig, room, { name: "Ana", role: "host" }),
		await joinPeer(rig, room, { name: "Bia" }),
		await joinPeer(rig, room, { name: "Caio" }),
	];
	const sent: string[] = [];
	const joiners: { peer: TestPeer; chat: ChatMessage[] }[] = [];
	for (let round = 0; round < 3; round++) {
		const joiner = await connectPeer(rig, room, { name: `Novo ${round}` });
		const caps = await joiner.request("getRouterRtpCapabilities", {});
		// Join and chat at the same time.
		const [joined, ...messages] = await Promise.all([
			joiner.request("join", { rtpCapabilities: caps }),
			...senders.map((peer, i) => peer.request("sendChat", { text: `rodada ${round}, ${i}` })),
		]);
		for (const reply of messages) sent.push(reply.message.id);
		joiners.push({ peer: joiner, chat: joined.chat });
	}
	// A last message after everything (from someone with chat budget left):
	// once a joiner has it, it has everything sent before.
	const quiet = joiners[0]?.peer;
	assert.ok(quiet);
	const { message: last } = await quiet.request("sendChat", { text: "fim" });
	for (const [index, { peer, chat }] of joiners.entries()) {
		await peer.notification("chatMessage", (m) => m.id === last.id);
		const seen = [...chat, ...chatNotes(peer)].map((m) => m.id);
		assert.equal(new Set(seen).size, seen.length, `joiner ${index} got a message twice`);
		// Earlier rounds come in the history, its own round in one or the other, later ones after.
		for (const id of sent) assert.ok(seen.includes(id), `joiner ${index} missed ${id}`);
	}
	for (const peer of [...senders, ...joiners.map((joiner) => joiner.peer)]) peer.close();
});

test("the history lives as long as the room, then expires with it", async () => {
	const room = await createRoom(rig);
	const key = redisKeys.roomChat(room);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	await ana.request("sendChat", { text: "efêmera" });
	const ttl = await rig.redis.pTTL(key);
	assert.ok(ttl > occupiedMs - 30_000 && ttl <= occupiedMs, `a new history gets the occupied TTL (${ttl})`);
	ana.close();
	await eventually(async () => {
		const left = await rig.redis.pTTL(key);
		return left > 0 && left <= graceMs;
	}, "the last departure starts the grace period for the history too");
	await eventually(async () => (await rig.redis.exists(key)) === 0, "the history expires with the room");
});

// Stops Redis: keep it last in this file.
test("with Redis down, messages are still delivered and answered, and a join gets the history the node holds", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	await ana.request("sendChat", { text: "antes da queda" });
	const caio = await connectPeer(rig, room, { name: "Caio" });
	const caps = await caio.request("getRouterRtpCapabilities", {});
	await rig.redisServer.stop();
	try {
		const { message } = await ana.request("sendChat", { text: `sem Redis, ${secret}` });
		assert.equal(message.name, "Ana");
		await bia.notification("chatMessage", (m) => m.id === message.id);
		const joined = await caio.request("join", { rtpCapabilities: caps });
		// The open room keeps its history in memory: Redis is only its copy.
		assert.deepEqual(
			joined.chat.map((m) => m.text),
			["antes da queda", `sem Redis, ${secret}`],
		);
		const { message: next } = await bia.request("sendChat", { text: "ainda funciona" });
		await caio.notification("chatMessage", (m) => m.id === next.id);
		assert.ok(rig.logs.some((line) => line.includes("could not store a chat message")));
	} finally {
		await rig.redisServer.restart();
		// Wait for the client to be back: closing the rig while it reconnects would hang.
		await eventually(
			async () => {
				try {
					return (await rig.redis.ping()) === "PONG";
				} catch {
					return false;
				}
			},
			"the Redis client reconnects",
			400,
		);
	}
	for (const line of rig.logs) assert.ok(!line.includes(secret), `a log line carries chat text: ${line}`);
	for (const peer of [ana, bia, caio]) peer.close();
});
