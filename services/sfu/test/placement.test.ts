/**
 * One room, one node (placement/room-placement.ts): the room's Redis record
 * names the node it is placed on, and this node serves a room only while the
 * record names it. A connection for a room placed elsewhere is "unavailable"
 * (HTTP 503: the client retries through the API, which sends it to the
 * room's node), never a second copy of the room here. A room open here whose
 * record moved (this node's heartbeat went stale and the API placed it on
 * another node) is given up on the next heartbeat: its people are dropped as
 * in a crash, so they reconnect where the room is, and the other node's keys
 * are left alone.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { redisKeys, type StoredRoom } from "@mindmeet/protocol";
import { upgradeStatus } from "@mindmeet/testing/signaling-peer";
import { recordedNode } from "../src/placement/room-placement.ts";
import { createRoom, eventually, joinPeer, mint, type Rig, signalingUrl, startRig } from "./support.ts";

let rig: Rig;
before(async () => {
	rig = await startRig({ env: { SFU_HEARTBEAT_SECONDS: "0.2", ROOM_GRACE_SECONDS: "30" } });
});
after(async () => {
	await rig.close();
});

/** Rewrite the room's record to name `node`, keeping its TTL, as the API's compare-and-set does. */
async function placeOn(room: string, node: string): Promise<string> {
	const stored = JSON.parse((await rig.redis.get(redisKeys.room(room))) ?? "{}") as StoredRoom;
	const json = JSON.stringify({ ...stored, sfuNode: node });
	await rig.redis.set(redisKeys.room(room), json, { KEEPTTL: true });
	return json;
}

/** A bare WebSocket speaking protoo, to see the close code and every method a protoo client hides. */
async function rawPeer(url: string) {
	const socket = new WebSocket(url, "protoo");
	const methods: string[] = [];
	const closed = new Promise<number>((resolve) => socket.addEventListener("close", (event) => resolve(event.code)));
	socket.addEventListener("message", (event) => {
		const message = JSON.parse(String(event.data)) as { method?: string; request?: boolean; id?: number };
		if (message.method) methods.push(message.method);
		if (message.request) socket.send(JSON.stringify({ response: true, id: message.id, ok: true, data: {} }));
	});
	await new Promise<void>((resolve, reject) => {
		socket.addEventListener("open", () => resolve(), { once: true });
		socket.addEventListener("error", () => reject(new Error("did not open")), { once: true });
	});
	return { socket, methods, closed };
}

test("a room whose record names another node: the upgrade gets 503 and nothing opens here; named here again, the same token joins", async () => {
	const room = await createRoom(rig);
	await placeOn(room, "another-node");
	const { token } = await mint(rig, room, { name: "Ana", role: "host" });
	const url = signalingUrl(rig, { token, roomId: room });
	assert.equal(await upgradeStatus(url), 503, "unavailable, not a refusal: the client keeps its token and retries");
	assert.equal(rig.sfu.rooms.rooms.has(room), false, "no copy of the room was opened here");
	assert.equal(recordedNode(await rig.redis.get(redisKeys.room(room))), "another-node", "the record is untouched");

	await placeOn(room, rig.sfu.nodeId);
	assert.equal(await upgradeStatus(url), 101);
});

test("a room open here whose record moved to another node: its people are dropped as unavailable, the room closes here, the other node's keys are left alone", async () => {
	const room = await createRoom(rig);
	const host = await mint(rig, room, { name: "Ana", role: "host" });
	const guest = await mint(rig, room, { name: "Bia" });
	const peers = [];
	for (const { token } of [host, guest]) {
		const peer = await rawPeer(signalingUrl(rig, { token, roomId: room }));
		peers.push(peer);
	}
	// Both in the call (protoo clients this time, so the join completes).
	const carla = await joinPeer(rig, room, { name: "Carla" });
	await eventually(async () => (await rig.redis.hLen(redisKeys.roomPeers(room))) === 1, "Carla's presence is written");

	const moved = await placeOn(room, "another-node");
	const ttlBefore = await rig.redis.pTTL(redisKeys.room(room));
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room is given up here", 400);
	for (const peer of peers) {
		const code = await peer.closed;
		assert.notEqual(code, 4000, "not protoo's final 'closed by the server'");
		for (const final of ["refused", "roomClosed", "kicked"]) {
			assert.ok(!peer.methods.includes(final), `no ${final}: ${peer.methods.join(",")}`);
		}
	}
	await carla.closedEvent();
	assert.equal(
		carla.notifications.some((n) => ["refused", "roomClosed", "kicked", "peerLeft"].includes(n.method)),
		false,
		"Carla was told nothing final either, and nobody 'left'",
	);
	// The keys are the other node's now: record as it wrote it, no grace period, presence left for it to manage.
	assert.equal(await rig.redis.get(redisKeys.room(room)), moved);
	assert.ok((await rig.redis.pTTL(redisKeys.room(room))) > 30_000, `no grace TTL (was ${ttlBefore} ms)`);
	assert.equal(await rig.redis.hLen(redisKeys.roomPeers(room)), 1, "presence not removed by the old node");
	// And it stays out: a reconnect to this node is turned away.
	assert.equal(await upgradeStatus(signalingUrl(rig, { token: guest.token, roomId: room })), 503);
	assert.equal(rig.sfu.rooms.rooms.has(room), false);
});

test("a record this node cannot read is not a verdict: no record means the open decides, malformed JSON is not 'elsewhere'", () => {
	assert.equal(recordedNode(null), undefined);
	assert.equal(recordedNode("{not json"), undefined);
	assert.equal(recordedNode(JSON.stringify({ sfuNode: 7 })), undefined);
	assert.equal(recordedNode(JSON.stringify({ sfuNode: "" })), undefined);
	assert.equal(recordedNode(JSON.stringify({ sfuNode: "b" })), undefined, "not a whole room record");
	const room = { id: "room000001", mode: "video", hostName: "Ana", createdAt: Date.now(), sfuNode: "b" };
	assert.equal(recordedNode(JSON.stringify(room)), "b");
});
