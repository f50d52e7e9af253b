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

test("speaking threshold: -55 dBov by default, whole dBov from -127 to 0, anything else refused", () => {
	assert.equal(loadSfuConfig(base).speakingThresholdDbov, -55);
	assert.equal(loadSfuConfig({ ...base, SPEAKING_THRESHOLD_DBOV: "-70" }).speakingThresholdDbov, -70);
	assert.equal(loadSfuConfig({ ...base, SPEAKING_THRESHOLD_DBOV: "-127" }).speakingThresholdDbov, -127);
	assert.equal(loadSfuConfig({ ...base, SPEAKING_THRESHOLD_DBOV: "0" }).speakingThresholdDbov, 0);
	assert.equal(loadSfuConfig({ ...base, SPEAKING_THRESHOLD_DBOV: " " }).speakingThresholdDbov, -55, "blank is unset");
	for (const value of ["-128", "1", "55", "-55.5", "loud", "-1e1", "0x10", "--5"]) {
		assert.throws(
			() => loadSfuConfig({ ...base, SPEAKING_THRESHOLD_DBOV: value }),
			/^Error: SPEAKING_THRESHOLD_DBOV must be an integer from -127 to 0/,
			value,
		);
	}
});

test("heartbeat and signaling keepalive: 5 s and 10 s + 10 s by default, shorter for tests, bad values refused", () => {
	const defaults = loadSfuConfig(base);
	assert.equal(defaults.heartbeatIntervalMs, 5_000);
	assert.equal(defaults.keepaliveIntervalMs, 10_000);
	assert.equal(defaults.keepaliveGraceMs, 10_000);
	const tuned = loadSfuConfig({
		...base,
		SFU_HEARTBEAT_SECONDS: "0.2",
		SIGNALING_KEEPALIVE_SECONDS: "0.5",
		SIGNALING_KEEPALIVE_GRACE_SECONDS: "1.5",
	});
	assert.equal(tuned.heartbeatIntervalMs, 200);
	assert.equal(tuned.keepaliveIntervalMs, 500);
	assert.equal(tuned.keepaliveGraceMs, 1_500);
	for (const [name, value] of [
		// Slower than 5 s and the API would take the node for dead between beats.
		["SFU_HEARTBEAT_SECONDS", "6"],
		["SFU_HEARTBEAT_SECONDS", "0"],
		["SIGNALING_KEEPALIVE_SECONDS", "0"],
		["SIGNALING_KEEPALIVE_GRACE_SECONDS", "soon"],
	] as const) {
		assert.throws(() => loadSfuConfig({ ...base, [name]: value }), new RegExp(`^Error: ${name} must be`));
	}
});

test("caps and request limits: documented defaults, and clear errors for bad values", () => {
	const defaults = loadSfuConfig(base);
	assert.equal(defaults.roomMaxPeers, 50);
	assert.equal(defaults.maxRooms, 200);
	assert.deepEqual(defaults.requestLimits, { burst: 50, perSecond: 20, floodRefusals: 100, floodWindowMs: 10_000 });

	const tuned = loadSfuConfig({
		...base,
		ROOM_MAX_PEERS: "8",
		SFU_MAX_ROOMS: "3",
		SIGNALING_REQUEST_BURST: "10",
		SIGNALING_REQUESTS_PER_SECOND: "5",
		SIGNALING_FLOOD_REFUSALS: "30",
		SIGNALING_FLOOD_WINDOW_SECONDS: "2.5",
	});
	assert.equal(tuned.roomMaxPeers, 8);
	assert.equal(tuned.maxRooms, 3);
	assert.deepEqual(tuned.requestLimits, { burst: 10, perSecond: 5, floodRefusals: 30, floodWindowMs: 2500 });

	for (const [name, value] of [
		["ROOM_MAX_PEERS", "0"],
		["ROOM_MAX_PEERS", "many"],
		["SFU_MAX_ROOMS", "-1"],
		["SIGNALING_REQUEST_BURST", "1.5"],
		["SIGNALING_REQUESTS_PER_SECOND", "0"],
		["SIGNALING_FLOOD_REFUSALS", "0"],
		["SIGNALING_FLOOD_WINDOW_SECONDS", "0"],
	] as const) {
		assert.throws(() => loadSfuConfig({ ...base, [name]: value }), new RegExp(`^Error: ${name} must be`));
	}
});

test("people per router: 16 by default, a whole number from 1 to 1000, anything else refused", () => {
	assert.equal(loadSfuConfig(base).roomPeersPerRouter, 16);
	assert.equal(loadSfuConfig({ ...base, SFU_ROOM_PEERS_PER_ROUTER: "2" }).roomPeersPerRouter, 2);
	assert.equal(loadSfuConfig({ ...base, SFU_ROOM_PEERS_PER_ROUTER: "1000" }).roomPeersPerRouter, 1000);
	assert.equal(loadSfuConfig({ ...base, SFU_ROOM_PEERS_PER_ROUTER: "" }).roomPeersPerRouter, 16, "empty is unset");
	for (const value of ["0", "-2", "1001", "2.5", "many"]) {
		assert.throws(
			() => loadSfuConfig({ ...base, SFU_ROOM_PEERS_PER_ROUTER: value }),
			/^Error: SFU_ROOM_PEERS_PER_ROUTER must be an integer from 1 to 1000/,
			value,
		);
	}
});

test("extra media addresses: none by default, a list of IPs, clear errors for anything else", () => {
	assert.deepEqual(loadSfuConfig(base).extraAddresses, []);
	assert.deepEqual(loadSfuConfig({ ...base, SFU_EXTRA_ADDRESSES: " " }).extraAddresses, [], "blank is unset");
	assert.deepEqual(loadSfuConfig({ ...base, SFU_EXTRA_ADDRESSES: "10.223.0.1, 192.168.1.20,fd00::2" }).extraAddresses, [
		"10.223.0.1",
		"192.168.1.20",
		"fd00::2",
	]);
	for (const value of ["lan", "10.223.0.1,", "10.223.0.300", "0.0.0.0", "::", "host.local", "10.0.0.1/24"]) {
		assert.throws(
			() => loadSfuConfig({ ...base, SFU_EXTRA_ADDRESSES: value }),
			/^Error: SFU_EXTRA_ADDRESSES must be a comma-separated list of IP addresses/,
			value,
		);
	}
	for (const value of ["10.223.0.1,10.223.0.1", "127.0.0.1"]) {
		assert.throws(
			() => loadSfuConfig({ ...base, SFU_EXTRA_ADDRESSES: value }),
			/^Error: SFU_EXTRA_ADDRESSES names .* twice/,
			value,
		);
	}
	assert.throws(
		() => loadSfuConfig({ ...base, SFU_LISTEN_IP: "0.0.0.0", SFU_EXTRA_ADDRESSES: "10.223.0.1" }),
		/^Error: SFU_EXTRA_ADDRESSES needs a specific SFU_LISTEN_IP/,
	);
});
