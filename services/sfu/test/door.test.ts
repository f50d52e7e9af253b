/**
 * Refused is not unavailable. Only decisions about a token and a room are
 * `refused` (final: the client drops its credentials); when the node cannot
 * decide (Redis away, no worker) the WebSocket upgrade gets HTTP 503 and
 * the client keeps its credentials and retries. Revocations are also kept
 * in the open room's memory, so a kicked peer stays out without Redis.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { redisKeys } from "@mindmeet/protocol";
import { upgradeStatus } from "@mindmeet/testing/signaling-peer";
import {
	connectPeer,
	createRoom,
	eventually,
	joinPeer,
	mint,
	type Rig,
	refusalOf,
	signalingUrl,
	startRig,
	TestPeer,
} from "./support.ts";

let rig: Rig;
before(async () => {
	rig = await startRig();
});
after(async () => {
	await rig.close();
});

async function redisBack(): Promise<void> {
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

/** Every key the test Redis holds, with its value, so a restart can bring them back as persistence would. */
async function snapshot(): Promise<Map<string, string>> {
	const values = new Map<string, string>();
	for (const key of await rig.redis.keys("mm:*")) {
		if ((await rig.redis.type(key)) === "string") values.set(key, (await rig.redis.get(key)) ?? "");
	}
	return values;
}

test("Redis unreachable and the room not open here: the upgrade gets 503, no refusal; once Redis is back the same token is accepted", async () => {
	const room = await createRoom(rig);
	const { token } = await mint(rig, room, { name: "Ana", role: "host" });
	const url = signalingUrl(rig, { token, roomId: room });
	const kept = await snapshot();
	await rig.redisServer.stop();
	try {
		assert.equal(await upgradeStatus(url), 503);
		// A protoo client sees its socket fail: no `refused`, nothing that says "give up".
		const peer = new TestPeer(url);
		await peer.closedEvent();
		assert.deepEqual(peer.notifications, []);
		assert.ok(!rig.sfu.rooms.rooms.has(room), "nothing was opened");
	} finally {
		await rig.redisServer.restart();
		await redisBack();
	}
	// As if Redis had kept its data (an append-only file): the room and the signing key are back.
	for (const [key, value] of kept) await rig.redis.set(key, value);
	assert.equal(await upgradeStatus(url), 101);
	const peer = new TestPeer(url);
	await peer.opened();
	const caps = await peer.request("getRouterRtpCapabilities", {});
	assert.ok(caps.codecs);
	peer.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room closes once empty");
});

test("decisions stay refusals: bad token and unknown room are refused (not 503) with Redis up", async () => {
	const room = await createRoom(rig);
	assert.equal(await refusalOf(signalingUrl(rig, { token: "garbage", roomId: room })), "token-invalid");
	const { token } = await mint(rig, "no-such-room");
	assert.equal(await refusalOf(signalingUrl(rig, { token, roomId: "no-such-room" })), "room-not-found");
	assert.equal(
		await upgradeStatus(signalingUrl(rig, { roomId: room })),
		101,
		"refusals are told over an accepted socket",
	);
});

test("a kicked peer is refused from the room's memory when Redis lost the revocation, and while Redis is down", async () => {
	const room = await createRoom(rig);
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const { token, peerId } = await mint(rig, room, { name: "Bia" });
	const bia = await joinPeer(rig, room, { name: "Bia", peerId });
	const url = signalingUrl(rig, { token, roomId: room });
	// Bia's token was verified once, so the node knows it without the signing key.
	await host.request("kickPeer", { peerId });
	await bia.closedEvent();

	await rig.redis.del(redisKeys.roomRevoked(room));
	assert.equal(await refusalOf(url), "token-revoked", "memory remembers what Redis forgot");

	await rig.redisServer.stop();
	try {
		assert.equal(await refusalOf(url), "token-revoked", "and needs no Redis to say so");
		// Someone else with a valid token still gets in: the room is open here.
		const caio = await connectPeer(rig, room, { name: "Caio" });
		assert.ok(!caio.closed);
		caio.close();
	} finally {
		await rig.redisServer.restart();
		await redisBack();
	}
	host.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room closes once empty");
});
