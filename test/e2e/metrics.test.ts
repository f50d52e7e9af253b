/**
 * Metrics after a real call: two Chromium people with fake camera and
 * microphone, through the real API and SFU processes, then both /metrics
 * scraped as Prometheus would. The gauges match the call, the traffic
 * counters are above zero and growing (and never go down when someone
 * leaves), the join and the admission are counted, a refused connection is
 * counted by reason, /metrics wants the admin token, and both health
 * endpoints say 503 once Redis is gone.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { expectMediaFlowing } from "@mindmeet/testing/browser";
import { openChat, sendChat, waitForChatMessage } from "@mindmeet/testing/chat";
import { answerKnock, createRoom, firstFrame, knock, tile } from "@mindmeet/testing/flows";
import { metricValue, type Scrape, samplesOf, scrape } from "@mindmeet/testing/prometheus";
import { e2e } from "./harness.ts";

const adminToken = "e2e-metrics-admin-token-0123456789";
const meet = e2e({ env: { ADMIN_TOKEN: adminToken } });

const apiMetrics = () => scrape(`${meet.stack.url}/metrics`, adminToken);
const sfuMetrics = () => scrape(`http://127.0.0.1:${meet.stack.sfuPort}/metrics`);

/** Scrape until `check` holds: the SFU creates consumers just after a join is answered. Bounded tries. */
async function sfuMetricsWhen(what: string, check: (scrape: Scrape) => boolean): Promise<Scrape> {
	let last: Scrape | undefined;
	for (let attempt = 0; attempt < 120; attempt++) {
		last = await sfuMetrics();
		if (check(last)) return last;
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
	throw new Error(
		`never happened: ${what}\n${last?.text
			.split("\n")
			.filter((line) => line.startsWith("mindmeet_sfu"))
			.join("\n")}`,
	);
}

const bytes = (s: Scrape, direction: string) => metricValue(s, "mindmeet_sfu_transport_bytes_total", { direction });
const packets = (s: Scrape, direction: string, kind: string) =>
	metricValue(s, "mindmeet_sfu_rtp_packets_total", { direction, kind });
const refusals = (s: Scrape, reason: string) =>
	samplesOf(s, "mindmeet_sfu_refusals_total", { reason }).reduce((sum, sample) => sum + sample.value, 0);
const knockOutcome = (s: Scrape, outcome: string) =>
	samplesOf(s, "mindmeet_knock_outcomes_total", { outcome }).reduce((sum, sample) => sum + sample.value, 0);

test("a two-person call shows in both /metrics with real values", async () => {
	const apiBefore = await apiMetrics();
	const sfuBefore = await sfuMetrics();

	const host = await meet.person();
	const guest = await meet.person();
	const link = await createRoom(host, meet.stack.url, "Ana");
	await knock(guest, link, "Bia");
	await answerKnock(host, "Bia", "admit");
	await firstFrame(host, "Bia");
	await firstFrame(guest, "Ana");
	await expectMediaFlowing(host, { audio: true, video: true });
	await expectMediaFlowing(guest, { audio: true, video: true });
	await openChat(host);
	await sendChat(host, "métricas, não texto");
	await openChat(guest);
	await waitForChatMessage(guest, "métricas, não texto");

	// Each person sends mic and camera and receives the other's: 2 + 2 producers, 2 + 2 consumers,
	// a send and a receive transport each.
	const inCall = await sfuMetricsWhen(
		"the call's objects are all in place",
		(s) =>
			metricValue(s, "mindmeet_sfu_rooms") === 1 &&
			metricValue(s, "mindmeet_sfu_peers") === 2 &&
			metricValue(s, "mindmeet_sfu_producers", { kind: "audio" }) === 2 &&
			metricValue(s, "mindmeet_sfu_producers", { kind: "video" }) === 2 &&
			metricValue(s, "mindmeet_sfu_consumers", { kind: "audio" }) === 2 &&
			metricValue(s, "mindmeet_sfu_consumers", { kind: "video" }) === 2 &&
			metricValue(s, "mindmeet_sfu_transports") === 4,
	);
	for (const direction of ["in", "out"]) {
		assert.ok(bytes(inCall, direction) > 0, `bytes ${direction}`);
		for (const kind of ["audio", "video"])
			assert.ok(packets(inCall, direction, kind) > 0, `${kind} packets ${direction}`);
	}
	assert.ok(
		metricValue(inCall, "mindmeet_sfu_join_seconds_count") -
			metricValue(sfuBefore, "mindmeet_sfu_join_seconds_count") >=
			2,
		"both joins are timed",
	);
	assert.ok(
		metricValue(inCall, "mindmeet_sfu_join_seconds_sum") > metricValue(sfuBefore, "mindmeet_sfu_join_seconds_sum"),
	);
	assert.equal(
		metricValue(inCall, "mindmeet_sfu_chat_messages_total") -
			metricValue(sfuBefore, "mindmeet_sfu_chat_messages_total"),
		1,
	);
	assert.ok(
		metricValue(inCall, "mindmeet_sfu_worker_cpu_seconds_total") >
			metricValue(sfuBefore, "mindmeet_sfu_worker_cpu_seconds_total"),
		"the worker spent CPU on the call",
	);
	assert.equal(metricValue(inCall, "mindmeet_sfu_stats_incomplete"), 0);

	// Media keeps flowing: the counters grow from one scrape to the next.
	const later = await sfuMetricsWhen(
		"the traffic counters grow",
		(s) =>
			bytes(s, "in") > bytes(inCall, "in") &&
			bytes(s, "out") > bytes(inCall, "out") &&
			packets(s, "in", "video") > packets(inCall, "in", "video") &&
			packets(s, "out", "audio") > packets(inCall, "out", "audio"),
	);

	const api = await apiMetrics();
	assert.equal(knockOutcome(api, "admitted") - knockOutcome(apiBefore, "admitted"), 1);
	assert.equal(
		metricValue(api, "mindmeet_rooms_created_total") - metricValue(apiBefore, "mindmeet_rooms_created_total"),
		1,
	);
	assert.equal(
		metricValue(api, "mindmeet_knock_wait_seconds_count", { outcome: "admitted" }) -
			samplesOf(apiBefore, "mindmeet_knock_wait_seconds_count", { outcome: "admitted" }).reduce(
				(s, x) => s + x.value,
				0,
			),
		1,
	);
	assert.equal(metricValue(api, "mindmeet_redis_up"), 1);
	assert.equal(metricValue(api, "mindmeet_sfu_nodes_live"), 1);

	// Someone leaves: fewer objects, but the totals never go back.
	await guest.getByTestId("leave").click();
	await tile(host, "Bia").waitFor({ state: "detached" });
	const afterLeave = await sfuMetricsWhen(
		"the guest's objects are gone",
		(s) => metricValue(s, "mindmeet_sfu_peers") === 1 && metricValue(s, "mindmeet_sfu_consumers") === 0,
	);
	assert.equal(metricValue(afterLeave, "mindmeet_sfu_producers"), 2);
	assert.equal(metricValue(afterLeave, "mindmeet_sfu_transports"), 2);
	for (const direction of ["in", "out"]) {
		assert.ok(bytes(afterLeave, direction) >= bytes(later, direction), `bytes ${direction} never decrease`);
	}
});

test("a connection with a forged token is refused, and counted as token-invalid", async () => {
	const before = await sfuMetrics();
	const socket = new WebSocket(
		`ws://127.0.0.1:${meet.stack.sfuPort}/?roomId=abcdefghij&token=forged.token.here`,
		"protoo",
	);
	const refusal = await new Promise<string>((resolve, reject) => {
		socket.addEventListener("message", (event) => {
			const message = JSON.parse(String(event.data)) as { method?: string; data?: { reason?: string } };
			if (message.method === "refused") resolve(message.data?.reason ?? "");
		});
		socket.addEventListener("close", () => reject(new Error("closed without a refused notification")));
	});
	assert.equal(refusal, "token-invalid");
	const after = await sfuMetrics();
	assert.equal(refusals(after, "token-invalid") - refusals(before, "token-invalid"), 1);
});

test("/metrics of the API wants the admin token: 401 without it or with another", async () => {
	const attempts: Record<string, string>[] = [{}, { authorization: "Bearer another-token-another-token" }];
	for (const headers of attempts) {
		const response = await fetch(`${meet.stack.url}/metrics`, { headers });
		assert.equal(response.status, 401);
		assert.doesNotMatch(await response.text(), /mindmeet_/);
	}
});

test("health: 200 with Redis and the node; 503 from the API and the SFU with Redis stopped; 200 again after", async () => {
	const apiHealth = async () => {
		const response = await fetch(`${meet.stack.url}/api/health`);
		return { status: response.status, body: (await response.json()) as Record<string, unknown> };
	};
	const sfuHealth = async () => {
		const response = await fetch(`http://127.0.0.1:${meet.stack.sfuPort}/health`);
		return { status: response.status, body: (await response.json()) as Record<string, unknown> };
	};
	assert.deepEqual(await apiHealth(), {
		status: 200,
		body: { ok: true, redis: "up", sfu: { live: 1, nodes: [process.env.SFU_NODE_ID ?? "local"] } },
	});
	assert.equal((await sfuHealth()).status, 200);

	meet.stack.kill("redis", "SIGKILL");
	try {
		const api = await apiHealth();
		assert.deepEqual(api, { status: 503, body: { ok: false, redis: "down", sfu: null } });
		const sfu = await sfuHealth();
		assert.equal(sfu.status, 503);
		assert.equal(sfu.body.redis, "down");
		assert.equal(metricValue(await apiMetrics(), "mindmeet_redis_up"), 0);
		assert.equal(metricValue(await sfuMetrics(), "mindmeet_redis_up"), 0);
	} finally {
		await meet.stack.restartRedis();
	}
	// The new Redis is empty: the SFU registers again on its next heartbeat.
	let last = await apiHealth();
	for (let attempt = 0; attempt < 120 && last.status !== 200; attempt++) {
		await new Promise((resolve) => setTimeout(resolve, 250));
		last = await apiHealth();
	}
	assert.equal(last.status, 200, JSON.stringify(last.body));
	assert.equal((await sfuHealth()).status, 200);
});
