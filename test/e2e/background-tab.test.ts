/**
 * A call in a background tab (issue 11, item 4): when the person switches to
 * another tab, the SFU stops sending them video (their consumers are paused
 * by the page, not by the senders), their audio keeps flowing, and when they
 * come back the video flows again from a fresh key frame.
 *
 * The guest is Chromium driven by puppeteer-core, whose pages are real tabs
 * of one window: bringing another tab to the front makes the call's page
 * `hidden`, as a person switching tabs does. (Playwright opens each page in
 * a window of its own, so its pages never become hidden.)
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { answerKnockAs, createRoomAs, knockAs, tileSelector, videoMoving } from "@mindmeet/testing/mixed-flows";
import {
	chromiumTabParticipant,
	expectParticipantMedia,
	launchChromiumWithTabs,
	type Participant,
} from "@mindmeet/testing/participant";
import type { Browser as PuppeteerBrowser } from "puppeteer-core";
import { e2e } from "./harness.ts";

const meet = e2e();
let tabs: PuppeteerBrowser;
before(async () => {
	tabs = await launchChromiumWithTabs();
});
after(async () => {
	await tabs?.close();
});

interface VideoIn {
	audioBytes: number;
	videoBytes: number;
	keyFrames: number;
}

/** Inbound totals of the page, key frames decoded included. */
function videoIn(person: Participant): Promise<VideoIn> {
	return person.evaluate(async () => {
		const totals = { audioBytes: 0, videoBytes: 0, keyFrames: 0 };
		const connections = (window as unknown as { __peerConnections?: RTCPeerConnection[] }).__peerConnections ?? [];
		for (const connection of connections) {
			if (connection.connectionState === "closed") continue;
			(await connection.getStats()).forEach(
				(stat: { type: string; kind?: string; bytesReceived?: number; keyFramesDecoded?: number }) => {
					if (stat.type !== "inbound-rtp") return;
					if (stat.kind === "audio") totals.audioBytes += stat.bytesReceived ?? 0;
					if (stat.kind === "video") {
						totals.videoBytes += stat.bytesReceived ?? 0;
						totals.keyFrames += stat.keyFramesDecoded ?? 0;
					}
				},
			);
		}
		return totals;
	}, undefined);
}

/**
 * Sample one-second windows (bounded) until one matches `wanted`; returns the
 * windows seen, so a failure says what flowed.
 */
async function windowWhere(
	person: Participant,
	wanted: (first: VideoIn, last: VideoIn) => boolean,
	tries = 30,
): Promise<{ ok: boolean; seen: string[]; last: VideoIn }> {
	const seen: string[] = [];
	let first = await videoIn(person);
	let last = first;
	for (let i = 0; i < tries; i++) {
		await new Promise((resolve) => setTimeout(resolve, 1000));
		last = await videoIn(person);
		seen.push(
			`video +${last.videoBytes - first.videoBytes} B, audio +${last.audioBytes - first.audioBytes} B, key frames ${last.keyFrames}`,
		);
		if (wanted(first, last)) return { ok: true, seen, last };
		first = last;
	}
	return { ok: false, seen, last };
}

test("a call in a background tab: video stops coming, audio keeps flowing, video is back with a key frame", {
	timeout: 240_000,
}, async () => {
	const host = await meet.participant();
	const link = await createRoomAs(host, meet.stack.url, "Anfitriã");
	const guest = await chromiumTabParticipant(tabs);
	try {
		await knockAs(guest, link, "Convidado");
		await answerKnockAs(host, "Convidado", "admit");
		await videoMoving(guest, `${tileSelector("Anfitriã")} video`);
		await expectParticipantMedia(guest, { audio: true, video: true });

		// Another tab in front: the call's page is hidden for real.
		const showAgain = await guest.coverWithAnotherTab();
		assert.equal(await guest.evaluate(() => document.visibilityState, undefined), "hidden");
		const hidden = await windowWhere(
			guest,
			(first, last) => last.videoBytes === first.videoBytes && last.audioBytes > first.audioBytes,
		);
		assert.ok(hidden.ok, `in the background, no video but audio: ${hidden.seen.join("; ")}`);
		// The guest's own camera still goes out to the host, who is watching.
		await expectParticipantMedia(host, { audio: true, video: true });

		await showAgain();
		assert.equal(await guest.evaluate(() => document.visibilityState, undefined), "visible");
		const keyFramesBefore = hidden.last.keyFrames;
		const shown = await windowWhere(
			guest,
			(first, last) => last.videoBytes > first.videoBytes && last.keyFrames > keyFramesBefore,
		);
		assert.ok(shown.ok, `back in front, video with a new key frame: ${shown.seen.join("; ")}`);
		await videoMoving(guest, `${tileSelector("Anfitriã")} video`);
		assert.deepEqual(guest.pageErrors(), []);
	} finally {
		await guest.close();
	}
});
