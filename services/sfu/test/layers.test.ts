import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { RtpParameters } from "mediasoup-client/types";
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

/** VP9 with spatial layers in one stream (SVC). */
function vp9SvcParameters(ssrc: number): RtpParameters {
	return {
		mid: "2",
		codecs: [
			{
				mimeType: "video/VP9",
				payloadType: 98,
				clockRate: 90000,
				parameters: { "profile-id": 2 },
				rtcpFeedback: [{ type: "nack" }, { type: "nack", parameter: "pli" }],
			},
		],
		headerExtensions: [],
		encodings: [{ ssrc, scalabilityMode: "L3T3" }],
		rtcp: { cname: `cname-${ssrc}`, reducedSize: true },
	};
}

type Offer = { id: string; producerId: string };

test("a viewer picks the simulcast or SVC layer of a video it consumes; other consumers accept and ignore it", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const send = await ana.request("createWebRtcTransport", { direction: "send" });
	const { producerId: simulcastId } = await ana.request("produce", {
		transportId: send.id,
		kind: "video",
		rtpParameters: vp8Parameters([101, 102, 103]),
		source: "cam",
	});
	const { producerId: micId } = await ana.request("produce", {
		transportId: send.id,
		kind: "audio",
		rtpParameters: opusParameters(104),
		source: "mic",
	});
	const { producerId: svcId } = await ana.request("produce", {
		transportId: send.id,
		kind: "video",
		rtpParameters: vp9SvcParameters(105),
		source: "screen",
	});
	const caio = await joinPeer(rig, room, { name: "Caio" });
	const caioSend = await caio.request("createWebRtcTransport", { direction: "send" });
	const { producerId: singleId } = await caio.request("produce", {
		transportId: caioSend.id,
		kind: "video",
		rtpParameters: vp8Parameters([201], null),
		source: "cam",
	});

	const bia = await joinPeer(rig, room, { name: "Bia" });
	const server = rig.sfu.rooms.rooms.get(room)?.peers.get(bia.peerId);
	assert.ok(server);
	await eventually(() => bia.serverRequests.length === 4 && server.consumers.size === 4, "four consumers offered");
	const offers = bia.serverRequests.map((r) => r.data as Offer);
	const consumerOf = (producerId: string) => {
		const offer = offers.find((o) => o.producerId === producerId);
		assert.ok(offer);
		const consumer = server.consumers.get(offer.id);
		assert.ok(consumer);
		return consumer;
	};
	const simulcast = consumerOf(simulcastId);
	const svc = consumerOf(svcId);
	const mic = consumerOf(micId);
	const single = consumerOf(singleId);
	assert.equal(simulcast.type, "simulcast");
	assert.equal(svc.type, "svc");
	assert.equal(single.type, "simple");
	// Still created paused and resumed once the client accepted them.
	await eventually(() => [simulcast, svc, mic, single].every((c) => !c.paused), "consumers resumed");

	assert.deepEqual(
		await bia.request("setConsumerPreferredLayers", { consumerId: simulcast.id, spatialLayer: 1, temporalLayer: 0 }),
		{},
	);
	assert.deepEqual(simulcast.preferredLayers, { spatialLayer: 1, temporalLayer: 0 });
	// Without a temporal layer, the highest one of that spatial layer.
	await bia.request("setConsumerPreferredLayers", { consumerId: simulcast.id, spatialLayer: 0 });
	assert.deepEqual(simulcast.preferredLayers, { spatialLayer: 0, temporalLayer: 2 });
	await bia.request("setConsumerPreferredLayers", { consumerId: svc.id, spatialLayer: 2, temporalLayer: 1 });
	assert.deepEqual(svc.preferredLayers, { spatialLayer: 2, temporalLayer: 1 });

	// One layer only: nothing to choose, and not an error either.
	const singleBefore = single.preferredLayers;
	assert.deepEqual(await bia.request("setConsumerPreferredLayers", { consumerId: mic.id, spatialLayer: 0 }), {});
	assert.deepEqual(await bia.request("setConsumerPreferredLayers", { consumerId: single.id, spatialLayer: 2 }), {});
	assert.equal(mic.preferredLayers, undefined);
	assert.deepEqual(single.preferredLayers, singleBefore);

	// Only one's own consumers.
	assert.match(
		await rejection(ana.request("setConsumerPreferredLayers", { consumerId: simulcast.id, spatialLayer: 2 })),
		/^not-found/,
	);
	assert.match(
		await rejection(bia.request("setConsumerPreferredLayers", { consumerId: "nope", spatialLayer: 0 })),
		/^not-found/,
	);
	assert.match(
		await rejection(bia.rawRequest("setConsumerPreferredLayers", { consumerId: simulcast.id, spatialLayer: 9 })),
		/^bad-request/,
	);
	assert.match(
		await rejection(bia.rawRequest("setConsumerPreferredLayers", { consumerId: simulcast.id, spatialLayer: -1 })),
		/^bad-request/,
	);
	assert.match(
		await rejection(
			bia.rawRequest("setConsumerPreferredLayers", { consumerId: simulcast.id, spatialLayer: 0, extra: 1 }),
		),
		/^bad-request/,
	);
	assert.deepEqual(simulcast.preferredLayers, { spatialLayer: 0, temporalLayer: 2 }, "unchanged by the refusals");

	const lurker = await connectPeer(rig, room, { name: "Espião" });
	assert.match(
		await rejection(lurker.request("setConsumerPreferredLayers", { consumerId: simulcast.id, spatialLayer: 0 })),
		/^not-found/,
	);
	for (const peer of [ana, bia, caio, lurker]) peer.close();
});
