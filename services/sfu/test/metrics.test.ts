/**
 * GET /metrics and GET /health on the SFU's internal port, with the real
 * worker and a real Redis: the gauges follow what the node holds, joins,
 * chat and refusals are counted, no room or peer id ever becomes a label,
 * and health says 503 when Redis is gone. Bytes and packets need real media
 * from a browser: test/e2e/metrics.test.ts checks them after a Chromium call.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { metricValue, parsePrometheus, type Scrape, samplesOf } from "@mindmeet/testing/prometheus";
import {
	connectPeer,
	createRoom,
	eventually,
	joinPeer,
	mint,
	opusParameters,
	type Rig,
	refusalOf,
	signalingUrl,
	startRig,
} from "./support.ts";

describe("SFU metrics and health", { timeout: 120_000 }, () => {
	let rig: Rig;
	const base = () => `http://127.0.0.1:${rig.sfu.port}`;

	before(async () => {
		rig = await startRig({ workers: 2, env: { ROOM_MAX_PEERS: "2" } });
	});
	after(async () => {
		await rig?.close();
	});

	async function metrics(): Promise<Scrape> {
		const response = await fetch(`${base()}/metrics`);
		assert.equal(response.status, 200);
		assert.match(String(response.headers.get("content-type")), /^text\/plain; version=0\.0\.4/);
		return parsePrometheus(await response.text());
	}

	async function health(): Promise<{ status: number; body: Record<string, unknown> }> {
		const response = await fetch(`${base()}/health`);
		return { status: response.status, body: (await response.json()) as Record<string, unknown> };
	}

	test("an idle node: no rooms, every worker alive with its CPU time, Redis up, process metrics", async () => {
		const scrape = await metrics();
		assert.equal(metricValue(scrape, "mindmeet_sfu_rooms"), 0);
		assert.equal(metricValue(scrape, "mindmeet_sfu_peers"), 0);
		assert.equal(metricValue(scrape, "mindmeet_sfu_transports"), 0);
		assert.equal(metricValue(scrape, "mindmeet_sfu_workers_alive"), 2);
		assert.equal(metricValue(scrape, "mindmeet_redis_up"), 1);
		for (const worker of ["0", "1"]) {
			for (const mode of ["user", "system"]) {
				assert.equal(samplesOf(scrape, "mindmeet_sfu_worker_cpu_seconds_total", { worker, mode }).length, 1);
			}
		}
		// Starting a worker costs CPU; the sum of what both report is more than nothing.
		assert.ok(metricValue(scrape, "mindmeet_sfu_worker_cpu_seconds_total") > 0);
		assert.equal(scrape.types.get("mindmeet_sfu_worker_cpu_seconds_total"), "counter");
		assert.equal(scrape.types.get("mindmeet_sfu_transport_bytes_total"), "counter");
		assert.equal(scrape.types.get("mindmeet_sfu_join_seconds"), "histogram");
		assert.ok(metricValue(scrape, "mindmeet_process_cpu_user_seconds_total") > 0, "process metrics, prefixed");
		assert.equal(metricValue(scrape, "mindmeet_sfu_stats_incomplete"), 0);
	});

	test("a call's rooms, peers, transports, producers and consumers; joins and chat counted; no ids in labels", async () => {
		const before = await metrics();
		const joinsBefore = metricValue(before, "mindmeet_sfu_join_seconds_count");
		const chatBefore = metricValue(before, "mindmeet_sfu_chat_messages_total");

		const room = await createRoom(rig);
		const alice = await joinPeer(rig, room, { name: "Alice", role: "host" });
		const bob = await joinPeer(rig, room, { name: "Bob" });
		const send = await alice.request("createWebRtcTransport", { direction: "send" });
		await alice.request("produce", {
			transportId: send.id,
			kind: "audio",
			source: "mic",
			rtpParameters: opusParameters(2222),
		});
		await bob.serverRequest("newConsumer");
		await alice.request("sendChat", { text: "a secret that must never be a label" });

		const busy = await metrics();
		assert.equal(metricValue(busy, "mindmeet_sfu_rooms"), 1);
		assert.equal(metricValue(busy, "mindmeet_sfu_peers"), 2);
		// Alice's send and recv transports and Bob's recv transport.
		assert.equal(metricValue(busy, "mindmeet_sfu_transports"), 3);
		assert.equal(metricValue(busy, "mindmeet_sfu_producers", { kind: "audio" }), 1);
		assert.equal(metricValue(busy, "mindmeet_sfu_producers", { kind: "video" }), 0);
		assert.equal(metricValue(busy, "mindmeet_sfu_consumers", { kind: "audio" }), 1);
		assert.equal(metricValue(busy, "mindmeet_sfu_consumers", { kind: "video" }), 0);
		assert.equal(metricValue(busy, "mindmeet_sfu_join_seconds_count") - joinsBefore, 2, "both joins timed");
		assert.ok(metricValue(busy, "mindmeet_sfu_join_seconds_sum") > 0);
		assert.equal(metricValue(busy, "mindmeet_sfu_chat_messages_total") - chatBefore, 1);
		// Every traffic series exists (zero without RTP), per direction and kind.
		for (const direction of ["in", "out"]) {
			assert.equal(samplesOf(busy, "mindmeet_sfu_transport_bytes_total", { direction }).length, 1);
			for (const kind of ["audio", "video"]) {
				for (const name of [
					"mindmeet_sfu_rtp_packets_total",
					"mindmeet_sfu_rtp_packets_lost_total",
					"mindmeet_sfu_rtcp_nacks_total",
					"mindmeet_sfu_rtcp_plis_total",
				]) {
					assert.equal(samplesOf(busy, name, { direction, kind }).length, 1, `${name} ${direction} ${kind}`);
				}
			}
		}
		assert.equal(metricValue(busy, "mindmeet_sfu_stats_incomplete"), 0, "every object answered its getStats");
		for (const id of [room, alice.peerId, bob.peerId, "a secret"]) {
			assert.ok(!busy.text.includes(id), `${id} appears nowhere in the metrics`);
		}
		const labels = new Set(busy.samples.flatMap((sample) => Object.keys(sample.labels)));
		for (const label of labels) {
			assert.ok(
				[
					"kind",
					"direction",
					"worker",
					"mode",
					"reason",
					"le",
					"version",
					"major",
					"minor",
					"patch",
					"space",
					"type",
				].includes(label),
				label,
			);
		}

		alice.close();
		bob.close();
		await eventually(async () => metricValue(await metrics(), "mindmeet_sfu_rooms") === 0, "the room closes");
		const after = await metrics();
		assert.equal(metricValue(after, "mindmeet_sfu_peers"), 0);
		assert.equal(metricValue(after, "mindmeet_sfu_producers"), 0);
		assert.equal(metricValue(after, "mindmeet_sfu_consumers"), 0);
		assert.equal(metricValue(after, "mindmeet_sfu_transports"), 0);
	});

	test("refusals are counted by reason; a refused connection is not a join", async () => {
		const before = await metrics();
		const refusals = (scrape: Scrape, reason: string) =>
			samplesOf(scrape, "mindmeet_sfu_refusals_total", { reason }).reduce((sum, sample) => sum + sample.value, 0);
		const room = await createRoom(rig);

		assert.equal(await refusalOf(signalingUrl(rig, { roomId: room })), "token-missing");
		assert.equal(await refusalOf(signalingUrl(rig, { roomId: room, token: "not.a.token" })), "token-invalid");
		const { token } = await mint(rig, room);
		assert.equal(await refusalOf(signalingUrl(rig, { roomId: "elsewhere", token })), "wrong-room");
		// ROOM_MAX_PEERS is 2 here.
		const first = await connectPeer(rig, room, { role: "host" });
		const second = await connectPeer(rig, room);
		const third = await mint(rig, room);
		assert.equal(await refusalOf(signalingUrl(rig, { roomId: room, token: third.token })), "room-full");

		const after = await metrics();
		for (const reason of ["token-missing", "token-invalid", "wrong-room", "room-full"]) {
			assert.equal(refusals(after, reason) - refusals(before, reason), 1, reason);
		}
		assert.equal(
			metricValue(after, "mindmeet_sfu_join_seconds_count"),
			metricValue(before, "mindmeet_sfu_join_seconds_count"),
			"connections that never joined are not timed",
		);
		first.close();
		second.close();
		await eventually(async () => metricValue(await metrics(), "mindmeet_sfu_rooms") === 0, "the room closes");
	});

	test("health: 200 with Redis and live workers; 503 once Redis stops, while /metrics keeps answering", async () => {
		const up = await health();
		assert.equal(up.status, 200);
		assert.deepEqual(
			{ ok: up.body.ok, node: up.body.node, redis: up.body.redis, workers: up.body.workers },
			{ ok: true, node: "test-node", redis: "up", workers: { alive: 2, total: 2 } },
		);

		await rig.redisServer.stop();
		try {
			const down = await health();
			assert.equal(down.status, 503);
			assert.equal(down.body.ok, false);
			assert.equal(down.body.redis, "down");
			assert.deepEqual(down.body.workers, { alive: 2, total: 2 });
			const scrape = await metrics();
			assert.equal(metricValue(scrape, "mindmeet_redis_up"), 0);
			assert.equal(metricValue(scrape, "mindmeet_sfu_workers_alive"), 2);
		} finally {
			await rig.redisServer.restart();
		}
		await eventually(async () => (await health()).status === 200, "health comes back with Redis", 400);
	});

	test("other paths and methods on the internal port are 404", async () => {
		for (const [method, path] of [
			["GET", "/metrics/x"],
			["POST", "/metrics"],
			["GET", "/health/x"],
		] as const) {
			const response = await fetch(`${base()}${path}`, { method });
			assert.equal(response.status, 404, `${method} ${path}`);
			await response.arrayBuffer();
		}
	});
});
