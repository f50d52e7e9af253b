import assert from "node:assert/strict";
import { test } from "node:test";
import {
	type BackoffOptions,
	callBackoff,
	lobbyBackoff,
	nextRetryDelay,
	RetryStreak,
} from "../src/call/reconnect-policy.ts";

const options: BackoffOptions = { baseMs: 250, maxMs: 2000, giveUpAfterMs: 30_000 };
const low = () => 0;
const high = () => 0.999_999;

test("the first retry goes at once, later ones wait longer and longer up to the ceiling", () => {
	assert.equal(nextRetryDelay(0, 0, options, high), 0);
	const ceilings = [1, 2, 3, 4, 5, 8].map((retry) => nextRetryDelay(retry, 0, options, high));
	assert.deepEqual(ceilings, [250, 500, 1000, 2000, 2000, 2000]);
	for (let retry = 2; retry < 6; retry++) {
		const before = nextRetryDelay(retry - 1, 0, options, low) ?? -1;
		const after = nextRetryDelay(retry, 0, options, low) ?? -1;
		assert.ok(after >= before, `retry ${retry} waits at least as long as the one before`);
	}
});

test("jitter keeps every delay between half and all of its ceiling", () => {
	for (let retry = 1; retry < 10; retry++) {
		const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** (retry - 1));
		for (const value of [0, 0.1, 0.5, 0.9, 0.999_999, -3, 7]) {
			const delay = nextRetryDelay(retry, 1000, options, () => value);
			assert.ok(
				delay !== null && delay >= ceiling / 2 && delay <= ceiling,
				`retry ${retry}, random ${value}: ${delay}`,
			);
		}
	}
	const spread = new Set(Array.from({ length: 20 }, (_, i) => nextRetryDelay(4, 0, options, () => i / 20)));
	assert.ok(spread.size > 10, "different random numbers give different delays");
});

test("gives up once the first failure is giveUpAfterMs old, and never sleeps past it", () => {
	assert.equal(nextRetryDelay(3, 30_000, options, high), null);
	assert.equal(nextRetryDelay(0, 45_000, options, high), null);
	assert.equal(nextRetryDelay(6, 29_900, options, high), 100, "the last try goes at the deadline");
	assert.equal(callBackoff.giveUpAfterMs, 30_000);
	assert.equal(nextRetryDelay(50, 10 * 3_600_000, lobbyBackoff, high), lobbyBackoff.maxMs, "the lobby never gives up");
});

test("a streak counts failures from the first one and starts over after a success", () => {
	const streak = new RetryStreak(options, high);
	assert.equal(streak.failed(1_000), 0);
	assert.equal(streak.failed(1_100), 250);
	assert.equal(streak.failed(1_500), 500);
	assert.equal(streak.failures, 3);
	assert.equal(streak.failed(31_000), null, "30 s after the first failure");
	streak.succeeded();
	assert.equal(streak.failures, 0);
	assert.equal(streak.failed(100_000), 0, "a new streak starts with an immediate retry");
	assert.equal(streak.failed(100_100), 250);
});

test("about 30 s of failing tries end in giving up, whatever the jitter", () => {
	for (const random of [low, high, () => 0.5]) {
		const streak = new RetryStreak(callBackoff, random);
		let now = 0;
		let tries = 0;
		for (;;) {
			// Each try itself may take up to the 4 s open timeout.
			now += 4_000;
			const delay = streak.failed(now);
			if (delay === null) break;
			now += delay;
			tries++;
			assert.ok(tries < 100, "gives up eventually");
		}
		assert.ok(now >= 30_000 && now <= 40_000, `gave up after ${now} ms`);
	}
});
