import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type RoomPresence, redisChannels, redisKeys } from "@mindmeet/protocol";
import {
	connectPeer,
	createRoom,
	eventually,
	joinPeer,
	mint,
	opusParameters,
	type Rig,
	refusalOf,
	rejection,
	signalingUrl,
	startRig,
} from "./support.ts";

let rig: Rig;
before(async () => {
	rig = await startRig();
});
after(async () => {
	await rig.close();
});

async function presence(room: string): Promise<Record<string, RoomPresence>> {
	const hash = await rig.redis.hGetAll(redisKeys.roomPeers(room));
	return Object.fromEntries(Object.entries(hash).map(([id, json]) => [id, JSON.parse(json) as RoomPresence]));
}

/** Publish an order the way the API does. */
function command(message: unknown): Promise<number> {
	return rig.redis.publish(redisChannels.sfuNode(rig.sfu.nodeId), JSON.stringify(message));
}

test("the host kicks a guest: it is told, disconnected, revoked; a fresh peer id may come in", async () => {
	const room = await createRoom(rig);
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const { token: biaToken, peerId: biaId } = await mint(rig, room, { name: "Bia" });
	const bia = await joinPeer(rig, room, { name: "Bia", peerId: biaId });
	const caio = await joinPeer(rig, room, { name: "Caio" });

	assert.deepEqual(await host.request("kickPeer", { peerId: biaId }), {});
	await bia.notification("kicked");
	await bia.closedEvent();
	assert.equal((await host.notification("peerLeft", (d) => d.peerId === biaId)).reason, "kicked");
	assert.equal((await caio.notification("peerLeft", (d) => d.peerId === biaId)).reason, "kicked");
	assert.equal(await rig.redis.sIsMember(redisKeys.roomRevoked(room), biaId), 1);
	assert.ok((await rig.redis.pTTL(redisKeys.roomRevoked(room))) > 0, "the revocation set dies with the room");
	assert.ok(!rig.sfu.rooms.rooms.get(room)?.peers.has(biaId));

	assert.equal(await refusalOf(signalingUrl(rig, { token: biaToken, roomId: room })), "token-revoked");
	const again = await joinPeer(rig, room, { name: "Bia" });
	assert.deepEqual(
		again.joined.peers.map((p) => p.name),
		["Ana", "Caio"],
	);
	for (const peer of [host, caio, again]) peer.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room closes");
});

test("only the host may kick, not itself, and only someone present", async () => {
	const room = await createRoom(rig);
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	// A token claiming the host role gives no authority: the room decides who is host.
	const claimer = await joinPeer(rig, room, { name: "Eve", role: "guest" });
	assert.equal(claimer.joined.self.role, "guest");

	assert.match(await rejection(bia.request("kickPeer", { peerId: host.peerId })), /^forbidden/);
	assert.match(await rejection(claimer.request("kickPeer", { peerId: bia.peerId })), /^forbidden/);
	assert.match(await rejection(host.request("kickPeer", { peerId: host.peerId })), /^bad-request/);
	assert.match(await rejection(host.request("kickPeer", { peerId: "nobody-here" })), /^not-found/);
	assert.match(await rejection(host.rawRequest("kickPeer", { peerId: 42 })), /^bad-request/);

	assert.equal(rig.sfu.rooms.rooms.get(room)?.peers.size, 3, "nobody was removed");
	assert.equal(await rig.redis.exists(redisKeys.roomRevoked(room)), 0, "nobody was revoked");
	assert.ok(!host.closed && !bia.closed && !claimer.closed);
	for (const peer of [host, bia, claimer]) peer.close();
});

test("presence in Redis follows joins, producers and departures", async () => {
	const room = await createRoom(rig);
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	await eventually(async () => (await presence(room))[host.peerId] !== undefined, "the host's presence is written");
	const first = (await presence(room))[host.peerId];
	assert.equal(first?.name, "Ana");
	assert.equal(first?.role, "host");
	assert.deepEqual(first?.producers, []);
	assert.ok(typeof first?.joinedAt === "number");

	const send = await host.request("createWebRtcTransport", { direction: "send" });
	const { producerId } = await host.request("produce", {
		transportId: send.id,
		kind: "audio",
		rtpParameters: opusParameters(11),
		source: "mic",
	});
	await eventually(
		async () => (await presence(room))[host.peerId]?.producers[0]?.id === producerId,
		"the producer is listed",
	);
	assert.deepEqual((await presence(room))[host.peerId]?.producers, [
		{ id: producerId, kind: "audio", source: "mic", paused: false },
	]);
	await host.request("pauseProducer", { producerId });
	await eventually(async () => (await presence(room))[host.peerId]?.producers[0]?.paused === true, "paused shows");

	const bia = await joinPeer(rig, room, { name: "Bia" });
	await eventually(async () => (await presence(room))[bia.peerId]?.role === "guest", "the guest's presence");
	await host.request("closeProducer", { producerId });
	await eventually(async () => (await presence(room))[host.peerId]?.producers.length === 0, "the producer is gone");

	await bia.request("leave", {});
	await eventually(async () => (await presence(room))[bia.peerId] === undefined, "a peer who left is removed");
	assert.deepEqual(Object.keys(await presence(room)), [host.peerId]);
	host.close();
	await eventually(async () => Object.keys(await presence(room)).length === 0, "the last one leaves");
});

test("an operator's kick through Redis removes and revokes the peer, even the host", async () => {
	const room = await createRoom(rig);
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const caio = await joinPeer(rig, room, { name: "Caio" });
	assert.equal(await command({ type: "kick", roomId: room, peerId: bia.peerId }), 1, "the node is subscribed");
	await bia.notification("kicked");
	await bia.closedEvent();
	await host.notification("peerLeft", (d) => d.peerId === bia.peerId);
	assert.equal(await rig.redis.sIsMember(redisKeys.roomRevoked(room), bia.peerId), 1);

	// Kicking the host hands the role on at once: it is not coming back.
	await command({ type: "kick", roomId: room, peerId: host.peerId });
	await host.closedEvent();
	await caio.notification("hostChanged", (d) => d.peerId === caio.peerId);
	assert.equal(await rig.redis.get(redisKeys.roomHost(room)), caio.peerId);
	caio.close();
});

test("an operator closing the room tells everyone, closes their sockets and forgets the room", async () => {
	const room = await createRoom(rig);
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const waiting = await connectPeer(rig, room, { name: "Caio" }); // connected, not yet joined
	await command({ type: "close-room", roomId: room });
	for (const peer of [host, bia, waiting]) {
		await peer.notification("roomClosed");
		await peer.closedEvent();
	}
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room is gone from the node");
});

test("malformed or unknown commands are ignored and the node keeps working", async () => {
	const room = await createRoom(rig);
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const channel = redisChannels.sfuNode(rig.sfu.nodeId);
	await rig.redis.publish(channel, "not json at all");
	await rig.redis.publish(channel, "null");
	await command({ type: "kick", roomId: room });
	await command({ type: "kick", roomId: room, peerId: 7 });
	await command({ type: "explode", roomId: room });
	await command({ type: "close-room" });
	await command({ type: "kick", roomId: "nosuchroom", peerId: bia.peerId });
	await command({ type: "kick", roomId: room, peerId: "nobody" });
	await command({ type: "close-room", roomId: "nosuchroom" });
	// Commands are handled in order: once this one has acted, all the above were seen.
	await command({ type: "kick", roomId: room, peerId: bia.peerId });
	await bia.notification("kicked");
	assert.ok(rig.sfu.rooms.rooms.get(room)?.peers.has(host.peerId), "the host is untouched");
	assert.ok(!host.closed);
	const caps = await host.request("getRouterRtpCapabilities", {});
	assert.ok(caps.codecs);
	host.close();
});

test("after Redis restarts the node is subscribed again and commands still arrive", async () => {
	const room = await createRoom(rig);
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	await rig.redisServer.restart();
	await eventually(
		async () => {
			try {
				return (await command({ type: "kick", roomId: room, peerId: bia.peerId })) === 1;
			} catch {
				return false;
			}
		},
		"the subscription is restored",
		400,
	);
	await bia.notification("kicked");
	await bia.closedEvent();
	host.close();
});
