import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { redisKeys, type SfuNodeStatus } from "@mindmeet/protocol";
import { findWorkerBin, WorkerUnavailableError } from "../src/workers/worker-pool.ts";
import { connectPeer, createRoom, eventually, type Rig, startRig } from "./support.ts";

let rig: Rig;
before(async () => {
	rig = await startRig({ workers: 2 });
});
after(async () => {
	await rig.close();
});

test("a missing worker binary stops start-up with a message naming MEDIASOUP_WORKER_BIN", () => {
	assert.throws(
		() => findWorkerBin("/nonexistent/mediasoup-worker"),
		(error: unknown) => error instanceof WorkerUnavailableError && /MEDIASOUP_WORKER_BIN/.test(error.message),
	);
});

test("the node publishes itself in Redis with its load", async () => {
	const room = await createRoom(rig);
	const peer = await connectPeer(rig, room);
	await eventually(async () => {
		const json = await rig.redis.hGet(redisKeys.sfuNodes, rig.sfu.nodeId);
		return json !== null && (JSON.parse(json) as SfuNodeStatus).peers === 1;
	}, "the heartbeat reports one peer");
	const status = JSON.parse((await rig.redis.hGet(redisKeys.sfuNodes, rig.sfu.nodeId)) ?? "{}") as SfuNodeStatus;
	assert.equal(status.workers, 2);
	assert.equal(status.signalingUrl, rig.sfu.signalingUrl);
	peer.close();
});

test("rooms spread over workers", async () => {
	const first = await connectPeer(rig, await createRoom(rig));
	const second = await connectPeer(rig, await createRoom(rig));
	const used = new Set([...rig.sfu.rooms.rooms.values()].map((room) => room.worker.index));
	assert.equal(used.size, 2, "two rooms, two workers");
	first.close();
	second.close();
	await eventually(() => rig.sfu.rooms.rooms.size === 0, "both rooms close");
});

test("a worker dying moves its rooms to the least-loaded live worker; the peer stays and is told mediaReset", async () => {
	const room = await createRoom(rig);
	const peer = await connectPeer(rig, room);
	await peer.request("getRouterRtpCapabilities", {});
	const open = rig.sfu.rooms.rooms.get(room);
	assert.ok(open);
	const { index, worker } = open.worker;
	process.kill(worker.pid, "SIGKILL");
	await peer.notification("mediaReset");
	assert.equal(rig.sfu.rooms.rooms.get(room), open, "the room stayed open");
	assert.notEqual(open.worker.index, index, "the other worker was live, so the room is there");
	assert.ok(!open.worker.worker.closed);
	assert.ok(!peer.closed);
	const caps = await peer.request("getRouterRtpCapabilities", {});
	assert.ok(caps.codecs);
	await eventually(() => {
		const replacement = rig.sfu.workers.workers[index];
		return replacement !== undefined && replacement.worker.pid !== worker.pid && !replacement.worker.closed;
	}, "the dead worker was replaced");
	peer.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room closes once empty");
});

test("Redis restarting does not take the SFU down; open rooms keep working and the heartbeat returns", async () => {
	const room = await createRoom(rig);
	const peer = await connectPeer(rig, room);
	await rig.redisServer.restart();
	// Redis restarted empty: the heartbeat must put the node back on its own.
	await eventually(
		async () => {
			try {
				return (await rig.redis.hGet(redisKeys.sfuNodes, rig.sfu.nodeId)) !== null;
			} catch {
				return false;
			}
		},
		"the node re-registers after Redis comes back",
		400,
	);
	const caps = await peer.request("getRouterRtpCapabilities", {});
	assert.ok(caps.codecs);
	peer.close();
});
