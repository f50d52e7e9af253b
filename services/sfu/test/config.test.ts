import assert from "node:assert/strict";
import { test } from "node:test";
import { loadSfuConfig } from "../src/config.ts";

const base = { REDIS_URL: "redis://127.0.0.1:6379" };

test("room lifetime settings: defaults, decimal seconds, and clear errors for bad values", () => {
	const defaults = loadSfuConfig(base);
	assert.equal(defaults.hostHandoverGraceMs, 10_000);
	assert.equal(defaults.roomOccupiedTtlMs, 120_000);
	assert.equal(defaults.roomGraceMs, 60_000);

	const tuned = loadSfuConfig({ ...base, HOST_HANDOVER_GRACE_SECONDS: "0", ROOM_GRACE_SECONDS: "0.5" });
	assert.equal(tuned.hostHandoverGraceMs, 0, "0 hands over at once even when the socket only dropped");
	assert.equal(tuned.roomGraceMs, 500);

	for (const [name, value] of [
		["HOST_HANDOVER_GRACE_SECONDS", "-1"],
		["HOST_HANDOVER_GRACE_SECONDS", "ten"],
		["ROOM_OCCUPIED_TTL_SECONDS", "5"],
		["ROOM_GRACE_SECONDS", "0"],
		["ROOM_GRACE_SECONDS", "1e3"],
	] as const) {
		assert.throws(() => loadSfuConfig({ ...base, [name]: value }), new RegExp(`^Error: ${name} must be`));
	}
});
