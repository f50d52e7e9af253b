/**
 * Speaking detection with real RTP: no browser here, so a PlainTransport on
 * the room's router takes plain UDP from this process, carrying Opus packets
 * with the ssrc-audio-level header extension, and the producer is attached to
 * a signaling peer the way `produce` attaches its own.
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { after, before, test } from "node:test";
import type { RtpParameters } from "mediasoup/types";
import type { Room } from "../src/rooms/room.ts";
import { createRoom, joinPeer, opusParameters, type Rig, startRig, type TestPeer } from "./support.ts";

let rig: Rig;
before(async () => {
	rig = await startRig();
});
after(async () => {
	await rig.close();
});

const audioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
const audioLevelId = 1;
const loud = 10; // -10 dBov, far above the -55 default threshold
const quieter = 30; // -30 dBov: speaking, but less loud
const silent = 127; // -127 dBov: digital silence

/**
 * A microphone fed from this process: one Opus RTP packet every 20 ms whose
 * audio-level extension says `level` (-dBov). Bounded, so a failing test
 * cannot leave it running.
 */
interface Mic {
	producerId: string;
	level: number;
	stop(): void;
}

async function playMic(room: Room, peerId: string, ssrc: number, level: number): Promise<Mic> {
	const peer = room.peers.get(peerId);
	assert.ok(peer, "the peer is in the room");
	const transport = await room.router.createPlainTransport({
		listenInfo: { protocol: "udp", ip: "127.0.0.1" },
		rtcpMux: true,
		comedia: true,
	});
	const rtpParameters = {
		...opusParameters(ssrc),
		headerExtensions: [{ uri: audioLevelUri, id: audioLevelId, encrypt: false, parameters: {} }],
	} as RtpParameters;
	const producer = await transport.produce({
		kind: "audio",
		rtpParameters,
		appData: { source: "mic" as const, peerId },
	});
	await room.attachProducer(peer, producer);

	const socket = createSocket("udp4");
	const mic: Mic = { producerId: producer.id, level, stop: () => {} };
	let sequence = 0;
	const timer = setInterval(() => {
		sequence += 1;
		if (sequence > 3000) {
			mic.stop();
			return;
		}
		const packet = Buffer.alloc(12 + 8 + 3);
		packet[0] = 0x90; // version 2, header extension present
		packet[1] = 111; // Opus payload type, as in opusParameters
		packet.writeUInt16BE(sequence & 0xffff, 2);
		packet.writeUInt32BE((sequence * 960) >>> 0, 4); // 20 ms at 48 kHz
		packet.writeUInt32BE(ssrc, 8);
		packet.writeUInt16BE(0xbede, 12); // one-byte header extensions…
		packet.writeUInt16BE(1, 14); // …one 32-bit word of them
		packet[16] = (audioLevelId << 4) | 0; // id 1, one byte of data
		packet[17] = 0x80 | mic.level; // voice activity flag and level
		packet.set([0xf8, 0xff, 0xfe], 20); // an Opus frame (TOC + payload)
		socket.send(packet, transport.tuple.localPort, "127.0.0.1");
	}, 20);
	mic.stop = () => {
		clearInterval(timer);
		socket.close();
		transport.close();
		mic.stop = () => {};
	};
	return mic;
}

function speakingLists(peer: TestPeer): string[][] {
	return peer.notifications
		.filter((n) => n.method === "speaking")
		.map((n) => (n.data as { peerIds: string[] }).peerIds);
}

/** The speaking list the peer was last told. */
function lastList(peer: TestPeer): string[] | undefined {
	return speakingLists(peer).at(-1);
}

function openRoom(room: string): Room {
	const open = rig.sfu.rooms.rooms.get(room);
	assert.ok(open);
	return open;
}

test("loud microphones are announced to everyone, loudest first, once per change; silence empties the list", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const caio = await joinPeer(rig, room, { name: "Caio" });
	const open = openRoom(room);
	const mics: Mic[] = [];
	try {
		mics.push(await playMic(open, ana.peerId, 1111, loud));
		for (const peer of [ana, bia, caio]) {
			await peer.notification("speaking", (d) => d.peerIds.length === 1 && d.peerIds[0] === ana.peerId);
		}
		// Caio consumes Ana's microphone like any other producer.
		await caio.serverRequest("newConsumer");

		mics.push(await playMic(open, bia.peerId, 2222, quieter));
		await caio.notification("speaking", (d) => d.peerIds.join() === [ana.peerId, bia.peerId].join());

		// A newcomer hears who is speaking without waiting for a change.
		const dani = await joinPeer(rig, room, { name: "Dani" });
		await dani.notification("speaking", (d) => d.peerIds.includes(ana.peerId));

		const mark = caio.notifications.length;
		for (const mic of mics) mic.level = silent;
		await caio.notification("speaking", (d) => d.peerIds.length === 0, mark);

		for (const peer of [ana, bia, caio, dani]) {
			const lists = speakingLists(peer).map((list) => list.join());
			for (let i = 1; i < lists.length; i++) {
				assert.notEqual(lists[i], lists[i - 1], "the same list is never sent twice in a row");
			}
		}
		dani.close();
	} finally {
		for (const mic of mics) mic.stop();
	}
	for (const peer of [ana, bia, caio]) peer.close();
});

test("a muted microphone is never listed: pausing drops it at once, resuming brings it back", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const open = openRoom(room);
	const mics: Mic[] = [];
	try {
		const anaMic = await playMic(open, ana.peerId, 3333, loud);
		mics.push(anaMic);
		await bia.notification("speaking", (d) => d.peerIds.includes(ana.peerId));

		// Muted while still loud: the update is sent before the answer, not at the next report.
		await ana.request("pauseProducer", { producerId: anaMic.producerId });
		await bia.request("getRouterRtpCapabilities", {}); // a round trip: what was sent to bia has arrived
		assert.ok(!lastList(bia)?.includes(ana.peerId), "dropped as soon as it is muted");
		const paused = bia.notifications.length;

		// Bia speaks more quietly than Ana's muted microphone: if the observer
		// counted paused producers, Ana would top this list.
		const biaMic = await playMic(open, bia.peerId, 4444, quieter);
		mics.push(biaMic);
		await bia.notification("speaking", (d) => d.peerIds.includes(bia.peerId), paused);
		const whileMuted = bia.notifications.slice(paused).filter((n) => n.method === "speaking");
		for (const n of whileMuted) assert.ok(!(n.data as { peerIds: string[] }).peerIds.includes(ana.peerId));

		const resumed = bia.notifications.length;
		await ana.request("resumeProducer", { producerId: anaMic.producerId });
		await bia.notification("speaking", (d) => d.peerIds.join() === [ana.peerId, bia.peerId].join(), resumed);

		// Closing the microphone drops it at once too.
		await ana.request("closeProducer", { producerId: anaMic.producerId });
		await bia.request("getRouterRtpCapabilities", {});
		assert.ok(!lastList(bia)?.includes(ana.peerId), "dropped as soon as it is closed");
	} finally {
		for (const mic of mics) mic.stop();
	}
	ana.close();
	bia.close();
});

test("a speaker who leaves is dropped from the list", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const mic = await playMic(openRoom(room), bia.peerId, 5555, loud);
	try {
		await ana.notification("speaking", (d) => d.peerIds.includes(bia.peerId));
		const mark = ana.notifications.length;
		bia.close();
		await ana.notification("peerLeft", (d) => d.peerId === bia.peerId, mark);
		await ana.notification("speaking", (d) => d.peerIds.length === 0, mark);
	} finally {
		mic.stop();
	}
	ana.close();
});
