import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type LobbyHostEvent, type RoomPresence, redisChannels, redisKeys } from "@mindmeet/protocol";
import {
	connectPeer,
	createRoom,
	eventually,
	joinPeer,
	listen,
	mint,
	type Rig,
	rejection,
	signalingUrl,
	startRig,
	TestPeer,
} from "./support.ts";

let rig: Rig;
before(async () => {
	// Long enough that a reconnect always lands inside it.
	rig = await startRig({ env: { HOST_HANDOVER_GRACE_SECONDS: "5" } });
});
after(async () => {
	await rig.close();
});

async function presenceOf(room: string, peerId: string): Promise<RoomPresence | undefined> {
	const json = await rig.redis.hGet(redisKeys.roomPeers(room), peerId);
	return json ? (JSON.parse(json) as RoomPresence) : undefined;
}

test("roles come from the room's host, not from the token's claim", async () => {
	const room = await createRoom(rig);
	const hostId = rig.hosts.get(room);
	// The room's host holding a token that says "guest" is still the host…
	const host = await joinPeer(rig, room, { name: "Ana", role: "guest", peerId: hostId });
	assert.equal(host.joined.self.role, "host");
	// …and a token that says "host" for another peer id gives nothing.
	const eve = await joinPeer(rig, room, { name: "Eve", role: "guest" });
	const claimer = await joinPeer(rig, room, { name: "Mallory", peerId: "mallory", role: "host" });
	assert.equal(eve.joined.self.role, "guest");
	assert.equal(claimer.joined.self.role, "guest");
	assert.deepEqual(
		claimer.joined.peers.map((p) => [p.name, p.role]),
		[
			["Ana", "host"],
			["Eve", "guest"],
		],
	);
	const joinedNote = await host.notification("peerJoined", (d) => d.id === "mallory");
	assert.equal(joinedNote.role, "guest");
	for (const peer of [host, eve, claimer]) peer.close();
});

test("a host who leaves hands the role at once to the longest-present peer, everywhere", async () => {
	const room = await createRoom(rig);
	const lobby = await listen<LobbyHostEvent>(rig, redisChannels.lobby(room));
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const caio = await joinPeer(rig, room, { name: "Caio" });
	await host.request("leave", {});

	assert.deepEqual(await bia.notification("hostChanged"), { peerId: bia.peerId });
	assert.deepEqual(await caio.notification("hostChanged"), { peerId: bia.peerId });
	assert.equal(await rig.redis.get(redisKeys.roomHost(room)), bia.peerId);
	assert.ok((await rig.redis.pTTL(redisKeys.roomHost(room))) > 0, "the host key keeps a TTL");
	await eventually(
		() => lobby.messages.some((m) => m.type === "host-changed" && m.peerId === bia.peerId),
		"the lobby channel hears of it",
	);
	await eventually(async () => (await presenceOf(room, bia.peerId))?.role === "host", "presence shows the new host");
	assert.equal((await presenceOf(room, caio.peerId))?.role, "guest");
	assert.equal(await presenceOf(room, host.peerId), undefined);

	// Someone joining now sees the new host.
	const dani = await joinPeer(rig, room, { name: "Dani" });
	assert.deepEqual(
		dani.joined.peers.map((p) => [p.name, p.role]),
		[
			["Bia", "host"],
			["Caio", "guest"],
		],
	);
	lobby.close();
	for (const peer of [bia, caio, dani]) peer.close();
});

test("after a handover the new host can kick and the old one, back as a guest, cannot", async () => {
	const room = await createRoom(rig);
	const { token: oldHostToken, peerId: oldHostId } = await mint(rig, room, { name: "Ana", role: "host" });
	const host = await joinPeer(rig, room, { name: "Ana", peerId: oldHostId });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	await host.request("leave", {});
	await bia.notification("hostChanged", (d) => d.peerId === bia.peerId);
	await host.closedEvent();

	// The old host's token is still valid (it left, it was not kicked) but carries no authority.
	const back = new TestPeer(signalingUrl(rig, { token: oldHostToken, roomId: room }));
	await back.opened();
	const caps = await back.request("getRouterRtpCapabilities", {});
	await back.request("createWebRtcTransport", { direction: "recv" });
	const joined = await back.request("join", { rtpCapabilities: caps });
	assert.equal(joined.self.role, "guest");
	assert.deepEqual(
		joined.peers.map((p) => [p.id, p.role]),
		[[bia.peerId, "host"]],
	);
	assert.match(await rejection(back.request("kickPeer", { peerId: bia.peerId })), /^forbidden/);
	assert.ok(!bia.closed);

	await bia.request("kickPeer", { peerId: oldHostId });
	await back.notification("kicked");
	await back.closedEvent();
	assert.equal(await rig.redis.sIsMember(redisKeys.roomRevoked(room), oldHostId), 1);
	bia.close();
});

test("a reloading host (socket dropped, same peer id back within the grace) keeps the role", async () => {
	const room = await createRoom(rig);
	const { token, peerId: hostId } = await mint(rig, room, { name: "Ana", role: "host" });
	const host = await joinPeer(rig, room, { name: "Ana", peerId: hostId });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	host.close(); // no leave request: a reload or a network drop
	await bia.notification("peerLeft", (d) => d.peerId === hostId);
	const open = rig.sfu.rooms.rooms.get(room);
	assert.ok(open);
	assert.ok(open.status().handoverPending, "a handover waits for the grace period");

	const reloaded = new TestPeer(signalingUrl(rig, { token, roomId: room }));
	await reloaded.opened();
	const caps = await reloaded.request("getRouterRtpCapabilities", {});
	const joined = await reloaded.request("join", { rtpCapabilities: caps });
	assert.equal(joined.self.role, "host");
	assert.equal(open.status().hostPeerId, hostId);
	assert.equal(open.status().handoverPending, false, "the reconnect cancelled the handover");
	assert.ok(!bia.notifications.some((n) => n.method === "hostChanged"), "nobody was told of a handover");
	assert.equal(await rig.redis.get(redisKeys.roomHost(room)), hostId);
	await eventually(async () => (await presenceOf(room, hostId))?.role === "host", "the host's presence is back");
	assert.match(await rejection(bia.request("kickPeer", { peerId: hostId })), /^forbidden/);
	reloaded.close();
	bia.close();
});

test("a host who leaves while nobody else has joined keeps the role until someone joins", async () => {
	const room = await createRoom(rig);
	const hostId = rig.hosts.get(room);
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await connectPeer(rig, room, { name: "Bia" }); // connected, still in the pre-join screen
	await host.request("leave", {});
	await host.closedEvent();
	const open = rig.sfu.rooms.rooms.get(room);
	await eventually(() => open?.peers.size === 1, "the host is gone");
	assert.equal(open?.hostPeerId, hostId, "nothing changed");
	assert.equal(await rig.redis.get(redisKeys.roomHost(room)), hostId);

	const caps = await bia.request("getRouterRtpCapabilities", {});
	const joined = await bia.request("join", { rtpCapabilities: caps });
	assert.equal(joined.self.role, "host", "the first to join takes over");
	assert.deepEqual(await bia.notification("hostChanged"), { peerId: bia.peerId });
	await eventually(async () => (await rig.redis.get(redisKeys.roomHost(room))) === bia.peerId, "recorded");
	bia.close();
});

test("a room reopened by a guest keeps the host's role for the host who comes back within the grace", async () => {
	const room = await createRoom(rig);
	const hostId = rig.hosts.get(room);
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const open = rig.sfu.rooms.rooms.get(room);
	assert.ok(open?.status().handoverPending, "the room opened without its host: the grace runs");
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	assert.equal(host.joined.self.role, "host");
	assert.equal(open?.hostPeerId, hostId);
	assert.ok(!open?.status().handoverPending, "the host is back: no handover");
	host.close();
	bia.close();
});
