import assert from "node:assert/strict";
import { test } from "node:test";
import type { PeerRole, RenewTokenResponse } from "@mindmeet/protocol";
import {
	afterRenewalFailure,
	type Credentials,
	renewDelay,
	renewDelayFor,
	renewMinDelayMs,
	renewRetryMs,
	statusOf,
	type Timers,
	TokenRenewal,
	tokenExpiresAt,
} from "../src/call/renewal.ts";

/** An unsigned JWT-shaped token with this payload (the client never checks signatures). */
function jwt(payload: Record<string, unknown>): string {
	const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
	return `${part({ alg: "HS256", typ: "JWT" })}.${part(payload)}.signature`;
}

test("the token's exp is read from its payload, in ms; anything else is no expiry", () => {
	assert.equal(tokenExpiresAt(jwt({ exp: 1_800_000_000, peerId: "p", name: "João 🎉" })), 1_800_000_000_000);
	assert.equal(tokenExpiresAt(jwt({ peerId: "p" })), undefined);
	assert.equal(tokenExpiresAt(jwt({ exp: "soon" })), undefined);
	assert.equal(tokenExpiresAt("not-a-token"), undefined);
	assert.equal(tokenExpiresAt("a.%%%.c"), undefined);
	assert.equal(tokenExpiresAt(""), undefined);
});

test("renew at half of the remaining life, never sooner than the minimum nor later than a timer can wait", () => {
	const now = 1_000_000;
	assert.equal(renewDelay(now + 600_000, now), 300_000, "a 10-minute guest token: after 5 minutes");
	assert.equal(renewDelay(now + 20_000, now), 10_000);
	assert.equal(renewDelay(now + 500, now), renewMinDelayMs, "about to expire: soon, not in a loop");
	assert.equal(renewDelay(now - 60_000, now), renewMinDelayMs, "expired already: still try once");
	assert.equal(renewDelay(now + 365 * 86_400_000, now), 2 ** 31 - 1);
});

test("a freshly issued token is renewed at half of its own lifetime, whatever this clock says", () => {
	const iat = 1_800_000_000;
	const token = jwt({ iat, exp: iat + 600 });
	const serverNow = iat * 1000;
	assert.equal(renewDelayFor(token, serverNow, true), 300_000);
	assert.equal(renewDelayFor(token, serverNow + 3_600_000, true), 300_000, "a clock an hour fast does not loop");
	assert.equal(renewDelayFor(token, serverNow - 3_600_000, true), 300_000, "nor one an hour slow");
	assert.equal(renewDelayFor(token, serverNow + 100_000, false), 250_000, "a stored token: half of what is left");
	assert.equal(renewDelayFor(jwt({ exp: iat + 600 }), serverNow, true), 300_000, "no iat: by this clock");
	assert.equal(renewDelayFor("opaque", serverNow, true), undefined, "no expiry: nothing to schedule");
});

test("401, 403 and 404 stop renewing; 503 and network errors retry in about 10 s", () => {
	assert.equal(afterRenewalFailure(401), "stop");
	assert.equal(afterRenewalFailure(403), "stop");
	assert.equal(afterRenewalFailure(404), "stop");
	assert.deepEqual(afterRenewalFailure(503), { retryInMs: renewRetryMs });
	assert.deepEqual(afterRenewalFailure(500), { retryInMs: renewRetryMs });
	assert.deepEqual(afterRenewalFailure(undefined), { retryInMs: renewRetryMs });
	assert.equal(renewRetryMs, 10_000);
	assert.equal(statusOf(Object.assign(new Error("x"), { status: 503 })), 503);
	assert.equal(statusOf(new TypeError("Failed to fetch")), undefined);
});

/** Timers run by hand: `fire()` runs the one pending timer and says after how long it was set. */
function manualTimers() {
	const pending = new Map<number, { callback: () => void; ms: number }>();
	let next = 0;
	const timers: Timers = {
		set: (callback, ms) => {
			pending.set(++next, { callback, ms });
			return next;
		},
		clear: (handle) => {
			pending.delete(handle as number);
		},
	};
	return {
		timers,
		pendingDelays: () => [...pending.values()].map((timer) => timer.ms),
		fire: () => {
			const [id, timer] = [...pending.entries()][0] ?? [];
			assert.ok(id !== undefined && timer, "a timer is pending");
			pending.delete(id);
			timer.callback();
			return timer.ms;
		},
	};
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function fixture(answers: (() => Promise<RenewTokenResponse>)[]) {
	const now = 1_000_000;
	const clock = manualTimers();
	const sent: string[] = [];
	const renewed: { credentials: Credentials; role: PeerRole }[] = [];
	const renewal = new TokenRenewal({
		credentials: { token: jwt({ exp: (now + 600_000) / 1000 }), peerId: "peer-1" },
		renew: (token) => {
			sent.push(token);
			const answer = answers.shift();
			assert.ok(answer, "no unexpected renewal");
			return answer();
		},
		onRenewed: (credentials, role) => renewed.push({ credentials, role }),
		now: () => now,
		timers: clock.timers,
	});
	return { now, clock, sent, renewed, renewal };
}

const refusal = (status: number) => () => Promise.reject(Object.assign(new Error(`status ${status}`), { status }));

test("renewal runs while connected, uses the newest token each time and keeps it", async () => {
	const second = jwt({ iat: 1_000, exp: 1_000 + 1_200 });
	const third = jwt({ iat: 1_300, exp: 1_300 + 2_400 });
	const { clock, sent, renewed, renewal } = fixture([
		async () => ({ token: second, peerId: "peer-1", role: "guest", expiresAt: 1_000_000 + 1_200_000 }),
		async () => ({ token: third, peerId: "peer-1", role: "host", expiresAt: 1_000_000 + 2_400_000 }),
	]);
	const first = renewal.token;
	assert.deepEqual(clock.pendingDelays(), [300_000], "half of the 10 minutes left");
	renewal.setConnected(true);
	assert.equal(clock.fire(), 300_000);
	await settle();
	assert.equal(renewal.token, second);
	assert.deepEqual(clock.pendingDelays(), [600_000], "the next at half of the new token's lifetime");
	clock.fire();
	await settle();
	assert.deepEqual(sent, [first, second], "each renewal presents the newest token");
	assert.equal(renewal.token, third);
	assert.deepEqual(
		renewed.map((entry) => [entry.credentials.token, entry.role]),
		[
			[second, "guest"],
			[third, "host"],
		],
	);
});

test("a renewal due while reconnecting waits for the connection; renewNow (became host) goes at once", async () => {
	const { clock, sent, renewal } = fixture([
		async () => ({ token: jwt({ exp: 2_000 }), peerId: "peer-1", role: "host", expiresAt: 2_000_000 }),
	]);
	clock.fire();
	assert.equal(sent.length, 0, "not connected: nothing sent");
	renewal.setConnected(true);
	assert.equal(sent.length, 1, "sent as soon as the call is back");
	await settle();
	assert.equal(renewal.credentials.peerId, "peer-1");
});

test("503 retries in 10 s with the same token; 401 stops for good (the call goes on)", async () => {
	const { clock, sent, renewal } = fixture([refusal(503), refusal(401)]);
	renewal.setConnected(true);
	renewal.renewNow();
	await settle();
	assert.deepEqual(clock.pendingDelays(), [renewRetryMs]);
	assert.equal(clock.fire(), renewRetryMs);
	await settle();
	assert.equal(sent.length, 2);
	assert.equal(sent[0], sent[1]);
	assert.ok(renewal.stopped);
	assert.deepEqual(clock.pendingDelays(), [], "nothing more is scheduled");
	renewal.renewNow();
	assert.equal(sent.length, 2, "stopped means stopped");
});

for (const status of [403, 404]) {
	test(`${status} stops renewing and keeps the credentials`, async () => {
		const { clock, renewal } = fixture([refusal(status)]);
		const before = renewal.credentials;
		renewal.setConnected(true);
		renewal.renewNow();
		await settle();
		assert.ok(renewal.stopped);
		assert.equal(renewal.credentials, before);
		assert.deepEqual(clock.pendingDelays(), []);
	});
}

test("after stop() a late answer is not kept", async () => {
	let answer: (value: RenewTokenResponse) => void = () => {};
	const { renewed, renewal } = fixture([() => new Promise((resolve) => (answer = resolve))]);
	renewal.setConnected(true);
	renewal.renewNow();
	const before = renewal.token;
	renewal.stop();
	answer({ token: "late", peerId: "peer-1", role: "guest", expiresAt: 0 });
	await settle();
	assert.equal(renewal.token, before);
	assert.equal(renewed.length, 0);
});
