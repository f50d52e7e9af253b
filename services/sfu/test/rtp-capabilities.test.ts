/**
 * The router capabilities a node publishes for browsers that are still
 * waiting to be let in (they load their media device with them and skip
 * `getRouterRtpCapabilities` after joining) must be exactly what the rooms'
 * real routers answer, on every worker.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { RouterRtpCapabilities, redisKeys, sfuRtpCapabilitiesKey } from "@mindmeet/protocol";
import { parseRecord } from "@mindmeet/protocol/records";
import { createWorker } from "mediasoup";
import { pino } from "pino";
import { NodeRegistry } from "../src/registry/node-registry.ts";
import { probeRouterRtpCapabilities } from "../src/registry/rtp-capabilities.ts";
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

test("without a live worker to ask, nothing is published and the node still starts its heartbeat", async () => {
	const worker = await createWorker({ workerBin: process.env.MEDIASOUP_WORKER_BIN });
	worker.close();
	const lines: string[] = [];
	const logger = pino({ level: "warn" }, { write: (line: string) => void lines.push(line) });
	assert.equal(await probeRouterRtpCapabilities({ workers: [{ worker }] }, logger), undefined);
	assert.match(lines.join("\n"), /could not read the routers' RTP capabilities/);

	const written: string[] = [];
	const registry = new NodeRegistry({
		store: {
			hSet: async (key: string) => void written.push(key),
			hDel: async () => {},
		},
		status: () => ({ id: "node-x", signalingUrl: "ws://127.0.0.1:1", peers: 0, rooms: 0, workers: 0 }),
		logger,
	});
	await registry.start();
	await registry.stop("node-x");
	assert.deepStrictEqual(written, [redisKeys.sfuNodes]);
});
