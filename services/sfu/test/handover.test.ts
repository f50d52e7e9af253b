/**
 * Host handover has no gaps: a room that opens while its host is away
 * starts the handover grace at once, and a handover is recorded in Redis
 * before anyone is told (bounded, so Redis being away does not stall it).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { redisKeys } from "@mindmeet/protocol";
import { connectPeer, createRoom, eventually, joinPeer, type Rig, startRig } from "./support.ts";

const graceMs = 500;

let rig: Rig;
before(async () => {
	rig = await startRig({ env: { HOST_HANDOVER_GRACE_SECONDS: String(graceMs / 1000) } });
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

test("a room that opens without its host hands the role to the longest-present peer after the grace", async () => {
	const room = await createRoom(rig);
	const hostId = rig.hosts.get(room);
	// The host never comes back (it left, the SFU restarted, …); guests reconnect and reopen the room.
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const caio = await joinPeer(rig, room, { name: "Caio" });
	assert.equal(bia.joined.self.role, "guest", "the host's grace runs first");
	const open = rig.sfu.rooms.rooms.get(room);
	assert.ok(open);
	assert.equal(open.hostPeerId, hostId);
	assert.ok(open.status().handoverPending);

	assert.deepEqual(await bia.notification("hostChanged"), { peerId: bia.peerId });
	assert.deepEqual(await caio.notification("hostChanged"), { peerId: bia.peerId });
	assert.equal(open.hostPeerId, bia.peerId);
	assert.equal(await rig.redis.get(redisKeys.roomHost(room)), bia.peerId);
	// The new host can act as one.
	assert.deepEqual(await bia.request("kickPeer", { peerId: caio.peerId }), {});
	bia.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room closes once empty");
});

test("a room opened by someone still in the pre-join screen: after the grace, the next to join becomes host", async () => {
	const room = await createRoom(rig);
	const bia = await connectPeer(rig, room, { name: "Bia" });
	// Longer than the grace; nobody has joined, so the handover waits for the first join.
	await new Promise((resolve) => setTimeout(resolve, graceMs * 3));
	const caps = await bia.request("getRouterRtpCapabilities", {});
	const joined = await bia.request("join", { rtpCapabilities: caps });
	assert.equal(joined.self.role, "host");
	assert.deepEqual(await bia.notification("hostChanged"), { peerId: bia.peerId });
	assert.equal(await rig.redis.get(redisKeys.roomHost(room)), bia.peerId);
	bia.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room closes once empty");
});

test("when hostChanged arrives, Redis already names the new host", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	// Read the host key the moment the notification lands, as a client opening the lobby socket would.
	const atNotice = new Promise<string | null>((resolve) => {
		bia.client.on("notification", (notification) => {
			if (notification.method === "hostChanged") resolve(rig.redis.get(redisKeys.roomHost(room)));
		});
	});
	await ana.request("leave", {});
	assert.equal(await atNotice, bia.peerId);
	bia.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room closes once empty");
});

test("with Redis down, a handover still reaches everyone", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	await rig.redisServer.stop();
	try {
		await ana.request("leave", {});
		assert.deepEqual(await bia.notification("hostChanged"), { peerId: bia.peerId });
		assert.equal(rig.sfu.rooms.rooms.get(room)?.hostPeerId, bia.peerId);
	} finally {
		await rig.redisServer.restart();
		await eventually(redisAnswers, "the Redis client reconnects", 400);
	}
	bia.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room closes once empty");
});
