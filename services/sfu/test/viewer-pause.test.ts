/**
 * pauseConsumer / resumeConsumer: a viewer stops and restarts forwarding of
 * its own consumers (videos off screen). The viewer's pause is its own: the
 * sender muting and unmuting is still told as before and does not undo it.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ServerRequests } from "@mindmeet/protocol";
import {
	connectPeer,
	createRoom,
	eventually,
	joinPeer,
	opusParameters,
	type Rig,
	rejection,
	startRig,
	vp8Parameters,
} from "./support.ts";

let rig: Rig;
before(async () => {
	rig = await startRig();
});
after(async () => {
	await rig.close();
});

type NewConsumer = ServerRequests["newConsumer"]["request"];

async function publisher(room: string) {
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const send = await ana.request("createWebRtcTransport", { direction: "send" });
	const cam = await ana.request("produce", {
		transportId: send.id,
		kind: "video",
		rtpParameters: vp8Parameters([101, 102]),
		source: "cam",
	});
	const mic = await ana.request("produce", {
		transportId: send.id,
		kind: "audio",
		rtpParameters: opusParameters(103),
		source: "mic",
	});
	return { ana, camId: cam.producerId, micId: mic.producerId };
}

test("a viewer pauses and resumes its own consumers, apart from the sender's mute", async () => {
	const room = await createRoom(rig);
	const { ana, camId, micId } = await publisher(room);
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const server = rig.sfu.rooms.rooms.get(room)?.peers.get(bia.peerId);
	assert.ok(server);
	await eventually(() => bia.serverRequests.length === 2 && server.consumers.size === 2, "two consumers offered");
	const offers = bia.serverRequests.map((r) => r.data as NewConsumer);
	const camOffer = offers.find((o) => o.producerId === camId);
	const micOffer = offers.find((o) => o.producerId === micId);
	assert.ok(camOffer && micOffer);
	const cam = server.consumers.get(camOffer.id);
	assert.ok(cam);
	await eventually(() => !cam.paused, "started once accepted");

	assert.deepEqual(await bia.request("pauseConsumer", { consumerId: cam.id }), {});
	assert.equal(cam.paused, true);
	assert.equal(cam.producerPaused, false, "the viewer's pause is not the sender's");
	// Repeats are harmless.
	assert.deepEqual(await bia.request("pauseConsumer", { consumerId: cam.id }), {});
	assert.equal(cam.paused, true);

	// The sender mutes and unmutes meanwhile: the viewer is told both, and its own pause holds.
	const seen = bia.notifications.length;
	await ana.request("pauseProducer", { producerId: camId });
	await bia.notification("consumerPaused", (n) => n.consumerId === cam.id, seen);
	await ana.request("resumeProducer", { producerId: camId });
	await bia.notification("consumerResumed", (n) => n.consumerId === cam.id, seen);
	assert.equal(cam.producerPaused, false);
	assert.equal(cam.paused, true, "still paused by its viewer");

	assert.deepEqual(await bia.request("resumeConsumer", { consumerId: cam.id }), {});
	assert.equal(cam.paused, false);
	assert.deepEqual(await bia.request("resumeConsumer", { consumerId: cam.id }), {});
	assert.equal(cam.paused, false);

	// Audio consumers accept the same requests (the web client never sends them for audio).
	const mic = server.consumers.get(micOffer.id);
	assert.ok(mic);
	await bia.request("pauseConsumer", { consumerId: mic.id });
	assert.equal(mic.paused, true);
	await bia.request("resumeConsumer", { consumerId: mic.id });
	assert.equal(mic.paused, false);

	for (const peer of [ana, bia]) peer.close();
});

test("only one's own consumers, by a valid id: anything else is refused and changes nothing", async () => {
	const room = await createRoom(rig);
	const { ana, camId } = await publisher(room);
	const bia = await joinPeer(rig, room, { name: "Bia" });
	const server = rig.sfu.rooms.rooms.get(room)?.peers.get(bia.peerId);
	assert.ok(server);
	await eventually(() => server.consumers.size === 2, "consumers created");
	const camOffer = bia.serverRequests.map((r) => r.data as NewConsumer).find((o) => o.producerId === camId);
	assert.ok(camOffer);
	const cam = server.consumers.get(camOffer.id);
	assert.ok(cam);
	await eventually(() => !cam.paused, "started once accepted");

	// Ana publishes it, but the consumer is Bia's.
	assert.match(await rejection(ana.request("pauseConsumer", { consumerId: cam.id })), /^not-found/);
	assert.match(await rejection(ana.request("resumeConsumer", { consumerId: cam.id })), /^not-found/);
	assert.match(await rejection(bia.request("pauseConsumer", { consumerId: "nope" })), /^not-found/);
	assert.match(await rejection(bia.request("pauseConsumer", { consumerId: camId })), /^not-found/, "a producer id");
	assert.match(await rejection(bia.rawRequest("pauseConsumer", {})), /^bad-request/);
	assert.match(await rejection(bia.rawRequest("resumeConsumer", { consumerId: 7 })), /^bad-request/);
	assert.match(await rejection(bia.rawRequest("pauseConsumer", { consumerId: cam.id, extra: true })), /^bad-request/);
	const lurker = await connectPeer(rig, room, { name: "Espião" });
	assert.match(await rejection(lurker.request("pauseConsumer", { consumerId: cam.id })), /^not-found/);
	assert.equal(cam.paused, false, "unchanged by the refusals");

	// A consumer closed with its producer is gone for its viewer too.
	await bia.request("pauseConsumer", { consumerId: cam.id });
	await ana.request("closeProducer", { producerId: camId });
	await bia.notification("consumerClosed", (n) => n.consumerId === cam.id);
	assert.match(await rejection(bia.request("resumeConsumer", { consumerId: cam.id })), /^not-found/);

	for (const peer of [ana, bia, lurker]) peer.close();
});

test("a consumer paused by its viewer before it was accepted is not started", async () => {
	const room = await createRoom(rig);
	const { ana, camId } = await publisher(room);
	const bia = await connectPeer(rig, room, { name: "Bia" });
	// Answer newConsumer only after asking to pause it, as the web client does for a video nobody shows.
	const events = bia.client as unknown as NodeJS.EventEmitter;
	events.removeAllListeners("request");
	bia.client.on("request", (request, accept) => {
		const offer = request.data as NewConsumer;
		bia.serverRequests.push({ method: request.method, data: offer });
		if (offer.kind !== "video") {
			accept();
			return;
		}
		bia.request("pauseConsumer", { consumerId: offer.id }).then(
			() => accept(),
			() => accept(),
		);
	});
	const caps = await bia.request("getRouterRtpCapabilities", {});
	await bia.request("createWebRtcTransport", { direction: "recv" });
	await bia.request("join", { rtpCapabilities: caps });
	const server = rig.sfu.rooms.rooms.get(room)?.peers.get(bia.peerId);
	assert.ok(server);
	await eventually(() => server.consumers.size === 2, "consumers created");
	const offers = bia.serverRequests.map((r) => r.data as NewConsumer);
	const cam = server.consumers.get(offers.find((o) => o.producerId === camId)?.id ?? "");
	const mic = server.consumers.get(offers.find((o) => o.producerId !== camId)?.id ?? "");
	assert.ok(cam && mic);
	await eventually(() => !mic.paused, "the audio started");
	// Give the SFU's resume step time to have run; it must have left the camera paused.
	await bia.request("ping", {});
	assert.equal(cam.paused, true);
	await bia.request("resumeConsumer", { consumerId: cam.id });
	assert.equal(cam.paused, false);
	for (const peer of [ana, bia]) peer.close();
});
