/**
 * The fan-out benchmark's harness, run small (two subscribers, a few
 * seconds) against every system it compares, so it cannot rot unnoticed:
 * the subscribers must get RTP through real ICE, DTLS and SRTP, and
 * negotiate exactly the features the benchmark says they do. No timing is
 * asserted (the figures are the benchmark's, `npm run bench fanout`).
 * Needs ffmpeg, janus and gcc (see scripts/bench/fanout/).
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { headlessCleanup, restrictOffer } from "@mindmeet/testing/headless-webrtc";
import { startBareMediasoup } from "../scripts/bench/fanout/bare-mediasoup.ts";
import { startJanus } from "../scripts/bench/fanout/janus.ts";
import { subscriberOfferLimits } from "../scripts/bench/fanout/mediasoup-params.ts";
import { startProduct } from "../scripts/bench/fanout/product.ts";
import type { FanoutSystem } from "../scripts/bench/fanout/system.ts";
import { type FanoutRunOptions, measureFanout } from "../scripts/bench/fanout.ts";

const small: FanoutRunOptions = {
	counts: [2],
	windowSeconds: 3,
	settleSeconds: 1,
	concurrency: 2,
	otherLoadLimit: 100,
	maxRemeasures: 0,
};

const expected =
	"audio: audio/opus (1 codec), feedback [], extensions [mid]; video: video/VP8 (1 codec), feedback [nack, nack pli, ccm fir], extensions [mid]";

async function check(start: () => Promise<FanoutSystem>) {
	const run = await measureFanout(start, small);
	const point = run.points[0];
	assert.ok(point, "a window was measured");
	assert.equal(point.subscribers, 2);
	assert.ok(point.received.packets > 0, `the subscribers of ${run.name} received no RTP`);
	assert.equal(point.silentSubscribers, 0, `a subscriber of ${run.name} received nothing`);
	assert.ok(point.received.expected >= point.received.packets - point.received.lost, "sequence accounting adds up");
	assert.ok(point.systemPercent > 0, `no CPU was accounted to ${run.name}'s processes`);
	return run;
}

describe("fan-out benchmark harness", () => {
	after(() => headlessCleanup());

	it("bare mediasoup: subscribers receive RTP over DTLS/SRTP with the benchmark's features", async () => {
		const run = await check(startBareMediasoup);
		assert.equal(run.negotiated, expected);
	});

	it("the product: subscribers knock, are admitted, join over protoo and receive RTP over DTLS/SRTP", async () => {
		const run = await check(startProduct);
		assert.equal(run.negotiated, expected);
	});

	it("Janus VideoRoom (event_loops = 1): subscribers receive RTP with the same features, over SRTP", async () => {
		const run = await check(() => startJanus({ eventLoops: 1 }));
		assert.match(run.negotiated, /^audio: opus, feedback \[\], extensions \[mid\]; video: VP8, feedback \[[^\]]*\]/);
		assert.match(
			run.negotiated,
			/video: VP8, feedback \[(?=.*\bnack\b)(?=.*nack pli)(?=.*ccm fir)[^\]]*\], extensions \[mid\]/,
		);
		assert.doesNotMatch(run.negotiated, /rtx|transport-cc|goog-remb/);
		assert.match(run.negotiated, /SRTP SRTP_/);
	});

	it("restrictOffer keeps only the allowed extensions, feedback and no RTX", () => {
		const offer = [
			"v=0",
			"o=- 1 1 IN IP4 127.0.0.1",
			"s=-",
			"t=0 0",
			"m=video 9 UDP/TLS/RTP/SAVPF 96 97",
			"a=mid:v",
			"a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
			"a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
			"a=rtpmap:96 VP8/90000",
			"a=rtcp-fb:96 nack",
			"a=rtcp-fb:96 goog-remb",
			"a=rtcp-fb:96 transport-cc",
			"a=rtpmap:97 rtx/90000",
			"a=fmtp:97 apt=96",
			"a=ssrc-group:FID 11 22",
			"a=ssrc:11 cname:x",
			"a=ssrc:22 cname:x",
			"",
		].join("\r\n");
		const narrowed = restrictOffer(offer, subscriberOfferLimits);
		assert.match(narrowed, /^m=video 9 UDP\/TLS\/RTP\/SAVPF 96\r$/m);
		assert.match(narrowed, /a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid/);
		assert.doesNotMatch(narrowed, /abs-send-time|goog-remb|transport-cc|rtx|apt=|FID|a=ssrc:22/);
		assert.match(narrowed, /a=rtcp-fb:96 nack\r\n/);
		assert.match(narrowed, /a=ssrc:11 cname:x/);
	});
});
