/**
 * A Redis restart loses nothing that matters: the node holding a room keeps
 * its record, host, revocations, chat and presence in memory and writes them
 * back within a heartbeat or two when Redis comes back empty.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
	type ChatMessage,
	type RoomPresence,
	redisKeys,
	roomScopedKeys,
	type StoredRoom,
	sfuCommandKeys,
} from "@mindmeet/protocol";
import { createRoom, eventually, joinPeer, mint, type Rig, refusalOf, signalingUrl, startRig } from "./support.ts";

let rig: Rig;
before(async () => {
	// Heartbeats every 200 ms, so "within a few heartbeats" is quick.
	rig = await startRig({ env: { SFU_HEARTBEAT_SECONDS: "0.2" } });
});
after(async () => {
	await rig.close();
});

async function redisAnswers(): Promise<boolean> {
	try {
		return (await rig.redis.ping()) === "PONG";
	} catch {
		return false;
	}
}

test("SHUTDOWN NOSAVE mid-call: the keys come back, the call stays up, a kicked peer stays out", async () => {
	const room = await createRoom(rig, "audio");
	const recordBefore = JSON.parse((await rig.redis.get(redisKeys.room(room))) ?? "{}") as StoredRoom;
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const { token: caioToken, peerId: caioId } = await mint(rig, room, { name: "Caio" });
	const caio = await joinPeer(rig, room, { name: "Caio", peerId: caioId });
	await host.request("kickPeer", { peerId: caioId });
	await caio.closedEvent();
	const sent: ChatMessage[] = [];
	for (const text of ["bom dia", "tudo certo? 😀"]) sent.push((await bia.request("sendChat", { text })).message);
	const caioUrl = signalingUrl(rig, { token: caioToken, roomId: room });
	assert.equal(await refusalOf(caioUrl), "token-revoked");

	await rig.redis.sendCommand(["SHUTDOWN", "NOSAVE"]).catch(() => {});
	await eventually(async () => !(await redisAnswers()), "Redis is down");
	assert.equal(await refusalOf(caioUrl), "token-revoked", "refused while Redis is down");
	await rig.redisServer.restart();
	await eventually(redisAnswers, "the Redis client reconnects", 400);
	assert.equal(await refusalOf(caioUrl), "token-revoked", "refused right after Redis came back");

	await eventually(
		async () =>
			(await rig.redis.exists(redisKeys.room(room))) === 1 && (await rig.redis.exists(redisKeys.roomChat(room))) === 1,
		"the node writes the room back",
		400,
	);
	const record = JSON.parse((await rig.redis.get(redisKeys.room(room))) ?? "{}") as StoredRoom;
	assert.deepEqual(record, recordBefore, "the record as it was: mode, first host, node");
	assert.equal(record.mode, "audio");
	assert.equal(await rig.redis.get(redisKeys.roomHost(room)), host.peerId);
	assert.equal(await rig.redis.sIsMember(redisKeys.roomRevoked(room), caioId), 1);
	assert.equal(await rig.redis.sIsMember(redisKeys.rooms, room), 1);
	const chat = (await rig.redis.lRange(redisKeys.roomChat(room), 0, -1)).map((e) => JSON.parse(e) as ChatMessage);
	assert.deepEqual(chat, sent);
	const presence = Object.values(await rig.redis.hGetAll(redisKeys.roomPeers(room))).map(
		(json) => JSON.parse(json) as RoomPresence,
	);
	assert.deepEqual(presence.map((p) => [p.name, p.role]).sort(), [
		["Ana", "host"],
		["Bia", "guest"],
	]);
	for (const key of [
		redisKeys.room(room),
		redisKeys.roomHost(room),
		redisKeys.roomChat(room),
		redisKeys.roomPeers(room),
	]) {
		const ttl = await rig.redis.pTTL(key);
		assert.ok(ttl > 0, `${key} has a TTL (${ttl})`);
	}

	assert.ok(!host.closed && !bia.closed, "the call's connections stayed up");
	const { message } = await host.request("sendChat", { text: "voltou" });
	await bia.notification("chatMessage", (m) => m.id === message.id);
	assert.equal(await refusalOf(caioUrl), "token-revoked");
	host.close();
	bia.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room closes once empty");
});

test("a room an operator ended is not written back by later heartbeats", async () => {
	const room = await createRoom(rig);
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	// What the API's admin close does: delete the keys, then tell the node.
	await rig.redis.del([...roomScopedKeys(room)]);
	await rig.redis.sRem(redisKeys.rooms, room);
	// Queued on the node's stream, the order waits for the node even if it is still reconnecting after the restart above.
	const order = JSON.stringify({ type: "close-room", roomId: room });
	await rig.redis.xAdd(sfuCommandKeys.stream(rig.sfu.nodeId), "*", {
		id: "close-1",
		command: order,
		at: String(Date.now()),
	});
	await host.notification("roomClosed");
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room is forgotten");
	// Several heartbeats later, still gone.
	await new Promise((resolve) => setTimeout(resolve, 1000));
	for (const key of roomScopedKeys(room)) assert.equal(await rig.redis.exists(key), 0, `${key} stays deleted`);
	assert.equal(await rig.redis.sIsMember(redisKeys.rooms, room), 0);
});
