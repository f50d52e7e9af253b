/**
 * The publisher sends only what someone watches (producerDemand), seen in
 * the publisher's own Chromium through getStats: its camera goes out as two
 * simulcast encodings (rids r0, half size, and r1, full size). When the only
 * viewer's tile is small, r1 stops while r0 goes on; when nobody watches,
 * the camera stops altogether while the microphone keeps going and the
 * publisher's own camera stays on (not muted, preview still playing); when
 * someone watches again, the video comes back and is decoded; after the
 * publisher reconnects (a reload), its new camera is limited again.
 *
 * Everything is a state polled with a bound (bytes advancing or not over a
 * one-second window), never a duration.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { expectMediaFlowing } from "@mindmeet/testing/browser";
import { answerKnock, createRoom, firstFrame, knock, tile } from "@mindmeet/testing/flows";
import type { Page } from "playwright-core";
import { e2e } from "./harness.ts";

const meet = e2e();

interface Outbound {
	/** Video bytes sent so far, by rid. */
	video: Record<string, number>;
	audio: number;
}

/** What the page has sent so far over every peer connection (the send transport's, in practice). */
function outbound(page: Page): Promise<Outbound> {
	return page.evaluate(async () => {
		const totals: { video: Record<string, number>; audio: number } = { video: {}, audio: 0 };
		const connections = (window as unknown as { __peerConnections?: RTCPeerConnection[] }).__peerConnections ?? [];
		for (const connection of connections) {
			if (connection.connectionState === "closed") continue;
			(await connection.getStats()).forEach(
				(stat: { type: string; kind?: string; rid?: string; bytesSent?: number }) => {
					if (stat.type !== "outbound-rtp") return;
					if (stat.kind === "audio") totals.audio += stat.bytesSent ?? 0;
					if (stat.kind === "video") {
						const rid = stat.rid ?? "none";
						totals.video[rid] = (totals.video[rid] ?? 0) + (stat.bytesSent ?? 0);
					}
				},
			);
		}
		return totals;
	});
}

/** Which streams advanced over one second: each video rid, and the audio. */
async function advancing(page: Page): Promise<{ video: Record<string, boolean>; audio: boolean; seen: string }> {
	const first = await outbound(page);
	await page.waitForTimeout(1_000);
	const last = await outbound(page);
	const video: Record<string, boolean> = {};
	for (const [rid, bytes] of Object.entries(last.video)) video[rid] = bytes > (first.video[rid] ?? 0);
	return { video, audio: last.audio > first.audio, seen: JSON.stringify({ first, last }) };
}

/** Wait until the picture in `name`'s tile on `page` is `width` pixels wide (the layer being decoded). */
async function pictureWidthBecomes(page: Page, name: string, width: number): Promise<void> {
	const selector = `[data-testid="tile"][data-peer-name="${name}"][data-self="false"] video`;
	await page.waitForFunction(
		({ selector, width }) => document.querySelector<HTMLVideoElement>(selector)?.videoWidth === width,
		{ selector, width },
	);
}

/** Poll one-second windows until `state` holds (at most `windows` of them). */
async function sendingBecomes(
	page: Page,
	what: string,
	state: (sample: { video: Record<string, boolean>; audio: boolean }) => boolean,
	windows = 40,
): Promise<void> {
	let seen = "";
	for (let i = 0; i < windows; i++) {
		const sample = await advancing(page);
		if (state(sample)) return;
		seen = sample.seen;
	}
	throw new Error(`never happened: ${what}; last window: ${seen}`);
}

test("the publisher sends only the layers someone watches, and no video when nobody watches; audio always", async () => {
	const ana = await meet.person();
	const bia = await meet.person();
	const link = await createRoom(ana, meet.stack.url, "Ana");
	await knock(bia, link, "Bia");
	await answerKnock(ana, "Bia", "admit");
	// Ana was alone until now, sending no video: it comes back for Bia, and Bia decodes it.
	await firstFrame(bia, "Ana");
	await expectMediaFlowing(bia, { audio: true, video: true });

	// A wide tile: both layers go out (the measurement sees the top one flowing, so it can see it stop).
	await sendingBecomes(ana, "both layers sent to a large tile", (s) => s.video.r0 === true && s.video.r1 === true);
	// The fake camera is 640×480: Bia decodes the full-size layer.
	await pictureWidthBecomes(bia, "Ana", 640);

	// Bia's window turns narrow: her tile of Ana wants the small layer only.
	await bia.setViewportSize({ width: 360, height: 640 });
	await sendingBecomes(
		ana,
		"the full-size layer stops, the half-size one goes on",
		(s) => s.video.r0 === true && s.video.r1 === false && s.audio,
	);
	await pictureWidthBecomes(bia, "Ana", 320);
	await expectMediaFlowing(bia, { audio: true, video: true });

	// Wide again: the top layer is wanted, sent again, and Bia decodes it (it started from a key frame).
	await bia.setViewportSize({ width: 1280, height: 800 });
	await sendingBecomes(ana, "the full-size layer comes back", (s) => s.video.r1 === true);
	await pictureWidthBecomes(bia, "Ana", 640);
	await expectMediaFlowing(bia, { audio: true, video: true });

	// Bia leaves: nobody watches Ana's camera.
	await bia.getByTestId("leave").click();
	await tile(ana, "Bia").waitFor({ state: "detached" });
	await sendingBecomes(
		ana,
		"no video sent to nobody, the microphone still sent",
		(s) => Object.values(s.video).every((advanced) => !advanced) && s.audio,
	);
	// That is not a mute: her camera is on, for her and for the room, and her preview keeps playing (a bounded wait).
	const self = tile(ana, "Ana", true);
	assert.equal(await self.getAttribute("data-cam"), "on");
	await self.locator("video").evaluate(
		(video: HTMLVideoElement) =>
			new Promise<void>((resolve) => {
				const start = video.currentTime;
				const check = () => (video.currentTime > start ? resolve() : requestAnimationFrame(check));
				check();
			}),
	);

	// Someone comes to watch: the camera is sent again and decoded at the new viewer.
	const caio = await meet.person();
	await knock(caio, link, "Caio");
	await answerKnock(ana, "Caio", "admit");
	await firstFrame(caio, "Ana");
	const { first, last } = await expectMediaFlowing(caio, { audio: true, video: true });
	assert.ok(last.framesDecoded > first.framesDecoded);
	await sendingBecomes(ana, "video sent again", (s) => s.video.r0 === true || s.video.r1 === true);

	// Caio's tile is small; then Ana reloads (a new connection, new producers that start out
	// sending everything): the SFU tells her new camera what Caio wants, and the top layer stops again.
	await caio.setViewportSize({ width: 360, height: 640 });
	await sendingBecomes(ana, "only the small layer for Caio's small tile", (s) => s.video.r0 === true && !s.video.r1);
	await ana.reload();
	await tile(ana, "Ana", true).waitFor();
	await firstFrame(ana, "Caio");
	await sendingBecomes(
		ana,
		"after the reload, again only the small layer",
		(s) => s.video.r0 === true && s.video.r1 === false && s.audio,
	);
	await pictureWidthBecomes(caio, "Ana", 320);
	await expectMediaFlowing(caio, { audio: true, video: true });
});
