/**
 * GET /stats: what the workers hold, counted from their own dumps. The soak
 * benchmark reads it to find leaks, so it must count real objects and fall
 * back to zero when the people are gone.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { MediaObjectCounts } from "../src/workers/worker-pool.ts";
import { createRoom, eventually, joinPeer, opusParameters, type Rig, startRig } from "./support.ts";

interface Stats {
	rooms: number;
	peers: number;
	mediasoup: MediaObjectCounts;
}

let rig: Rig;
before(async () => {
	rig = await startRig({ workers: 2 });
});
after(async () => {
	await rig.close();
});

async function stats(): Promise<Stats> {
	const response = await fetch(`http://127.0.0.1:${rig.sfu.port}/stats`);
	assert.equal(response.status, 200);
	return (await response.json()) as Stats;
}

test("/stats counts the routers, transports, producers and consumers the workers hold, and zero once everyone left", async () => {
	const empty = await stats();
	assert.deepEqual(empty.mediasoup, { workers: 2, routers: 0, transports: 0, producers: 0, consumers: 0 });

	const room = await createRoom(rig);
	const alice = await joinPeer(rig, room, { name: "Alice" });
	const bob = await joinPeer(rig, room, { name: "Bob" });
	const send = await alice.request("createWebRtcTransport", { direction: "send" });
	await alice.request("produce", {
		transportId: send.id,
		kind: "audio",
		source: "mic",
		rtpParameters: opusParameters(1111),
	});
	await bob.serverRequest("newConsumer");

	const busy = await stats();
	assert.equal(busy.rooms, 1);
	assert.equal(busy.peers, 2);
	// One router per room; Alice's send and recv transports and Bob's recv transport.
	assert.equal(busy.mediasoup.routers, 1);
	assert.equal(busy.mediasoup.transports, 3);
	assert.equal(busy.mediasoup.producers, 1);
	assert.equal(busy.mediasoup.consumers, 1);

	alice.close();
	bob.close();
	await eventually(async () => (await stats()).rooms === 0, "the room closes");
	const after = await stats();
	assert.deepEqual(after.mediasoup, { workers: 2, routers: 0, transports: 0, producers: 0, consumers: 0 });
});

test("/stats is the only other route: anything else is 404", async () => {
	const response = await fetch(`http://127.0.0.1:${rig.sfu.port}/stats/more`);
	assert.equal(response.status, 404);
});
