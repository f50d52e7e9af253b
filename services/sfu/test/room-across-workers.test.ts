/**
 * A room that outgrows one router's share (SFU_ROOM_PEERS_PER_ROUTER, 2 here)
 * spreads over routers on other workers joined by pipes, and every peer still
 * receives every other peer's media: one consumer per producer, created on
 * the consumer's own router after the producer was piped there. Real workers
 * (4 of them) and real Redis; one microphone is fed real RTP from this
 * process through a PlainTransport, and its packets are read back on another
 * worker's router through a DirectTransport.
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { after, before, test } from "node:test";
import type { ServerRequests } from "@mindmeet/protocol";
import type { RtpParameters } from "mediasoup/types";
import type { RtpParameters as SignalledRtpParameters } from "mediasoup-client/types";
import type { Peer } from "../src/rooms/peer.ts";
import type { Room } from "../src/rooms/room.ts";
import { connectPeer, createRoom, eventually, opusParameters, type Rig, startRig, type TestPeer } from "./support.ts";

let rig: Rig;
before(async () => {
	rig = await startRig({ workers: 4, env: { SFU_ROOM_PEERS_PER_ROUTER: "2" } });
});
after(async () => {
	await rig.close();
});

type NewConsumer = ServerRequests["newConsumer"]["request"];
type Entered = TestPeer & { peerId: string; producerIds: string[] };

/** VP8 parameters as a browser would send them (one encoding; these tests need no simulcast). */
function vp8Parameters(ssrc: number): SignalledRtpParameters {
	return {
		mid: "1",
		codecs: [{ mimeType: "video/VP8", payloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: [] }],
		headerExtensions: [],
		encodings: [{ ssrc }],
		rtcp: { cname: `cname-${ssrc}`, reducedSize: true },
	};
}

function openRoom(room: string): Room {
	const open = rig.sfu.rooms.rooms.get(room);
	assert.ok(open, "the room is open");
	return open;
}

let ssrcs = 10_000;

/**
 * What a client does: capabilities, both transports, join, then a microphone
 * and a camera (no packets: mediasoup needs none to create them).
 */
async function enter(rig: Rig, room: string, name: string): Promise<Entered> {
	return reenter((await connectPeer(rig, room, { name })) as Entered);
}

/** Producer ids this peer was given a newConsumer for, with how many times each. */
function consumedCounts(peer: TestPeer): Map<string, number> {
	const counts = new Map<string, number>();
	for (const request of peer.serverRequests) {
		if (request.method !== "newConsumer") continue;
		const { producerId } = request.data as NewConsumer;
		counts.set(producerId, (counts.get(producerId) ?? 0) + 1);
	}
	return counts;
}

/** Every peer gets exactly one consumer for every producer of every other peer, and nothing else. */
async function everyoneConsumesEveryone(peers: Entered[]): Promise<void> {
	for (const peer of peers) {
		const expected = peers.filter((other) => other !== peer).flatMap((other) => other.producerIds);
		await eventually(
			() => expected.every((id) => consumedCounts(peer).has(id)),
			`${peer.peerId} consumes all ${expected.length} producers of the others`,
			800,
		);
	}
	// Settled: let any duplicate that was on its way arrive before counting.
	await new Promise((resolve) => setTimeout(resolve, 200));
	for (const peer of peers) {
		const expected = peers.filter((other) => other !== peer).flatMap((other) => other.producerIds);
		const counts = consumedCounts(peer);
		assert.deepEqual([...counts.keys()].sort(), [...expected].sort(), "exactly the others' producers");
		for (const [producerId, count] of counts) assert.equal(count, 1, `one consumer of ${producerId}`);
	}
}

/** Worker pids under the room, one per router, and how many people each router has. */
function layout(open: Room): { pids: number[]; sizes: number[] } {
	return {
		pids: open.routers.map((candidate) => candidate.worker.worker.pid),
		sizes: open.routers.map((candidate) => candidate.peers.size),
	};
}

async function mediasoupCounts() {
	return rig.sfu.workers.objectCounts();
}

async function closeAll(peers: TestPeer[], room: string): Promise<void> {
	for (const peer of peers) peer.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room closes once empty");
	const counts = await mediasoupCounts();
	assert.deepEqual(
		{ ...counts, workers: 0 },
		{ workers: 0, routers: 0, transports: 0, producers: 0, consumers: 0 },
		"no router, transport, producer or consumer (pipes included) outlives the room",
	);
}

test("a room within one router's share stays on one router with no pipe transport", async () => {
	const room = await createRoom(rig);
	const ana = await enter(rig, room, "Ana");
	const open = openRoom(room);
	const transportTypes: string[] = [];
	open.router.observer.on("newtransport", (transport) => transportTypes.push(transport.type));
	const bia = await enter(rig, room, "Bia");
	await everyoneConsumesEveryone([ana, bia]);
	assert.equal(open.routers.length, 1, "one router");
	assert.deepEqual(transportTypes, ["webrtc", "webrtc"], "Bia's two transports, and no pipe");
	const counts = await mediasoupCounts();
	assert.equal(counts.routers, 1, "one router on the whole node");
	assert.equal(counts.transports, 4, "two WebRTC transports each, nothing else");
	assert.equal(counts.producers, 4);
	assert.equal(counts.consumers, 4);

	// The third person is past the share: a second router on another worker, piped to the first.
	const caio = await enter(rig, room, "Caio");
	await everyoneConsumesEveryone([ana, bia, caio]);
	const { pids, sizes } = layout(open);
	assert.equal(pids.length, 2);
	assert.notEqual(pids[0], pids[1], "the second router is on another worker");
	assert.deepEqual(sizes, [2, 1]);
	assert.ok(transportTypes.includes("pipe"), "now the routers are joined by a pipe");
	await closeAll([ana, bia, caio], room);
});

test("10 people joining one by one spread over 4 workers; everyone consumes everyone once; real RTP crosses workers", async () => {
	const room = await createRoom(rig);
	const peers: Entered[] = [];
	for (let index = 0; index < 8; index++) peers.push(await enter(rig, room, `P${index}`));
	const open = openRoom(room);
	const { pids, sizes } = layout(open);
	assert.equal(new Set(pids).size, 4, `four routers on four different workers: ${pids.join(",")}`);
	assert.deepEqual(sizes, [2, 2, 2, 2], "two people per router");
	// Every worker is in use: past the share, people go to the least-loaded router (the primary on a tie).
	for (let index = 8; index < 10; index++) peers.push(await enter(rig, room, `P${index}`));
	assert.deepEqual(layout(open).pids, pids, "no fifth router: there is no fifth worker");
	assert.deepEqual(layout(open).sizes, [3, 3, 2, 2]);
	await everyoneConsumesEveryone(peers);

	// Pausing a camera on an extra router reaches its consumers on every other router (through the pipes).
	const pauser = peers[3];
	assert.ok(pauser);
	const camId = pauser.producerIds[1];
	assert.ok(camId);
	const camConsumerOf = (peer: TestPeer): string => {
		const request = peer.serverRequests.find(
			(r) => r.method === "newConsumer" && (r.data as NewConsumer).producerId === camId,
		);
		assert.ok(request, "every other peer consumes the camera");
		return (request.data as NewConsumer).id;
	};
	await pauser.request("pauseProducer", { producerId: camId });
	for (const peer of peers.filter((other) => other !== pauser)) {
		const consumerId = camConsumerOf(peer);
		await peer.notification("consumerPaused", (data) => data.consumerId === consumerId);
	}
	await pauser.request("resumeProducer", { producerId: camId });
	for (const peer of peers.filter((other) => other !== pauser)) {
		const consumerId = camConsumerOf(peer);
		await peer.notification("consumerResumed", (data) => data.consumerId === consumerId);
	}

	// A microphone with real packets on the second router (not the primary).
	const speaker = peers[2];
	assert.ok(speaker);
	const speakerPeer = open.peers.get(speaker.peerId);
	assert.ok(speakerPeer);
	const home = open.routers.find((candidate) => candidate.peers.has(speakerPeer));
	assert.ok(home && !home.primary, "the speaker is on an extra router");
	const mic = await playMic(open, speaker.peerId, speakerPeer, 7_777_777);
	try {
		// Every other peer consumes it, wherever it is placed.
		await everyoneConsumes(peers, speaker, mic.producerId);
		// Read its packets back on the primary router, on another worker: they came through the pipe.
		const primary = open.router;
		assert.notEqual(primary, home.router);
		const direct = await primary.createDirectTransport();
		try {
			const consumer = await direct.consume({ producerId: mic.producerId, rtpCapabilities: primary.rtpCapabilities });
			let packets = 0;
			consumer.on("rtp", () => {
				packets++;
			});
			await eventually(() => packets >= 10, "RTP packets of the microphone reach the primary router's consumer");
			// And the room's own consumers on other workers are fed: their producer side counts bytes.
			for (const other of open.routers.filter((candidate) => candidate !== home)) {
				const listener = [...other.peers][0];
				assert.ok(listener);
				const roomConsumer = [...listener.consumers.values()].find((c) => c.producerId === mic.producerId);
				assert.ok(roomConsumer, `${listener.id} has a consumer of the microphone`);
				await eventually(async () => {
					const stats = await roomConsumer.getStats();
					return stats.some((entry) => entry.type === "inbound-rtp" && entry.byteCount > 0);
				}, `bytes of the microphone arrive at ${listener.id}'s router (worker ${other.worker.index})`);
			}
			// Speaking is detected for a microphone on an extra router, and everyone hears of it.
			for (const peer of peers) {
				await peer.notification("speaking", (data) => data.peerIds.includes(speaker.peerId));
			}
		} finally {
			direct.close();
		}
	} finally {
		mic.stop();
	}
	await closeAll(peers, room);
});

test("8 people joining all at once: placed two per router on 4 workers, everyone consumes everyone exactly once", async () => {
	const room = await createRoom(rig);
	// Open the room first so all eight race inside it (placement, pipes, joins, produces).
	const first = await enter(rig, room, "First");
	const rest = await Promise.all(Array.from({ length: 7 }, (_, index) => enter(rig, room, `Q${index}`)));
	const peers = [first, ...rest];
	const open = openRoom(room);
	const { pids, sizes } = layout(open);
	assert.equal(new Set(pids).size, 4, `four routers on four workers: ${pids.join(",")}`);
	assert.deepEqual(sizes, [2, 2, 2, 2], "concurrent placements never overfill a router");
	await everyoneConsumesEveryone(peers);

	// The two people of one extra router leave: everyone else loses their consumers, the router closes.
	const extra = open.routers[2];
	assert.ok(extra && !extra.primary);
	const extraRouter = extra.router;
	assert.ok(extraRouter);
	const leaving = peers.filter((peer) => [...extra.peers].some((p) => p.id === peer.peerId));
	assert.equal(leaving.length, 2);
	const staying = peers.filter((peer) => !leaving.includes(peer));
	const marks = new Map(staying.map((peer) => [peer, peer.notifications.length]));
	for (const peer of leaving) await peer.request("leave", {});
	const consumerIdsOf = (peer: TestPeer, producerIds: string[]) =>
		peer.serverRequests
			.filter((r) => r.method === "newConsumer" && producerIds.includes((r.data as NewConsumer).producerId))
			.map((r) => (r.data as NewConsumer).id);
	const gone = leaving.flatMap((peer) => peer.producerIds);
	for (const peer of staying) {
		const expected = consumerIdsOf(peer, gone);
		assert.equal(expected.length, 4);
		await eventually(
			() =>
				expected.every((id) =>
					peer.notifications
						.slice(marks.get(peer))
						.some((n) => n.method === "consumerClosed" && (n.data as { consumerId: string }).consumerId === id),
				),
			`${peer.peerId} is told its consumers of the leavers' producers closed`,
		);
	}
	await eventually(() => extraRouter.closed, "the empty extra router is closed");
	assert.equal(open.routers.length, 3);
	assert.ok(!open.routers.includes(extra));

	// A newcomer fills the least-loaded router with room, or a worker the room no longer uses.
	const late = await enter(rig, room, "Late");
	const after = layout(open);
	assert.equal(
		after.sizes.reduce((a, b) => a + b),
		7,
	);
	assert.ok(
		after.sizes.every((size) => size <= 2),
		`no router over its share: ${after.sizes.join(",")}`,
	);
	await everyoneConsumesEveryoneOf([...staying, late]);
	await closeAll([...staying, late], room);
});

for (const [which, rebuild] of [
	["an extra router's", "one by one"],
	["the primary router's", "all at once"],
] as const) {
	test(`${which} worker dying under a room on several workers: everyone is told mediaReset and, rebuilding ${rebuild}, gets everyone's media again`, async () => {
		const room = await createRoom(rig);
		const peers: Entered[] = [];
		for (let index = 0; index < 6; index++) peers.push(await enter(rig, room, `R${index}`));
		const open = openRoom(room);
		assert.equal(new Set(layout(open).pids).size, 3, "three routers on three workers");
		await everyoneConsumesEveryone(peers);
		const before = open.routers.map((candidate) => candidate.router);
		const victim = which === "the primary router's" ? open.routers[0] : open.routers[1];
		assert.ok(victim);
		const dead = victim.worker.worker;
		const marks = new Map(peers.map((peer) => [peer, peer.notifications.length]));
		process.kill(dead.pid, "SIGKILL");
		for (const peer of peers) {
			await peer.notification("mediaReset", (data) => data.reason === "worker-died", marks.get(peer));
		}
		await open.mediaReady();
		for (const router of before) assert.ok(router?.closed, "every old router is closed, on live workers too");
		for (const peer of open.peers.values()) assert.equal(peer.consumers.size, 0);

		// Everyone rebuilds: new transports, rejoin, produce again; the room spreads again over live workers.
		for (const peer of peers) peer.serverRequests.length = 0;
		const again: Entered[] = rebuild === "all at once" ? await Promise.all(peers.map((peer) => reenter(peer))) : [];
		if (rebuild === "one by one") for (const peer of peers) again.push(await reenter(peer));
		const { pids, sizes } = layout(open);
		assert.equal(new Set(pids).size, 3, `three routers again: ${pids.join(",")}`);
		assert.deepEqual(sizes, [2, 2, 2]);
		assert.ok(!pids.includes(dead.pid), "none on the dead worker");
		await everyoneConsumesEveryone(again);
		for (const peer of peers) {
			const seen = peer.notifications.slice(marks.get(peer)).map((n) => n.method);
			assert.ok(!seen.includes("peerLeft") && !seen.includes("peerJoined"), `nobody left or came: ${seen.join(",")}`);
		}
		await closeAll(peers, room);
	});
}

/** The client sequence after connecting, the same first time and after mediaReset (on the same connection). */
async function reenter(peer: Entered): Promise<Entered> {
	const caps = await peer.request("getRouterRtpCapabilities", {});
	const [send] = await Promise.all([
		peer.request("createWebRtcTransport", { direction: "send" }),
		peer.request("createWebRtcTransport", { direction: "recv" }),
	]);
	await peer.request("join", { rtpCapabilities: caps });
	ssrcs += 10;
	const [mic, cam] = await Promise.all([
		peer.request("produce", {
			transportId: send.id,
			kind: "audio",
			source: "mic",
			rtpParameters: opusParameters(ssrcs),
		}),
		peer.request("produce", {
			transportId: send.id,
			kind: "video",
			source: "cam",
			rtpParameters: vp8Parameters(ssrcs + 1),
		}),
	]);
	peer.producerIds = [mic.producerId, cam.producerId];
	return peer;
}

/** Like everyoneConsumesEveryone, for peers that may also hold consumers of producers since closed. */
async function everyoneConsumesEveryoneOf(peers: Entered[]): Promise<void> {
	for (const peer of peers) {
		const expected = peers.filter((other) => other !== peer).flatMap((other) => other.producerIds);
		await eventually(
			() => expected.every((id) => consumedCounts(peer).get(id) === 1),
			`${peer.peerId} consumes each of the others' producers once`,
			800,
		);
	}
}

async function everyoneConsumes(peers: Entered[], producerPeer: Entered, producerId: string): Promise<void> {
	for (const peer of peers) {
		if (peer === producerPeer) continue;
		await eventually(() => consumedCounts(peer).get(producerId) === 1, `${peer.peerId} consumes ${producerId}`);
	}
}

const audioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
const audioLevelId = 1;

/**
 * A loud microphone fed from this process (Opus RTP every 20 ms with the
 * audio-level extension) on the router the peer is placed on, attached to the
 * peer the way produce attaches one. It replaces nothing: the test peers'
 * own microphones stay. Bounded, so a failing test cannot leave it running.
 */
async function playMic(
	room: Room,
	peerId: string,
	peer: Peer,
	ssrc: number,
): Promise<{ producerId: string; stop(): void }> {
	const router = await room.routerFor(peer);
	const transport = await router.createPlainTransport({
		listenInfo: { protocol: "udp", ip: "127.0.0.1" },
		rtcpMux: true,
		comedia: true,
	});
	const rtpParameters = {
		...opusParameters(ssrc),
		headerExtensions: [{ uri: audioLevelUri, id: audioLevelId, encrypt: false, parameters: {} }],
	} as RtpParameters;
	// The peer's signalled microphone holds the "mic" slot: close it, this one takes its place.
	for (const producer of peer.producers.values()) if (producer.appData.source === "mic") producer.close();
	const producer = await transport.produce({
		kind: "audio",
		rtpParameters,
		appData: { source: "mic" as const, peerId },
	});
	await room.attachProducer(peer, producer);
	const socket = createSocket("udp4");
	let sequence = 0;
	const stop = () => {
		clearInterval(timer);
		socket.close();
		transport.close();
	};
	const timer = setInterval(() => {
		sequence += 1;
		if (sequence > 3000) return stop();
		const packet = Buffer.alloc(12 + 8 + 3);
		packet[0] = 0x90;
		packet[1] = 111;
		packet.writeUInt16BE(sequence & 0xffff, 2);
		packet.writeUInt32BE((sequence * 960) >>> 0, 4);
		packet.writeUInt32BE(ssrc, 8);
		packet.writeUInt16BE(0xbede, 12);
		packet.writeUInt16BE(1, 14);
		packet[16] = audioLevelId << 4;
		packet[17] = 0x80 | 10; // voice, -10 dBov
		packet.set([0xf8, 0xff, 0xfe], 20);
		socket.send(packet, transport.tuple.localPort, "127.0.0.1");
	}, 20);
	let stopped = false;
	return {
		producerId: producer.id,
		stop: () => {
			if (stopped) return;
			stopped = true;
			stop();
		},
	};
}
