import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { redisKeys, roomScopedKeys } from "@mindmeet/protocol";
import { createRoom, eventually, joinPeer, mint, type Rig, refusalOf, signalingUrl, startRig } from "./support.ts";

const occupiedMs = 120_000; // ROOM_OCCUPIED_TTL_SECONDS default
const graceMs = 1_000;

let rig: Rig;
before(async () => {
	// A short handover grace, but long enough to look at the room before it ends.
	rig = await startRig({ env: { HOST_HANDOVER_GRACE_SECONDS: "1", ROOM_GRACE_SECONDS: String(graceMs / 1000) } });
});
after(async () => {
	await rig.close();
});

/** Give the room every kind of room-scoped key, as the API and chat would, with the API's creation TTL. */
async function fillRoom(room: string): Promise<void> {
	await rig.redis.sAdd(redisKeys.roomRevoked(room), "someone-kicked-earlier");
	await rig.redis.zAdd(redisKeys.roomKnocks(room), { score: Date.now(), value: "knock-1" });
	await rig.redis.rPush(redisKeys.roomChat(room), JSON.stringify({ text: "oi" }));
	for (const key of roomScopedKeys(room)) await rig.redis.expire(key, 600);
}

async function ttls(room: string): Promise<number[]> {
	return Promise.all(roomScopedKeys(room).map((key) => rig.redis.pTTL(key)));
}

test("a host whose socket dropped hands over only once the grace period has passed", async () => {
	const room = await createRoom(rig);
	const hostId = rig.hosts.get(room);
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const caio = await joinPeer(rig, room, { name: "Caio" });
	host.close();
	await bia.notification("peerLeft", (d) => d.peerId === hostId);
	const open = rig.sfu.rooms.rooms.get(room);
	assert.ok(open);
	// The host left without saying so: the role waits for it.
	assert.equal(open.hostPeerId, hostId);
	assert.ok(open.status().handoverPending);
	assert.equal(await rig.redis.get(redisKeys.roomHost(room)), hostId);

	assert.deepEqual(await bia.notification("hostChanged"), { peerId: bia.peerId });
	assert.deepEqual(await caio.notification("hostChanged"), { peerId: bia.peerId });
	assert.equal(open.hostPeerId, bia.peerId);
	assert.equal(await rig.redis.get(redisKeys.roomHost(room)), bia.peerId);
	bia.close();
	caio.close();
});

test("a room's keys live while it is occupied, then for the grace period, then the room is gone", async () => {
	const room = await createRoom(rig);
	await fillRoom(room);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	// Presence exists from the join on; every key now has the occupied TTL.
	await eventually(async () => {
		const all = await ttls(room);
		return all.every((ttl) => ttl > occupiedMs - 30_000 && ttl <= occupiedMs);
	}, "the first connection sets the occupied TTL on every room key");

	// The heartbeat (every 5 s) keeps pushing the TTL up while someone is in.
	for (const key of roomScopedKeys(room)) await rig.redis.pExpire(key, 20_000);
	await eventually(
		async () => (await ttls(room)).every((ttl) => ttl > occupiedMs - 30_000),
		"a heartbeat refreshes the TTL",
		400,
	);

	ana.close();
	await eventually(async () => {
		const all = await ttls(room);
		// -2: the presence hash emptied when the last peer left, so it no longer exists.
		return all.every((ttl) => ttl === -2 || (ttl > 0 && ttl <= graceMs));
	}, "the last departure starts the grace period");

	await eventually(async () => (await rig.redis.exists(roomScopedKeys(room))) === 0, "every room key expires");
	const { token } = await mint(rig, room, { name: "Late" });
	assert.equal(await refusalOf(signalingUrl(rig, { token, roomId: room })), "room-not-found");
});

test("a room left empty can be re-entered during the grace period and is occupied again", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	ana.close();
	await eventually(async () => {
		const ttl = await rig.redis.pTTL(redisKeys.room(room));
		return ttl > 0 && ttl <= graceMs;
	}, "grace period");
	const back = await joinPeer(rig, room, { name: "Ana", role: "host" });
	assert.equal(back.joined.self.role, "host", "the host is still the host after reopening");
	await eventually(async () => (await rig.redis.pTTL(redisKeys.room(room))) > occupiedMs - 30_000, "occupied again");
	back.close();
});
