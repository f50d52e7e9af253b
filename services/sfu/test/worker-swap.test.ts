/**
 * A worker crash is a blip: the room moves its media to the worker's
 * replacement (this rig has one worker, so there is no other), every peer is
 * told `mediaReset`, rebuilds its transports on the same connection and
 * rejoins, and nobody hears that anyone left or joined.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { redisKeys, type ServerRequests } from "@mindmeet/protocol";
import { WorkerUnavailableError } from "../src/workers/worker-pool.ts";
import {
	connectPeer,
	createRoom,
	eventually,
	failure,
	opusParameters,
	type Rig,
	startRig,
	type TestPeer,
} from "./support.ts";

let rig: Rig;
before(async () => {
	rig = await startRig({ workers: 1 });
});
after(async () => {
	await rig.close();
});

type NewConsumer = ServerRequests["newConsumer"]["request"];

/** What a client does to be in the call with a microphone: the same sequence first time and after mediaReset. */
async function enterWithMic(peer: TestPeer, ssrc: number) {
	const caps = await peer.request("getRouterRtpCapabilities", {});
	const send = await peer.request("createWebRtcTransport", { direction: "send" });
	await peer.request("createWebRtcTransport", { direction: "recv" });
	const joined = await peer.request("join", { rtpCapabilities: caps });
	const { producerId } = await peer.request("produce", {
		transportId: send.id,
		kind: "audio",
		rtpParameters: opusParameters(ssrc),
		source: "mic",
	});
	return { joined, producerId };
}

async function consumes(peer: TestPeer, producerId: string): Promise<void> {
	await eventually(
		() =>
			peer.serverRequests.some((r) => r.method === "newConsumer" && (r.data as NewConsumer).producerId === producerId),
		`a newConsumer for producer ${producerId}`,
	);
}

test("SIGKILL of the worker under a call: both peers rebuild on the replacement and consume each other again", async () => {
	const room = await createRoom(rig);
	const ana = await connectPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await connectPeer(rig, room, { name: "Bia" });
	const anaFirst = await enterWithMic(ana, 1111);
	const biaFirst = await enterWithMic(bia, 2222);
	await consumes(ana, biaFirst.producerId);
	await consumes(bia, anaFirst.producerId);
	const { message } = await ana.request("sendChat", { text: "antes da queda — olá 👋" });

	const open = rig.sfu.rooms.rooms.get(room);
	assert.ok(open);
	const dead = open.worker.worker.pid;
	const marks = { ana: ana.notifications.length, bia: bia.notifications.length };
	process.kill(dead, "SIGKILL");

	await ana.notification("mediaReset", (d) => d.reason === "worker-died", marks.ana);
	await bia.notification("mediaReset", (d) => d.reason === "worker-died", marks.bia);
	assert.equal(rig.sfu.rooms.rooms.get(room), open, "the same room object, not a new one");
	assert.ok(!open.closed);
	assert.notEqual(open.worker.worker.pid, dead, "the room is on the replacement worker");
	assert.ok(!open.worker.worker.closed);
	assert.equal(open.worker, rig.sfu.workers.workers[0], "room.worker is the pool's live worker");
	for (const peer of open.peers.values()) {
		assert.equal(peer.transports.size, 0, `${peer.name}'s transports are forgotten`);
		assert.equal(peer.producers.size, 0);
		assert.equal(peer.consumers.size, 0);
	}

	const anaAgain = await enterWithMic(ana, 3333);
	const biaAgain = await enterWithMic(bia, 4444);
	// A rejoin answers like a join: self, the others, the mode, the chat.
	assert.equal(anaAgain.joined.self.role, "host", "the host keeps the role");
	assert.deepEqual(
		anaAgain.joined.peers.map((p) => p.name),
		["Bia"],
	);
	assert.deepEqual(
		biaAgain.joined.peers.map((p) => [p.name, p.role]),
		[["Ana", "host"]],
	);
	assert.equal(biaAgain.joined.mode, "video");
	assert.deepEqual(
		biaAgain.joined.chat.map((m) => m.id),
		[message.id],
		"the chat is intact",
	);
	assert.equal(biaAgain.joined.chatMore, false);
	await consumes(ana, biaAgain.producerId);
	await consumes(bia, anaAgain.producerId);

	for (const [peer, from] of [
		[ana, marks.ana],
		[bia, marks.bia],
	] as const) {
		const seen = peer.notifications.slice(from).map((n) => n.method);
		assert.ok(!seen.includes("peerLeft"), `no peerLeft: ${seen.join(",")}`);
		assert.ok(!seen.includes("peerJoined"), `no peerJoined: ${seen.join(",")}`);
		assert.ok(!seen.includes("hostChanged"), `no hostChanged: ${seen.join(",")}`);
	}
	assert.equal(open.hostPeerId, ana.peerId);
	assert.equal(await rig.redis.get(redisKeys.roomHost(room)), ana.peerId);
	assert.ok(!ana.closed && !bia.closed, "the connections stayed up");

	// A second join after the rejoin is an ordinary mistake again.
	assert.match((await failure(ana.request("join", { rtpCapabilities: { codecs: [] } }))).message, /^conflict/);
	ana.close();
	bia.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room closes once empty");
});

test("requests racing the move are answered (or refused as retryable), never crash, and the room works after", async () => {
	const room = await createRoom(rig);
	const ana = await connectPeer(rig, room, { name: "Ana", role: "host" });
	await enterWithMic(ana, 5555);
	const open = rig.sfu.rooms.rooms.get(room);
	assert.ok(open);
	const mark = ana.notifications.length;
	process.kill(open.worker.worker.pid, "SIGKILL");
	// Fired at once, before the client has heard of the reset: mediasoup fails them or they wait.
	const racing = await Promise.allSettled([
		ana.request("createWebRtcTransport", { direction: "recv" }),
		ana.request("getRouterRtpCapabilities", {}),
		ana.request("ping", {}),
		ana.request("sendChat", { text: "durante a troca" }),
	]);
	for (const outcome of racing) {
		if (outcome.status === "rejected") {
			assert.match((outcome.reason as Error).message, /^conflict/, "a racing request fails as retryable");
		}
	}
	await ana.notification("mediaReset", () => true, mark);
	// After the reset the whole sequence works from scratch, whatever raced.
	const again = await enterWithMic(ana, 6666);
	assert.equal(again.joined.self.role, "host");
	assert.ok(!ana.closed);
	ana.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room closes once empty");
});

test("a peer that connected after the worker died is not told mediaReset and joins as anyone would", async () => {
	const room = await createRoom(rig);
	const ana = await connectPeer(rig, room, { name: "Ana", role: "host" });
	await enterWithMic(ana, 7777);
	const open = rig.sfu.rooms.rooms.get(room);
	assert.ok(open);
	const dead = open.worker.worker;
	process.kill(dead.pid, "SIGKILL");
	// The node has noticed (the move is under way or done); whoever connects now had nothing on the dead worker.
	await eventually(() => dead.closed, "the node noticed the worker died");
	const bia = await connectPeer(rig, room, { name: "Bia" });
	const biaEntry = await enterWithMic(bia, 8888);
	await ana.notification("mediaReset");
	await enterWithMic(ana, 9999);
	await consumes(ana, biaEntry.producerId);
	assert.ok(!bia.notifications.some((n) => n.method === "mediaReset"));
	assert.ok(
		ana.notifications.some((n) => n.method === "peerJoined"),
		"Bia's first join is announced",
	);
	ana.close();
	bia.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room closes once empty");
});

// Closes the rig's worker pool: keep it last in this file.
test("when no worker can come (the pool is closed), the room closes instead of waiting for ever", async () => {
	const room = await createRoom(rig);
	const ana = await connectPeer(rig, room, { name: "Ana", role: "host" });
	await enterWithMic(ana, 1212);
	rig.sfu.workers.close();
	await ana.closedEvent();
	assert.ok(!ana.notifications.some((n) => n.method === "mediaReset"), "nothing to rebuild on");
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room is forgotten");
	await assert.rejects(
		rig.sfu.workers.waitForLive(() => 0, 10_000),
		(error: unknown) => error instanceof WorkerUnavailableError,
	);
});
