import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import {
	connectPeer,
	createRoom,
	eventually,
	mint,
	opusParameters,
	type Rig,
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

test("malformed requests get error responses and the peer and room stay up", async () => {
	const room = await createRoom(rig);
	const peer = await connectPeer(rig, room);
	assert.match(await rejection(peer.rawRequest("dropTheBass", {})), /^unknown-method/);
	assert.match(await rejection(peer.rawRequest("createWebRtcTransport", { direction: "sideways" })), /^bad-request/);
	assert.match(await rejection(peer.rawRequest("createWebRtcTransport", { direction: 7 })), /^bad-request/);
	assert.match(await rejection(peer.rawRequest("createWebRtcTransport", {})), /^bad-request/);
	assert.match(
		await rejection(peer.rawRequest("createWebRtcTransport", { direction: "send", extra: true })),
		/^bad-request/,
	);
	assert.match(await rejection(peer.rawRequest("join", { rtpCapabilities: "all of them" })), /^bad-request/);
	assert.match(await rejection(peer.rawRequest("closeProducer", { producerId: "x".repeat(500) })), /^bad-request/);
	assert.match(await rejection(peer.rawRequest("pauseProducer", { producerId: "nope" })), /^not-found/);
	assert.match(
		await rejection(
			peer.rawRequest("connectWebRtcTransport", {
				transportId: "nope",
				dtlsParameters: { fingerprints: [{ algorithm: "sha-256", value: "AA" }] },
			}),
		),
		/^not-found/,
	);
	// The same peer still works.
	const caps = await peer.request("getRouterRtpCapabilities", {});
	assert.ok(caps.codecs && caps.codecs.length > 0);
	assert.equal(rig.sfu.rooms.rooms.get(room)?.peers.size, 1);
	peer.close();
});

test("bad DTLS parameters and bad RTP parameters are refused by mediasoup's own checks, not crashes", async () => {
	const room = await createRoom(rig);
	const peer = await connectPeer(rig, room);
	const caps = await peer.request("getRouterRtpCapabilities", {});
	const send = await peer.request("createWebRtcTransport", { direction: "send" });
	assert.match(
		await rejection(
			peer.rawRequest("connectWebRtcTransport", {
				transportId: send.id,
				dtlsParameters: { fingerprints: [{ algorithm: "md5-ish", value: "zz" }] },
			}),
		),
		/^bad-request/,
	);
	await peer.request("join", { rtpCapabilities: caps });
	const broken = { ...opusParameters(1), codecs: [{ mimeType: "audio/nonsense", payloadType: 300, clockRate: -1 }] };
	assert.match(
		await rejection(
			peer.rawRequest("produce", { transportId: send.id, kind: "audio", rtpParameters: broken, source: "mic" }),
		),
		/^bad-request/,
	);
	assert.match(
		await rejection(
			peer.request("produce", {
				transportId: send.id,
				kind: "video",
				rtpParameters: opusParameters(2),
				source: "mic",
			}),
		),
		/^bad-request: a mic producer must be audio/,
	);
	assert.match(await rejection(peer.request("createWebRtcTransport", { direction: "send" })), /^conflict/);
	assert.match(await rejection(peer.request("join", { rtpCapabilities: caps })), /^conflict/);
	assert.ok(!rig.sfu.workers.workers[0]?.worker.closed, "the worker is still alive");
	peer.close();
});

test("producing before joining is refused", async () => {
	const room = await createRoom(rig);
	const peer = await connectPeer(rig, room);
	const send = await peer.request("createWebRtcTransport", { direction: "send" });
	assert.match(
		await rejection(
			peer.request("produce", { transportId: send.id, kind: "audio", rtpParameters: opusParameters(3), source: "mic" }),
		),
		/^not-joined/,
	);
	peer.close();
});

test("an audio-only room refuses a camera producer", async () => {
	const room = await createRoom(rig, "audio");
	const peer = await connectPeer(rig, room);
	const caps = await peer.request("getRouterRtpCapabilities", {});
	const send = await peer.request("createWebRtcTransport", { direction: "send" });
	const joined = await peer.request("join", { rtpCapabilities: caps });
	assert.equal(joined.mode, "audio");
	assert.match(
		await rejection(
			peer.request("produce", { transportId: send.id, kind: "video", rtpParameters: opusParameters(4), source: "cam" }),
		),
		/audio-only/,
	);
	peer.close();
});

test("join, produce and consume: the other peer is told and receives a paused consumer it accepts", async () => {
	const room = await createRoom(rig);
	const ana = await connectPeer(rig, room, { name: "Ana", role: "host" });
	const caps = await ana.request("getRouterRtpCapabilities", {});
	await ana.request("createWebRtcTransport", { direction: "recv" });
	const send = await ana.request("createWebRtcTransport", { direction: "send" });
	assert.ok(send.iceCandidates.length >= 2, "UDP and TCP candidates from the WebRtcServer");
	const joinedAna = await ana.request("join", { rtpCapabilities: caps });
	assert.deepEqual(joinedAna.peers, []);
	assert.equal(joinedAna.self.name, "Ana");
	const { producerId } = await ana.request("produce", {
		transportId: send.id,
		kind: "audio",
		rtpParameters: opusParameters(5),
		source: "mic",
	});

	const bia = await connectPeer(rig, room, { name: "Bia" });
	await bia.request("createWebRtcTransport", { direction: "recv" });
	const joinedBia = await bia.request("join", { rtpCapabilities: caps });
	assert.deepEqual(
		joinedBia.peers.map((p) => [p.name, p.role]),
		[["Ana", "host"]],
	);
	const joinedNote = await ana.notification("peerJoined");
	assert.equal(joinedNote.name, "Bia");

	const offer = (await bia.serverRequest("newConsumer")) as { id: string; producerId: string; source: string };
	assert.equal(offer.producerId, producerId);
	assert.equal(offer.source, "mic");
	const consumer = rig.sfu.rooms.rooms.get(room)?.peers.get(bia.peerId)?.consumers.get(offer.id);
	assert.ok(consumer, "the consumer exists on the server");
	await eventually(() => !consumer.paused, "the consumer is resumed once accepted");

	await ana.request("pauseProducer", { producerId });
	await bia.notification("consumerPaused", (d) => d.consumerId === offer.id);
	await ana.request("resumeProducer", { producerId });
	await bia.notification("consumerResumed", (d) => d.consumerId === offer.id);
	await ana.request("closeProducer", { producerId });
	await bia.notification("consumerClosed", (d) => d.consumerId === offer.id);

	await bia.request("leave", {});
	assert.equal((await ana.notification("peerLeft", (d) => d.peerId === bia.peerId)).reason, "left");
	ana.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the empty room closes");
});

test("a peer that vanishes without a goodbye is removed and the others are told", async () => {
	const room = await createRoom(rig);
	const ana = await connectPeer(rig, room, { name: "Ana" });
	const caps = await ana.request("getRouterRtpCapabilities", {});
	await ana.request("join", { rtpCapabilities: caps });
	const { token, peerId } = await mint(rig, room, { name: "Gone" });
	const raw = new WebSocket(signalingUrl(rig, { token, roomId: room }), "protoo");
	await new Promise((resolve) => raw.once("open", resolve));
	raw.send(JSON.stringify({ request: true, id: 1, method: "join", data: { rtpCapabilities: caps } }));
	await ana.notification("peerJoined", (d) => d.id === peerId);
	raw.terminate(); // no close frame, no leave
	assert.equal((await ana.notification("peerLeft", (d) => d.peerId === peerId)).reason, "dropped");
	assert.equal(rig.sfu.rooms.rooms.get(room)?.peers.size, 1);
	ana.close();
});

test("non-protoo text, binary frames and a request flood leave the peer and the room working", async () => {
	const room = await createRoom(rig);
	const ana = await connectPeer(rig, room);
	const { token } = await mint(rig, room, { name: "Noisy" });
	const raw = new WebSocket(signalingUrl(rig, { token, roomId: room }), "protoo");
	await new Promise((resolve) => raw.once("open", resolve));
	raw.send("this is not json");
	raw.send(JSON.stringify({ hello: "world" }));
	raw.send(Buffer.from([0, 1, 2, 3]));
	raw.send(JSON.stringify({ request: true, id: "x", method: 42 }));
	const answers: { ok?: boolean; errorReason?: string }[] = [];
	raw.on("message", (message) => answers.push(JSON.parse(String(message))));
	// More than the burst (50 by default), fewer refusals than would disconnect (100): see rate-limit.test.ts.
	for (let id = 1; id <= 140; id++) {
		raw.send(JSON.stringify({ request: true, id, method: "getRouterRtpCapabilities", data: {} }));
	}
	await eventually(() => answers.length >= 140, "every flooded request is answered", 400);
	assert.ok(answers.some((answer) => answer.ok === true));
	for (const answer of answers) if (!answer.ok) assert.match(answer.errorReason ?? "", /^rate-limited/);
	assert.equal(raw.readyState, WebSocket.OPEN, "the noisy connection is still open");
	const caps = await ana.request("getRouterRtpCapabilities", {});
	assert.ok(caps.codecs);
	raw.close();
	ana.close();
});

test("a message larger than the limit closes only that connection", async () => {
	const room = await createRoom(rig);
	const ana = await connectPeer(rig, room);
	const { token } = await mint(rig, room, { name: "Big" });
	const raw = new WebSocket(signalingUrl(rig, { token, roomId: room }), "protoo");
	await new Promise((resolve) => raw.once("open", resolve));
	const closed = new Promise<number>((resolve) => raw.once("close", (code) => resolve(code)));
	raw.send(JSON.stringify({ request: true, id: 1, method: "join", data: { pad: "x".repeat(200_000) } }));
	assert.equal(await closed, 1009, "closed as too large");
	const caps = await ana.request("getRouterRtpCapabilities", {});
	assert.ok(caps.codecs);
	ana.close();
});
