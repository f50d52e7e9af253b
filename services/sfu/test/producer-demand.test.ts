/**
 * producerDemand: a publisher is told the highest simulcast layer of its
 * camera that someone watching wants, and `null` when nobody watches, so
 * it stops encoding and sending what nobody sees. Raises come at once,
 * lowers after a short delay. Audio is never limited.
 *
 * "At once" is checked by order, not by time: the SFU tells the publisher
 * before it offers the new viewer its consumer, so once the viewer has the
 * offer, a ping on the publisher's own socket (answered in order) finds the
 * raise already there.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ServerNotifications, ServerRequests } from "@mindmeet/protocol";
import type { Room } from "../src/rooms/room.ts";
import {
	connectPeer,
	createRoom,
	eventually,
	joinPeer,
	opusParameters,
	type Rig,
	rejection,
	startRig,
	type TestPeer,
	vp8Parameters,
} from "./support.ts";

let rig: Rig;
before(async () => {
	rig = await startRig({ workers: 1 });
});
after(async () => {
	await rig.close();
});

type NewConsumer = ServerRequests["newConsumer"]["request"];
type Demand = ServerNotifications["producerDemand"];

async function publish(peer: TestPeer, ssrc: number) {
	const send = await peer.request("createWebRtcTransport", { direction: "send" });
	const cam = await peer.request("produce", {
		transportId: send.id,
		kind: "video",
		rtpParameters: vp8Parameters([ssrc, ssrc + 1]),
		source: "cam",
	});
	const mic = await peer.request("produce", {
		transportId: send.id,
		kind: "audio",
		rtpParameters: opusParameters(ssrc + 2),
		source: "mic",
	});
	return { camId: cam.producerId, micId: mic.producerId };
}

/** The demands told to `peer` so far about `producerId`, oldest first. */
function demands(peer: TestPeer, producerId: string): (number | null)[] {
	return peer.notifications
		.filter((n) => n.method === "producerDemand" && (n.data as Demand).producerId === producerId)
		.map((n) => (n.data as Demand).maxSpatialLayer);
}

/** What the publisher was last told (it starts out sending every layer: 1 for a two-layer camera). */
function told(peer: TestPeer, producerId: string): number | null {
	const all = demands(peer, producerId);
	return all.length === 0 ? 1 : (all[all.length - 1] ?? null);
}

async function toldBecomes(peer: TestPeer, producerId: string, expected: number | null, what: string) {
	// Lowers wait ~1.5 s on purpose; 400 polls of 25 ms leave plenty of room on a slow machine.
	await eventually(() => told(peer, producerId) === expected, `${what} (told ${told(peer, producerId)})`, 400);
}

/** The viewer's consumer of `producerId`, once offered and started. */
async function consumerOf(room: Room, viewer: TestPeer & { peerId: string }, producerId: string): Promise<string> {
	let id = "";
	await eventually(() => {
		const offer = viewer.serverRequests
			.map((r) => r.data as NewConsumer)
			.find((o) => o.producerId === producerId && o.kind === "video");
		const consumer = offer ? room.peers.get(viewer.peerId)?.consumers.get(offer.id) : undefined;
		if (!consumer || consumer.paused) return false;
		id = consumer.id;
		return true;
	}, "the viewer's camera consumer started");
	return id;
}

function openRoom(room: string): Room {
	const open = rig.sfu.rooms.rooms.get(room);
	assert.ok(open, "the room is open");
	return open;
}

test("the demand follows who watches: the max of their layers, lowered after a delay, raised at once, none when nobody watches", async () => {
	const roomId = await createRoom(rig);
	const ana = await joinPeer(rig, roomId, { name: "Ana", role: "host" });
	const { camId, micId } = await publish(ana, 1000);
	const room = openRoom(roomId);

	// Alone in the room: nobody watches the camera, so it stops being sent.
	await toldBecomes(ana, camId, null, "a camera nobody watches is not sent");
	assert.deepEqual(room.producerDemand(camId), { demand: null, told: null });

	// A viewer arrives: the camera comes back at once, at the top layer (mediasoup's default preference).
	const bia = await joinPeer(rig, roomId, { name: "Bia" });
	const biaCam = await consumerOf(room, bia, camId);
	await ana.request("ping", {});
	assert.equal(told(ana, camId), 1, "raised before the viewer was offered the consumer");

	// Bia's tile is small: only the low layer is wanted.
	await bia.request("setConsumerPreferredLayers", { consumerId: biaCam, spatialLayer: 0 });
	assert.equal(room.producerDemand(camId)?.demand, 0);
	await toldBecomes(ana, camId, 0, "lowered to the layer Bia wants");

	// Caio watches it large: the maximum of the two.
	const caio = await joinPeer(rig, roomId, { name: "Caio" });
	const caioCam = await consumerOf(room, caio, camId);
	await ana.request("ping", {});
	assert.equal(told(ana, camId), 1, "a new viewer raises it at once");
	await caio.request("setConsumerPreferredLayers", { consumerId: caioCam, spatialLayer: 1 });
	await bia.request("setConsumerPreferredLayers", { consumerId: biaCam, spatialLayer: 0 });
	assert.deepEqual(room.producerDemand(camId), { demand: 1, told: 1 }, "max(0, 1)");

	// The one wanting the top layer stops watching: down to what Bia wants.
	await caio.request("pauseConsumer", { consumerId: caioCam });
	assert.equal(room.producerDemand(camId)?.demand, 0);
	await toldBecomes(ana, camId, 0, "lowered when the top layer's viewer paused");

	// Nobody watches any more.
	await bia.request("pauseConsumer", { consumerId: biaCam });
	await toldBecomes(ana, camId, null, "nothing sent when every viewer paused");

	// Caio looks again: at once.
	const beforeResume = demands(ana, camId).length;
	await caio.request("resumeConsumer", { consumerId: caioCam });
	await ana.request("ping", {});
	assert.deepEqual(demands(ana, camId).slice(beforeResume), [1], "one raise, straight to Caio's layer");

	// Audio is never limited, and repeats are never sent.
	assert.ok(
		!ana.notifications.some((n) => n.method === "producerDemand" && (n.data as Demand).producerId === micId),
		"nothing about the microphone",
	);
	assert.equal(room.producerDemand(micId), undefined);
	const told_ = demands(ana, camId);
	for (let i = 1; i < told_.length; i++) assert.notEqual(told_[i], told_[i - 1], `no repeat: ${told_.join(",")}`);

	for (const peer of [ana, bia, caio]) peer.close();
});

test("the publisher's own mute is not demand; a viewer leaving lowers it", async () => {
	const roomId = await createRoom(rig);
	const ana = await joinPeer(rig, roomId, { name: "Ana", role: "host" });
	const { camId } = await publish(ana, 2000);
	const room = openRoom(roomId);
	const bia = await joinPeer(rig, roomId, { name: "Bia" });
	const biaCam = await consumerOf(room, bia, camId);
	await bia.request("setConsumerPreferredLayers", { consumerId: biaCam, spatialLayer: 0 });
	const caio = await joinPeer(rig, roomId, { name: "Caio" });
	await consumerOf(room, caio, camId);
	assert.equal(room.producerDemand(camId)?.demand, 1);

	// Ana turns her camera off: two people watch its tile, but there is nothing to see.
	await ana.request("pauseProducer", { producerId: camId });
	assert.equal(room.producerDemand(camId)?.demand, null);
	await toldBecomes(ana, camId, null, "a muted camera is not sent");
	await ana.request("resumeProducer", { producerId: camId });
	await ana.request("ping", {});
	assert.equal(told(ana, camId), 1, "unmuted: back at once, at the viewers' layer");
	// Her mute state is her own: the producer is resumed, as she left it.
	assert.equal(room.peers.get(ana.peerId)?.producers.get(camId)?.paused, false);

	// Caio (top layer) leaves: what Bia wants is left.
	caio.close();
	await toldBecomes(ana, camId, 0, "lowered when the top layer's viewer left");
	// Bia drops without a goodbye: nobody is left.
	bia.close();
	await toldBecomes(ana, camId, null, "nothing sent once the last viewer is gone");

	ana.close();
});

test("refused requests change no demand: someone else's consumer, unknown ids, bad layers", async () => {
	const roomId = await createRoom(rig);
	const ana = await joinPeer(rig, roomId, { name: "Ana", role: "host" });
	const { camId } = await publish(ana, 3000);
	const room = openRoom(roomId);
	const bia = await joinPeer(rig, roomId, { name: "Bia" });
	const biaCam = await consumerOf(room, bia, camId);
	await ana.request("ping", {});
	assert.deepEqual(room.producerDemand(camId), { demand: 1, told: 1 });
	const seen = ana.notifications.length;

	// The publisher tries to pause the consumer of its own camera: it is Bia's, not hers.
	assert.match(await rejection(ana.request("pauseConsumer", { consumerId: biaCam })), /^not-found/);
	assert.match(
		await rejection(ana.request("setConsumerPreferredLayers", { consumerId: biaCam, spatialLayer: 0 })),
		/^not-found/,
	);
	const lurker = await connectPeer(rig, roomId, { name: "Espião" });
	assert.match(await rejection(lurker.request("pauseConsumer", { consumerId: biaCam })), /^not-found/);
	assert.match(await rejection(bia.request("pauseConsumer", { consumerId: camId })), /^not-found/, "a producer id");
	assert.match(await rejection(bia.request("pauseConsumer", { consumerId: "nope" })), /^not-found/);
	assert.match(
		await rejection(bia.rawRequest("setConsumerPreferredLayers", { consumerId: biaCam, spatialLayer: 9 })),
		/^bad-request/,
	);
	assert.match(
		await rejection(bia.rawRequest("setConsumerPreferredLayers", { consumerId: biaCam, spatialLayer: "0" })),
		/^bad-request/,
	);
	assert.match(await rejection(bia.rawRequest("pauseConsumer", { consumerId: biaCam, extra: 1 })), /^bad-request/);
	assert.match(await rejection(ana.request("pauseProducer", { producerId: biaCam })), /^not-found/);
	assert.match(await rejection(bia.request("pauseProducer", { producerId: camId })), /^not-found/, "not her producer");

	assert.deepEqual(room.producerDemand(camId), { demand: 1, told: 1 }, "unchanged");
	assert.equal(room.peers.get(bia.peerId)?.consumers.get(biaCam)?.paused, false);
	await ana.request("ping", {});
	assert.ok(
		!ana.notifications.slice(seen).some((n) => n.method === "producerDemand"),
		"the publisher was told nothing",
	);

	for (const peer of [ana, bia, lurker]) peer.close();
});

test("after the worker dies and everyone rebuilds, the publisher's new camera gets the demand of its new viewers", async () => {
	const roomId = await createRoom(rig);
	const ana = await joinPeer(rig, roomId, { name: "Ana", role: "host" });
	const first = await publish(ana, 4000);
	const room = openRoom(roomId);
	const bia = await joinPeer(rig, roomId, { name: "Bia" });
	const biaCam = await consumerOf(room, bia, first.camId);
	await bia.request("setConsumerPreferredLayers", { consumerId: biaCam, spatialLayer: 0 });
	await toldBecomes(ana, first.camId, 0, "lowered to Bia's layer before the crash");

	const marks = { ana: ana.notifications.length, bia: bia.notifications.length };
	process.kill(room.worker.worker.pid, "SIGKILL");
	await ana.notification("mediaReset", () => true, marks.ana);
	await bia.notification("mediaReset", () => true, marks.bia);
	assert.equal(room.producerDemand(first.camId), undefined, "the old camera is forgotten");

	// Both rebuild as clients do: capabilities, transports, rejoin, produce again.
	for (const peer of [ana, bia]) {
		const caps = await peer.request("getRouterRtpCapabilities", {});
		await peer.request("createWebRtcTransport", { direction: "recv" });
		await peer.request("join", { rtpCapabilities: caps });
	}
	const again = await publish(ana, 5000);
	const biaCamAgain = await consumerOf(room, bia, again.camId);
	// The new camera starts out sending everything, which is what Bia's new consumer wants (its default).
	assert.deepEqual(room.producerDemand(again.camId), { demand: 1, told: 1 });
	// Bia's client asks for its tile's layer again on the new consumer: the publisher hears of it.
	await bia.request("setConsumerPreferredLayers", { consumerId: biaCamAgain, spatialLayer: 0 });
	await toldBecomes(ana, again.camId, 0, "the rebuilt camera follows Bia's layer");
	await bia.request("pauseConsumer", { consumerId: biaCamAgain });
	await toldBecomes(ana, again.camId, null, "and stops when Bia stops watching");

	for (const peer of [ana, bia]) peer.close();
});
