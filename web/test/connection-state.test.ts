import assert from "node:assert/strict";
import { test } from "node:test";
import {
	type ConnectionEvent,
	type ConnectionState,
	isInCall,
	isTerminal,
	nextConnectionState,
} from "../src/call/connection-state.ts";
import { callBackoff, RetryStreak } from "../src/call/reconnect-policy.ts";

const run = (events: ConnectionEvent[], from: ConnectionState = "connecting") =>
	events.reduce<ConnectionState>(nextConnectionState, from);

test("first join: connecting → connected; failed first tries stay connecting", () => {
	assert.equal(run(["joined"]), "connected");
	assert.equal(run(["lost", "lost", "lost"]), "connecting");
	assert.equal(run(["lost", "lost", "joined"]), "connected");
});

test("a drop: connected → reconnecting, retries stay reconnecting, back → connected", () => {
	assert.equal(run(["joined", "lost"]), "reconnecting");
	assert.equal(run(["joined", "lost", "lost", "lost"]), "reconnecting");
	assert.equal(run(["joined", "lost", "lost", "joined"]), "connected");
	assert.ok(isInCall(run(["joined", "lost"])), "the call stays on screen while reconnecting");
});

test("a rejoin on the same connection (mediaReset) keeps connected", () => {
	assert.equal(run(["joined", "joined"]), "connected");
});

test("the policy giving up → disconnected, which nothing changes any more", () => {
	assert.equal(run(["joined", "lost", "gave-up"]), "disconnected");
	assert.equal(run(["lost", "gave-up"]), "disconnected");
	assert.equal(run(["joined", "lost", "gave-up", "joined", "lost"]), "disconnected");
	assert.ok(isTerminal("disconnected"));
	assert.ok(!isInCall("disconnected"));
});

test("refused, kicked and room closed end the call for good, from any live state", () => {
	for (const final of ["refused", "kicked", "room-closed", "left"] as const) {
		for (const before of [[], ["joined"], ["joined", "lost"]] as ConnectionEvent[][]) {
			assert.equal(run([...before, final]), "ended", `${before.join(",")} then ${final}`);
		}
		assert.equal(run(["joined", final, "lost", "joined"]), "ended", "nothing after an end counts");
	}
});

test("refused is not unavailable: only a refusal ends, any close without one is retried", () => {
	// A socket closed with code 4000 by an SFU that shuts down, an upgrade answered 503, a proxy's
	// 1011/1013, a silent socket: all are "lost", which never ends the call by itself.
	let state = run(["joined"]);
	for (let i = 0; i < 50; i++) state = nextConnectionState(state, "lost");
	assert.equal(state, "reconnecting");
	assert.equal(nextConnectionState(state, "refused"), "ended");
});

test("state machine and policy together: a 10 s cut comes back, a 60 s one gives up", () => {
	/** Simulates tries every (delay + up to the 4 s open timeout) until `networkBackAt`. */
	const simulate = (networkBackAt: number): { state: ConnectionState; at: number } => {
		const streak = new RetryStreak(callBackoff, () => 0.5);
		let state = run(["joined", "lost"]);
		let now = 0;
		for (;;) {
			const delay = streak.failed(now);
			if (delay === null) return { state: nextConnectionState(state, "gave-up"), at: now };
			now += delay;
			if (now >= networkBackAt) {
				state = nextConnectionState(state, "joined");
				streak.succeeded();
				return { state, at: now };
			}
			now += 4_000;
			state = nextConnectionState(state, "lost");
		}
	};
	const short = simulate(10_000);
	assert.equal(short.state, "connected");
	assert.ok(short.at < 10_000 + 4_000 + callBackoff.maxMs, `back at ${short.at}`);
	assert.equal(simulate(60_000).state, "disconnected");
});
