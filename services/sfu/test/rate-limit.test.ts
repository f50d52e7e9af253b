/**
 * The per-connection request limit, with its defaults (a burst of 50, 20 per
 * second, disconnection after 100 refusals within 10 s): what a real client
 * does passes, a flood is refused with `rate-limited`, a connection that
 * keeps flooding is told `refused: too-many-requests` and closed, and nobody
 * else in the room notices anything but its departure.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ServerRequests } from "@mindmeet/protocol";
import type { RtpParameters } from "mediasoup-client/types";
import {
	connectPeer,
	createRoom,
	eventually,
	joinPeer,
	opusParameters,
	type Rig,
	startRig,
	type TestPeer,
} from "./support.ts";

let rig: Rig;
before(async () => {
	rig = await startRig();
});
after(async () => {
	await rig.close();
});

type NewConsumer = ServerRequests["newConsumer"]["request"];

function vp8Parameters(ssrc: number, mid: string): RtpParameters {
	return {
		mid,
		codecs: [{ mimeType: "video/VP8", payloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: [] }],
		headerExtensions: [],
		encodings: [{ ssrc }],
		rtcp: { cname: `cname-${ssrc}`, reducedSize: true },
	};
}

const dtlsParameters = {
	role: "client" as const,
	fingerprints: [
		{
			algorithm: "sha-256" as const,
			value: Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, "0").toUpperCase()).join(":"),
		},
	],
};

/** Settle every promise; the rejection messages. */
async function refusals(promises: Promise<unknown>[]): Promise<string[]> {
	const settled = await Promise.allSettled(promises);
	return settled.flatMap((result) => (result.status === "rejected" ? [(result.reason as Error).message] : []));
}

test("a request flood is refused with rate-limited while another peer in the room keeps getting answers", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana" });
	const noisy = await joinPeer(rig, room, { name: "Noisy" });
	const mark = ana.notifications.length;
	const flood = refusals(Array.from({ length: 140 }, () => noisy.request("ping", {})));
	// Ana's requests in the middle of the flood are answered.
	const anaAnswers = await Promise.all(Array.from({ length: 10 }, () => ana.request("ping", {})));
	assert.equal(anaAnswers.length, 10);
	const refused = await flood;
	assert.ok(refused.length > 0, "part of the flood is refused");
	for (const message of refused) assert.match(message, /^rate-limited: too many requests/);
	assert.ok(refused.length < 140, "the burst itself was answered");
	// The noisy peer was only slowed down: it stays, and is answered again once it slows down.
	assert.equal(noisy.closed, false);
	await eventually(
		() =>
			noisy.request("ping", {}).then(
				() => true,
				() => false,
			),
		"the noisy peer is answered again",
	);
	assert.equal(rig.sfu.rooms.rooms.get(room)?.peers.size, 2);
	assert.ok(!ana.notifications.slice(mark).some((n) => n.method === "peerLeft"), "nobody left");
	ana.close();
	noisy.close();
});

test("a connection that keeps flooding is told refused: too-many-requests and closed; the room goes on", async () => {
	const room = await createRoom(rig);
	const ana = await joinPeer(rig, room, { name: "Ana" });
	const flooder = await joinPeer(rig, room, { name: "Flooder" });
	const mark = ana.notifications.length;
	// Not awaited: requests the SFU never read before closing stay unanswered (protoo-client only times them out).
	for (let i = 0; i < 1000; i++) flooder.request("ping", {}).catch(() => {});
	const refused = await flooder.notification("refused");
	assert.equal(refused.reason, "too-many-requests");
	assert.ok(refused.message.length > 0);
	// The SFU closed the connection and the others see the flooder leave.
	const left = await ana.notification("peerLeft", (d) => d.peerId === flooder.peerId, mark);
	assert.equal(left.reason, "dropped");
	// A refusal is final for a client: it stops, as the web client does. (protoo-client
	// reconnects by itself when the close it sees is not a clean 4000, which a socket
	// still full of the flood's requests may not get.)
	flooder.close();
	assert.ok((await ana.request("ping", {})).now > 0);
	await eventually(() => rig.sfu.rooms.rooms.get(room)?.peers.size === 1, "only Ana is left");
	assert.deepEqual([...(rig.sfu.rooms.rooms.get(room)?.peers.keys() ?? [])], [ana.peerId]);
	ana.close();
});

/**
 * What the web client does on entering, as bursty as it can be: capabilities,
 * both transports, both connects, join, three producers, then a layer choice
 * per tile and pings. None of it may be refused.
 */
async function enterLikeAClient(peer: TestPeer, ssrc: number): Promise<string[]> {
	const refused: string[] = [];
	const keep = <T>(promise: Promise<T>) =>
		promise.catch((error: Error) => {
			refused.push(error.message);
			throw error;
		});
	const [caps, send, recv] = await Promise.all([
		keep(peer.request("getRouterRtpCapabilities", {})),
		keep(peer.request("createWebRtcTransport", { direction: "send" })),
		keep(peer.request("createWebRtcTransport", { direction: "recv" })),
		keep(peer.request("ping", {})),
	]);
	await Promise.all([
		keep(peer.request("connectWebRtcTransport", { transportId: send.id, dtlsParameters })),
		keep(peer.request("connectWebRtcTransport", { transportId: recv.id, dtlsParameters })),
		keep(peer.request("join", { rtpCapabilities: caps })),
	]);
	await Promise.all([
		keep(
			peer.request("produce", {
				transportId: send.id,
				kind: "audio",
				rtpParameters: opusParameters(ssrc),
				source: "mic",
			}),
		),
		keep(
			peer.request("produce", {
				transportId: send.id,
				kind: "video",
				rtpParameters: vp8Parameters(ssrc + 1, "1"),
				source: "cam",
			}),
		),
		keep(
			peer.request("produce", {
				transportId: send.id,
				kind: "video",
				rtpParameters: vp8Parameters(ssrc + 2, "2"),
				source: "screen",
			}),
		),
	]);
	return refused;
}

test("real clients entering a call (join burst, three producers, layer changes, pings) are never limited", async () => {
	const room = await createRoom(rig);
	const [ana, bia] = await Promise.all([
		joinPeer(rig, room, { name: "Ana" }).then(async (peer) => {
			await peer.request("ping", {});
			return peer;
		}),
		joinPeer(rig, room, { name: "Watcher" }),
	]);
	const entering = await Promise.all(
		[0, 1, 2].map(async (i) => {
			const peer = await connectPeer(rig, room, { name: `Guest ${i}` });
			return { peer, refused: await enterLikeAClient(peer, 1000 * (i + 1)) };
		}),
	);
	for (const { refused } of entering) assert.deepEqual(refused, []);
	// Every tile resizes at once: one layer choice per video consumer, plus pings, from each watcher.
	for (const watcher of [ana, bia]) {
		await eventually(
			() => watcher.serverRequests.filter((r) => r.method === "newConsumer").length === 9,
			"the watcher consumes everyone's three producers",
		);
		const videos = watcher.serverRequests
			.filter((r) => r.method === "newConsumer" && (r.data as NewConsumer).kind === "video")
			.map((r) => (r.data as NewConsumer).id);
		const burst = [
			...videos.flatMap((consumerId) => [
				watcher.request("setConsumerPreferredLayers", { consumerId, spatialLayer: 0 }),
				watcher.request("setConsumerPreferredLayers", { consumerId, spatialLayer: 2, temporalLayer: 2 }),
			]),
			...Array.from({ length: 5 }, () => watcher.request("ping", {})),
		];
		assert.deepEqual(await refusals(burst), []);
	}
	for (const { peer } of entering) peer.close();
	ana.close();
	bia.close();
});
