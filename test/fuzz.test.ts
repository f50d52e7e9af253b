/**
 * A short seeded fuzz run (issue 9) against the real processes: hostile
 * protoo frames and HTTP requests must never take the SFU or the API down,
 * never get a 5xx or an `internal` error, never change Redis when refused,
 * and leave the room working. The full run is `npm run fuzz`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runFuzz } from "../scripts/fuzz/run.ts";

// A fixed seed, so a failure here replays the same way (FUZZ_SEED overrides it).
const seed = Number(process.env.FUZZ_SEED ?? 20261130);

describe("fuzzing (short run)", { timeout: 300_000 }, () => {
	it(`survives 500 protoo frames and 500 HTTP requests, seed ${seed}`, async () => {
		const report = await runFuzz({ seed, protooMessages: 500, protooConnections: 5, httpRequests: 500 });
		assert.ok(report.protoo.sent >= 500, `only ${report.protoo.sent} protoo frames sent`);
		assert.ok(report.http.sent >= 500, `only ${report.http.sent} HTTP requests sent`);
		assert.ok(report.http.routes > 5, `only ${report.http.routes} routes in the OpenAPI document`);
		assert.ok(report.http.refusedBatchesCompared > 0, "no batch of refused requests was compared with Redis");
		assert.ok(report.protoo.controlPings.ok > 0, "the control peer never answered a ping");
		assert.equal(report.protoo.freshPeerJoined, true, "a fresh peer could not join after the run");
		assert.deepEqual(report.failures, [], `seed ${seed}:\n${report.failures.join("\n")}`);
	});
});
