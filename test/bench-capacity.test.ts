/**
 * The capacity benchmark's harness, run small, so it cannot rot unnoticed:
 * a room stepped up on one worker, a room across two workers where each
 * participant shows one camera and pauses the rest, one person too many,
 * and bursts of joins into the product and into bare mediasoup. Everyone
 * must get RTP through real ICE, DTLS and SRTP, and the accounting must add
 * up. No timing is asserted (the figures are `npm run bench capacity`'s).
 * Needs ffmpeg.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { headlessCleanup } from "@mindmeet/testing/headless-webrtc";
import { joinProfile } from "@mindmeet/testing/media-feed";
import { bareJoinBurst, productJoinBurst } from "../scripts/bench/capacity/joins.ts";
import { lossPercent } from "../scripts/bench/capacity/window.ts";
import { bigRoom, type CapacityOptions, participantsPerCore } from "../scripts/bench/capacity.ts";

const small: CapacityOptions = {
	steps: [2, 3],
	windowSeconds: 2,
	settleSeconds: 1,
	otherLoadLimit: 100,
	perCoreBudgetSeconds: 120,
	roomBudgetSeconds: 120,
	roomSize: 4,
	roomCounting: 4,
	peersPerRouter: 2,
	joins: 3,
	joinSeconds: 1,
	joinRepetitions: 1,
	visibleVideos: 1,
	log: () => {},
};

describe("capacity benchmark harness", () => {
	after(() => headlessCleanup());

	it("participants per core: the room grows step by step, every participant receives, the worker is measured", async () => {
		const { steps } = await participantsPerCore({ ...small, visibleVideos: 16 });
		assert.deepEqual(
			steps.map((step) => step.participants),
			[2, 3],
		);
		for (const { participants, window } of steps) {
			assert.equal(window.participants, participants);
			assert.equal(window.silent, 0, `someone received nothing at ${participants}`);
			assert.ok(window.audio.packets > 0 && window.video.packets > 0, "audio and video arrived");
			assert.equal(window.shownVideos, participants * (participants - 1), "everyone shows everyone's camera");
			assert.equal(window.workerPercent.length, 1);
			assert.ok((window.workerPercent[0] ?? 0) > 0, "the worker's CPU was accounted");
			assert.ok(window.received.expected >= window.received.packets - window.received.lost);
			assert.ok(lossPercent(window.received) >= 0);
		}
	});

	it("a room across two workers: one camera shown each, the rest paused, and one person too many refused", async () => {
		const room = await bigRoom(small);
		assert.equal(room.failure, undefined);
		const window = room.window;
		assert.ok(window, "a window was measured");
		assert.equal(window.participants, 4);
		assert.equal(window.silent, 0);
		assert.equal(window.workerPercent.length, 2, "two routers, one per worker");
		for (const percent of window.workerPercent) assert.ok(percent > 0, "both workers forward");
		assert.equal(window.shownVideos, 4, "one camera shown per participant");
		assert.equal(window.pausedVideos, 8, "the two others paused");
		assert.ok(window.audio.packets > 0 && window.video.packets > 0);
		// Everyone's audio: 4 × 3 audio consumers, every one of them receiving.
		assert.ok(window.camerasSent >= 1 && window.camerasSent <= 4);
		assert.match(room.extra, /room-full/);
	});

	it("join bursts: joiners of the product and of bare mediasoup get the host's audio and video", async () => {
		const burst = { count: 3, spreadSeconds: 1, profile: joinProfile, timeoutMs: 30_000 };
		const product = await productJoinBurst(burst);
		assert.deepEqual(product.failures, []);
		assert.equal(product.video.length, 3);
		assert.equal(product.audio.length, 3);
		assert.equal(product.admitted.length, 3);
		for (const value of [...product.video, ...product.audio, ...product.admitted]) assert.ok(value > 0);
		const bare = await bareJoinBurst(burst);
		assert.deepEqual(bare.failures, []);
		assert.equal(bare.video.length, 3);
		for (const value of [...bare.video, ...bare.audio]) assert.ok(value > 0);
	});
});
