import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type RoomPresence, redisKeys, sfuCommandKeys } from "@mindmeet/protocol";
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

let orders = 0;
/** Queue an order the way the API does (raw `command` text when a string); its id, for the outcome. */
async function command(message: unknown): Promise<string> {
	const id = `order-${++orders}`;
	const text = typeof message === "string" ? message : JSON.stringify(message);
	await rig.redis.xAdd(sfuCommandKeys.stream(rig.sfu.nodeId), "*", { id, command: text, at: String(Date.now()) });
	return id;
}

function outcome(id: string): Promise<string | null> {
	return rig.redis.get(sfuCommandKeys.outcome(id));
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
	const kick = await command({ type: "kick", roomId: room, peerId: bia.peerId });
	await bia.notification("kicked");
	await bia.closedEvent();
	await host.notification("peerLeft", (d) => d.peerId === bia.peerId);
	assert.equal(await rig.redis.sIsMember(redisKeys.roomRevoked(room), bia.peerId), 1);
	await eventually(async () => (await outcome(kick)) === "kicked", "the outcome is written for the API");

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
	const close = await command({ type: "close-room", roomId: room });
	for (const peer of [host, bia, waiting]) {
		await peer.notification("roomClosed");
		await peer.closedEvent();
	}
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room is gone from the node");
	await eventually(async () => (await outcome(close)) === "closed", "the outcome is written for the API");
});

test("malformed or unknown commands are ignored and the node keeps working", async () => {
	const room = await createRoom(rig);
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const stream = sfuCommandKeys.stream(rig.sfu.nodeId);
	await rig.redis.xAdd(stream, "*", { unrelated: "field" });
	await rig.redis.xAdd(stream, "*", {
		id: "bad id with spaces",
		command: JSON.stringify({ type: "close-room", roomId: room }),
	});
	const malformed = [
		await command("not json at all"),
		await command("null"),
		await command({ type: "kick", roomId: room }),
		await command({ type: "kick", roomId: room, peerId: 7 }),
		await command({ type: "explode", roomId: room }),
		await command({ type: "close-room" }),
	];
	const absent = [
		await command({ type: "kick", roomId: "nosuchroom", peerId: bia.peerId }),
		await command({ type: "kick", roomId: room, peerId: "nobody" }),
		await command({ type: "close-room", roomId: "nosuchroom" }),
	];
	const stale = await rig.redis.xAdd(stream, "*", {
		id: "order-stale",
		command: JSON.stringify({ type: "close-room", roomId: room }),
		at: String(Date.now() - 11 * 60_000),
	});
	assert.ok(stale);
	// Commands are handled in order: once this one has acted, all the above were seen.
	const kick = await command({ type: "kick", roomId: room, peerId: bia.peerId });
	await bia.notification("kicked");
	await eventually(async () => (await outcome(kick)) === "kicked", "the kick's outcome");
	for (const id of malformed) assert.equal(await outcome(id), null, "nothing is answered to a malformed order");
	for (const id of absent) assert.equal(await outcome(id), "not-found");
	assert.equal(await outcome("order-stale"), "expired", "an order read too late is not carried out");
	const pending = await rig.redis.sendCommand(["XPENDING", stream, "sfu"]);
	assert.equal((pending as unknown as unknown[])[0], 0, "every entry, malformed or not, is acknowledged");
	assert.ok(rig.sfu.rooms.rooms.get(room)?.peers.has(host.peerId), "the host is untouched");
	assert.ok(!host.closed);
	const caps = await host.request("getRouterRtpCapabilities", {});
	assert.ok(caps.codecs);
	host.close();
});

test("after Redis restarts (and loses the stream) the node reads its orders again", async () => {
	const room = await createRoom(rig);
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	await rig.redisServer.restart();
	let kick: string | undefined;
	await eventually(
		async () => {
			try {
				kick = await command({ type: "kick", roomId: room, peerId: bia.peerId });
				return true;
			} catch {
				return false;
			}
		},
		"Redis is back for the test's client",
		400,
	);
	await bia.notification("kicked");
	await bia.closedEvent();
	await eventually(async () => (await outcome(kick ?? "")) === "kicked", "the outcome is written");
	host.close();
});

test("an order queued while the node's command connection is killed is carried out once it reconnects", async () => {
	const room = await createRoom(rig);
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const stream = sfuCommandKeys.stream(rig.sfu.nodeId);
	// Killing the connection and queueing in one transaction: the order lands while the node is disconnected.
	const id = "order-while-killed";
	const clients = String(await rig.redis.sendCommand(["CLIENT", "LIST"]));
	const reader = /^id=(\d+) .*name=mm-sfu-commands-test-node /m.exec(clients)?.[1];
	assert.ok(reader, "the node's command connection is named");
	const command = JSON.stringify({ type: "kick", roomId: room, peerId: bia.peerId });
	const replies = await rig.redis
		.multi()
		.addCommand(["CLIENT", "KILL", "ID", reader])
		.addCommand(["XADD", stream, "*", "id", id, "command", command, "at", String(Date.now())])
		.exec();
	assert.equal(replies[0], 1, "the connection was killed");
	await bia.notification("kicked");
	await eventually(async () => (await outcome(id)) === "kicked", "the outcome is written");
	host.close();
});
