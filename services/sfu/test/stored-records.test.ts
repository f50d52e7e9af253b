/**
 * What the SFU reads from Redis and cannot trust: the room record, chat
 * history entries and admin orders on its stream, each checked with its
 * protocol schema. Off-contract ones are skipped (or, for the room record,
 * replaced by defaults), never logged with their content, and the call goes
 * on; unknown extra fields from another version are tolerated but not passed
 * on to browsers or into the log. Real Redis, the real worker.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ChatMessage, redisKeys, type StoredRoom, sfuCommandKeys } from "@mindmeet/protocol";
import { createRoom, eventually, joinPeer, type Rig, startRig } from "./support.ts";

/** Stored alongside, in places a careless reader would log or forward; must never show up. */
const secret = "brigadeiro-secreto-42";

let rig: Rig;
before(async () => {
	rig = await startRig({ logs: true });
});
after(async () => {
	await rig.close();
});

const leaked = () => rig.logs.filter((line) => line.includes(secret));

async function storedRoom(room: string): Promise<StoredRoom> {
	return JSON.parse((await rig.redis.get(redisKeys.room(room))) ?? "null") as StoredRoom;
}

test("an unreadable room record: the room opens with defaults, the host comes from the host key, the call goes on", async () => {
	for (const [what, broken] of [
		["not JSON", `not json ${secret}`],
		["wrong shape", (room: StoredRoom) => JSON.stringify({ ...room, mode: "audio", sfuNode: 7, hostName: secret })],
		["an array", (room: StoredRoom) => JSON.stringify([room, secret])],
	] as const) {
		const room = await createRoom(rig, "audio");
		const value = typeof broken === "string" ? broken : broken(await storedRoom(room));
		await rig.redis.set(redisKeys.room(room), value, { KEEPTTL: true });
		const before = rig.logs.length;
		const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
		const bia = await joinPeer(rig, room, { name: "Bia" });
		assert.equal(ana.joined.mode, "video", `${what}: the default mode, not one read from a record that does not check`);
		assert.equal(ana.joined.self.role, "host", `${what}: the host key still names the host`);
		assert.equal(bia.joined.self.role, "guest", what);
		const { message } = await ana.request("sendChat", { text: "oi" });
		assert.equal((await bia.notification("chatMessage", (m) => m.id === message.id)).text, "oi", what);
		const logged = rig.logs.slice(before);
		assert.ok(
			logged.some((line) => line.includes("the stored room record is malformed; opening it with defaults")),
			what,
		);
		assert.equal(await rig.redis.get(redisKeys.room(room)), value, `${what}: the record is left as it was`);
		ana.close();
		bia.close();
	}
	assert.deepEqual(leaked(), []);
});

test("a room record with fields from another version opens as recorded, with no warning", async () => {
	const room = await createRoom(rig, "audio");
	await rig.redis.set(redisKeys.room(room), JSON.stringify({ ...(await storedRoom(room)), capacity: 12 }), {
		KEEPTTL: true,
	});
	const before = rig.logs.length;
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	assert.equal(ana.joined.mode, "audio");
	assert.ok(!rig.logs.slice(before).some((line) => line.includes("stored room record is malformed")));
	ana.close();
});

test("chat history: off-contract entries are skipped; extra fields are tolerated and not passed on", async () => {
	const room = await createRoom(rig);
	const good: ChatMessage = {
		id: "old-1",
		peerId: "someone",
		name: "Someone",
		text: "antes",
		sentAt: 1_700_000_000_000,
	};
	const newer: ChatMessage = { ...good, id: "old-2", text: "depois" };
	await rig.redis.rPush(redisKeys.roomChat(room), [
		JSON.stringify(good),
		JSON.stringify({ ...good, id: "", text: secret }),
		JSON.stringify({ ...good, id: "x", text: "" }),
		JSON.stringify({ ...good, id: "y", peerId: "", text: secret }),
		JSON.stringify({ ...good, id: "z", sentAt: null, text: secret }),
		JSON.stringify([good, secret]),
		JSON.stringify({ ...newer, reactions: [secret], replyTo: "old-1" }),
	]);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	assert.deepEqual(ana.joined.chat, [good, newer], "only the known fields of the readable entries");
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const { message } = await bia.request("sendChat", { text: "ainda aqui" });
	await ana.notification("chatMessage", (m) => m.id === message.id);
	assert.ok(rig.logs.some((line) => line.includes("skipped malformed chat history entries")));
	assert.deepEqual(leaked(), []);
	ana.close();
	bia.close();
});

test("orders: off-contract ones are skipped unlogged; one with extra fields is carried out, logged without them", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const stream = sfuCommandKeys.stream(rig.sfu.nodeId);
	const order = (id: string, command: string) => rig.redis.xAdd(stream, "*", { id, command, at: String(Date.now()) });
	for (const [i, command] of [
		`not json ${secret}`,
		JSON.stringify({ type: "kick", roomId: room, peerId: "", note: secret }),
		JSON.stringify({ type: "kick", roomId: room, peerId: ["p"], note: secret }),
		JSON.stringify({ type: "close-room", roomId: "", note: secret }),
		JSON.stringify({ type: "close-room", roomId: "r".repeat(65) }),
		JSON.stringify([{ type: "close-room", roomId: room }]),
	].entries()) {
		await order(`bad-${i}`, command);
	}
	await order("kick-bia", JSON.stringify({ type: "kick", roomId: room, peerId: bia.peerId, note: secret }));
	await bia.notification("kicked");
	await eventually(
		async () => (await rig.redis.get(sfuCommandKeys.outcome("kick-bia"))) === "kicked",
		"the kick's outcome",
	);
	for (let i = 0; i < 6; i++) assert.equal(await rig.redis.get(sfuCommandKeys.outcome(`bad-${i}`)), null);
	assert.ok(rig.logs.some((line) => line.includes("peer kicked by an operator") && line.includes(bia.peerId)));
	assert.ok(rig.logs.some((line) => line.includes("ignoring a malformed command")));
	assert.deepEqual(leaked(), [], "neither the skipped orders nor the extra field are logged");
	// The room goes on.
	assert.ok(rig.sfu.rooms.rooms.get(room)?.peers.has(ana.peerId));
	const caps = await ana.request("getRouterRtpCapabilities", {});
	assert.ok(caps.codecs);
	ana.close();
});
