/**
 * The router capabilities a node publishes for browsers that are still
 * waiting to be let in (they load their media device with them and skip
 * `getRouterRtpCapabilities` after joining) must be exactly what the rooms'
 * real routers answer, on every worker.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { RouterRtpCapabilities, sfuRtpCapabilitiesKey } from "@mindmeet/protocol";
import { parseRecord } from "@mindmeet/protocol/records";
import { createRoom, eventually, joinPeer, type Rig, startRig, type TestPeer } from "./support.ts";

let rig: Rig;
before(async () => {
	rig = await startRig({ workers: 2, env: { SFU_HEARTBEAT_SECONDS: "0.2" } });
});
after(async () => {
	await rig?.close();
});

async function published(): Promise<RouterRtpCapabilities | undefined> {
	return parseRecord(RouterRtpCapabilities, await rig.redis.hGet(sfuRtpCapabilitiesKey, rig.sfu.nodeId));
}

test("the published capabilities are what every room's router answers, on both workers", async () => {
	const capabilities = await published();
	assert.ok(capabilities, "the node publishes well-formed capabilities when it starts");
	assert.ok(capabilities.codecs?.some((codec) => codec.mimeType === "video/VP8"));
	assert.ok(capabilities.codecs?.some((codec) => codec.mimeType === "audio/opus"));
	// Rooms go to the least-loaded worker: rooms opened one after another, with someone in each, use both.
	const peers: TestPeer[] = [];
	for (let i = 0; i < 4; i++) peers.push(await joinPeer(rig, await createRoom(rig)));
	try {
		const routerWorkers = new Set<number>();
		for (const peer of peers) {
			assert.deepStrictEqual(await peer.request("getRouterRtpCapabilities", {}), capabilities);
		}
		for (const room of rig.sfu.rooms.rooms.values()) {
			routerWorkers.add(room.worker.index);
			assert.deepStrictEqual(room.router.rtpCapabilities, capabilities);
		}
		assert.equal(routerWorkers.size, 2, "the rooms' routers are on both workers");
	} finally {
		for (const peer of peers) peer.close();
	}
});

test("a Redis that lost them has them back with the next heartbeat", async () => {
	const before = await published();
	await rig.redis.del(sfuRtpCapabilitiesKey);
	await eventually(async () => (await published()) !== undefined, "capabilities published again");
	assert.deepStrictEqual(await published(), before);
});

test("a node that shuts down takes its capabilities out of Redis with its status", async () => {
	await rig.sfu.close();
	assert.equal(await rig.redis.hGet(sfuRtpCapabilitiesKey, rig.sfu.nodeId), null);
});
