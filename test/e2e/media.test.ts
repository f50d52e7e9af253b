/**
 * What people see of each other's media in a real call: speaking glow, mute
 * and camera-off indicators, audio-only rooms and screen sharing.
 *
 * Two Chromium processes, each fed a wav made here with sox as its fake
 * microphone: a loud tone (someone talking) and quiet pink noise (someone
 * silent in a room, about -64 dBFS RMS). Chromium's own fake microphone is not
 * used as "quiet": its beep is full scale, and after Chromium's audio
 * processing (which adds a decaying tail) the SFU's 300 ms average of it
 * crosses the speaking threshold about every other interval.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { expectMediaFlowing } from "@mindmeet/testing/browser";
import { loudTone, makeWav, roomTone } from "@mindmeet/testing/fake-audio";
import { answerKnock, createRoom, firstFrame, knock, tile } from "@mindmeet/testing/flows";
import { type Catalogue, loadCatalogues } from "@mindmeet/testing/i18n";
import { sampleFor, watchSelector } from "@mindmeet/testing/watch";
import type { Browser, Page } from "playwright-core";
import { e2e } from "./harness.ts";

let pt: Catalogue;
const workDir = mkdtempSync(join(tmpdir(), "mindmeet-media-"));
const loudWav = join(workDir, "loud.wav");
const quietWav = join(workDir, "quiet.wav");

// Before the harness's own hook: the browsers are launched with these files.
before(async () => {
	pt = (await loadCatalogues())["pt-BR"];
	// 440 Hz at 90% of full scale, its volume swinging at 2 Hz like syllables.
	makeWav(loudWav, loudTone);
	// Room tone: pink noise, about -64 dBFS RMS (-50 dBFS peaks).
	makeWav(quietWav, roomTone);
});

/** The default browser: its fake microphone plays quiet room tone; it also picks a screen for getDisplayMedia without a prompt. */
const meet = e2e({
	chromiumFlags: [
		`--use-file-for-fake-audio-capture=${quietWav}`,
		"--auto-select-desktop-capture-source=Entire screen",
	],
});
/** Its fake microphone plays a loud, tremolo tone (speech-like loudness, not a steady hum). */
let loudBrowser: Browser;

before(async () => {
	loudBrowser = await meet.launchBrowser([`--use-file-for-fake-audio-capture=${loudWav}`]);
});

after(() => {
	rmSync(workDir, { recursive: true, force: true });
});

const person = (browser: Browser) => meet.person({ browser });
const quiet = () => meet.browser;

/** Host creates a room of `mode`; the guest knocks and is admitted; each sees the other's tile. */
async function call(
	host: Page,
	hostName: string,
	guest: Page,
	guestName: string,
	mode: "video" | "audio" = "video",
): Promise<void> {
	const link = await createRoom(host, meet.stack.url, hostName, mode);
	await knock(guest, link, guestName);
	await answerKnock(host, guestName, "admit");
	await tile(guest, hostName).waitFor();
	await tile(host, guestName).waitFor();
}

const tileSelector = (name: string, self: boolean, speaking?: boolean) =>
	`[data-testid="tile"][data-peer-name="${name}"][data-self="${self}"]${speaking === undefined ? "" : `[data-speaking="${speaking}"]`}`;

async function waitForSpeaking(page: Page, name: string, self: boolean, speaking: boolean, what: string) {
	try {
		await page.waitForSelector(tileSelector(name, self, speaking), { timeout: 40_000 });
	} catch {
		const now = await page.locator(tileSelector(name, self)).getAttribute("data-speaking");
		assert.fail(`${what}: expected data-speaking="${speaking}", it stayed "${now}"`);
	}
}

/** For `samples` × 500 ms, require that the tile never showed data-speaking="true" (observer + samples). */
async function assertNeverSpeaking(page: Page, name: string, self: boolean, what: string, samples = 12) {
	const watch = await watchSelector(page, tileSelector(name, self, true));
	const sample = await sampleFor(
		page,
		samples,
		500,
		() => page.locator(tileSelector(name, self)).getAttribute("data-speaking"),
		(value) => value !== "false",
	);
	const ever = await watch.everMatched();
	await watch.stop();
	assert.equal(sample, undefined, `${what}: a sample read data-speaking="${sample}"`);
	assert.equal(ever, false, `${what}: data-speaking turned "true" at some moment`);
}

function micOffIcon(page: Page, name: string) {
	return page.locator(tileSelector(name, false)).getByRole("img", { name: pt["media.micMuted"] });
}

test("speaking: the loud microphone's tile glows on the other side and on its own; the quiet one never does", {
	timeout: 300_000,
}, async () => {
	const ana = await person(quiet());
	const bia = await person(loudBrowser);
	await call(ana, "Ana", bia, "Bia");

	// While Bia's loud tone is detected (so speaking events are flowing), Ana's room tone stays below the bar,
	// on Bia's screen (the SFU's detection) and on her own (the browser's).
	const anaOnBia = await watchSelector(bia, tileSelector("Ana", false, true));
	const anaOnAna = await watchSelector(ana, tileSelector("Ana", true, true));
	await waitForSpeaking(ana, "Bia", false, true, "Bia's tile on Ana's screen");
	await waitForSpeaking(bia, "Bia", true, true, "Bia's own tile");
	await Promise.all([
		assertNeverSpeaking(bia, "Ana", false, "Ana's (quiet) tile on Bia's screen"),
		assertNeverSpeaking(ana, "Ana", true, "Ana's (quiet) own tile"),
	]);
	assert.equal(await anaOnBia.everMatched(), false, "Ana's tile never glowed on Bia's screen since Bia joined");
	assert.equal(await anaOnAna.everMatched(), false, "Ana's own tile never glowed since Bia joined");
	// Bia is still speaking at the end: the glow holds while the sound goes on.
	await waitForSpeaking(ana, "Bia", false, true, "Bia's tile on Ana's screen, later");
});

test("muting the loud microphone stops the glow and shows mic-off on the other side; unmuting brings both back", {
	timeout: 300_000,
}, async () => {
	const ana = await person(quiet());
	const bia = await person(loudBrowser);
	await call(ana, "Ana", bia, "Bia");
	await waitForSpeaking(ana, "Bia", false, true, "Bia's tile before muting");
	assert.equal(await micOffIcon(ana, "Bia").count(), 0, "no mic-off icon while her mic is on");

	await bia.getByTestId("mic-toggle").click();
	await waitForSpeaking(ana, "Bia", false, false, "Bia's tile after she muted");
	await micOffIcon(ana, "Bia").waitFor();
	await assertNeverSpeaking(ana, "Bia", false, "Bia muted", 8);

	await bia.getByTestId("mic-toggle").click();
	await micOffIcon(ana, "Bia").waitFor({ state: "detached" });
	await waitForSpeaking(ana, "Bia", false, true, "Bia's tile after she unmuted");
});

test("camera off shows the avatar on the other side, camera on brings the picture back; mic mute shows mic-off", {
	timeout: 300_000,
}, async () => {
	const ana = await person(quiet());
	const bia = await person(quiet());
	await call(ana, "Ana Lima", bia, "Bia Souza");
	await firstFrame(ana, "Bia Souza");
	const biaOnAna = ana.locator(tileSelector("Bia Souza", false));

	await bia.getByTestId("cam-toggle").click();
	await biaOnAna.locator("video").waitFor({ state: "hidden" });
	assert.ok(await biaOnAna.getByText("BS", { exact: true }).isVisible(), "her initials show instead");

	await bia.getByTestId("cam-toggle").click();
	await firstFrame(ana, "Bia Souza");

	await bia.getByTestId("mic-toggle").click();
	await micOffIcon(ana, "Bia Souza").waitFor();
	await bia.getByTestId("mic-toggle").click();
	await micOffIcon(ana, "Bia Souza").waitFor({ state: "detached" });

	// And the other way round.
	await ana.getByTestId("cam-toggle").click();
	await bia.locator(tileSelector("Ana Lima", false)).locator("video").waitFor({ state: "hidden" });
	assert.ok(await bia.locator(tileSelector("Ana Lima", false)).getByText("AL", { exact: true }).isVisible());
});

/** Kinds of every RTP stream (in and out) over the page's peer connections, and of tracks in <video> elements. */
async function mediaKinds(page: Page): Promise<{ rtp: string[]; videoElementTracks: number }> {
	return page.evaluate(async () => {
		const rtp: string[] = [];
		const connections = (window as unknown as { __peerConnections?: RTCPeerConnection[] }).__peerConnections ?? [];
		for (const connection of connections) {
			if (connection.connectionState === "closed") continue;
			(await connection.getStats()).forEach((stat: { type: string; kind?: string }) => {
				if (stat.type === "inbound-rtp" || stat.type === "outbound-rtp") rtp.push(`${stat.type}:${stat.kind}`);
			});
		}
		let videoElementTracks = 0;
		for (const video of Array.from(document.querySelectorAll("video"))) {
			const source = video.srcObject;
			if (source instanceof MediaStream) videoElementTracks += source.getVideoTracks().length;
		}
		return { rtp, videoElementTracks };
	});
}

test("an audio-only room: no video anywhere, avatars with initials, audio flows, and the glow works on avatars", {
	timeout: 300_000,
}, async () => {
	const ana = await person(quiet());
	const bia = await person(loudBrowser);
	await call(ana, "Ana Lima", bia, "Bia Souza", "audio");

	for (const page of [ana, bia]) await expectMediaFlowing(page, { audio: true, video: false });
	for (const [page, other, initials] of [
		[ana, "Bia Souza", "BS"],
		[bia, "Ana Lima", "AL"],
	] as const) {
		const kinds = await mediaKinds(page);
		assert.ok(kinds.rtp.includes("inbound-rtp:audio"), `audio comes in: ${kinds.rtp.join(", ")}`);
		assert.ok(kinds.rtp.includes("outbound-rtp:audio"), `audio goes out: ${kinds.rtp.join(", ")}`);
		assert.deepEqual(
			kinds.rtp.filter((kind) => kind.endsWith(":video")),
			[],
			"no video stream in or out",
		);
		assert.equal(kinds.videoElementTracks, 0, "no <video> shows a video track");
		assert.ok(await page.locator(tileSelector(other, false)).getByText(initials, { exact: true }).isVisible());
	}
	await waitForSpeaking(ana, "Bia Souza", false, true, "Bia's avatar on Ana's screen");
});

/** Wait (at most 40 s) until `video` has a picture and its decoded frame count goes up. */
async function framesFlowing(page: Page, selector: string): Promise<void> {
	const outcome = await page.locator(selector).evaluate(
		(video: HTMLVideoElement) =>
			new Promise<string>((resolve) => {
				const deadline = performance.now() + 40_000;
				let first = -1;
				const check = () => {
					const frames = video.getVideoPlaybackQuality().totalVideoFrames;
					if (video.videoWidth > 0 && first < 0) first = frames;
					if (first >= 0 && frames > first) resolve("ok");
					else if (performance.now() > deadline)
						resolve(`no moving picture: videoWidth ${video.videoWidth}, frames ${frames}`);
					else requestAnimationFrame(check);
				};
				check();
			}),
	);
	assert.equal(outcome, "ok", selector);
}

test("screen share: the guest sees the host's screen with her name and moving frames; stopping removes it", {
	timeout: 300_000,
}, async () => {
	const ana = await person(quiet());
	const bia = await person(quiet());
	await call(ana, "Ana", bia, "Bia");

	await ana.getByTestId("screen-share").click();
	const view = bia.getByTestId("screen-share-view");
	await view.waitFor();
	const [peerName, text] = await Promise.all([view.getAttribute("data-peer-name"), view.textContent()]);
	assert.ok(peerName === "Ana" || (text ?? "").includes("Ana"), "the shared screen is labelled with the host's name");
	await framesFlowing(bia, '[data-testid="screen-share-view"] video');
	const width = await view.locator("video").evaluate((video: HTMLVideoElement) => video.videoWidth);
	assert.ok(width > 0, "the shared screen has a picture");
	// Her camera keeps going beside the screen.
	await firstFrame(bia, "Ana");

	await ana.getByTestId("screen-share").click();
	await view.waitFor({ state: "detached" });
});

test("enlarging someone shows them large with the whole picture; back to the grid puts them back", {
	timeout: 300_000,
}, async () => {
	const ana = await person(quiet());
	const bia = await person(quiet());
	await call(ana, "Ana", bia, "Bia");
	await firstFrame(ana, "Bia");
	const inGrid = tile(ana, "Bia");
	const gridWidth = (await inGrid.boundingBox())?.width ?? 0;
	// Your own tile offers nothing to enlarge; the others' do.
	assert.equal(await tile(ana, "Ana", true).getByTestId("tile-enlarge").count(), 0);

	await inGrid.hover();
	await inGrid.getByTestId("tile-enlarge").click();
	const featured = ana.locator(`${tileSelector("Bia", false)}[data-featured="true"]`);
	await featured.waitFor();
	assert.equal(
		await ana.locator(tileSelector("Bia", false)).count(),
		1,
		"Bia is shown once, large, not also in the grid",
	);
	await firstFrame(ana, "Bia");
	const featuredWidth = (await featured.boundingBox())?.width ?? 0;
	assert.ok(featuredWidth > gridWidth, `enlarged: ${featuredWidth} px wide, ${gridWidth} px in the grid`);
	assert.equal(await featured.locator("video").evaluate((video) => getComputedStyle(video).objectFit), "contain");
	// Bia's own screen is not affected by what Ana looks at.
	assert.equal(await bia.locator('[data-featured="true"]').count(), 0);

	await featured.getByTestId("stage-back-to-grid").click();
	await ana.locator(`${tileSelector("Bia", false)}[data-featured="false"]`).waitFor();
	assert.equal(await ana.locator('[data-featured="true"]').count(), 0);
});

test("following the speaker: the enlarged place goes to whoever speaks, and only once following is on", {
	timeout: 300_000,
}, async () => {
	const ana = await person(quiet());
	const bia = await person(loudBrowser);
	const caio = await person(quiet());
	const link = await createRoom(ana, meet.stack.url, "Ana");
	await knock(caio, link, "Caio");
	await answerKnock(ana, "Caio", "admit");
	await tile(ana, "Caio").waitFor();
	await knock(bia, link, "Bia");
	await answerKnock(ana, "Bia", "admit");
	await tile(ana, "Bia").waitFor();

	await tile(ana, "Caio").hover();
	await tile(ana, "Caio").getByTestId("tile-enlarge").click();
	const featuredSelector = (name: string) => `${tileSelector(name, false)}[data-featured="true"]`;
	await ana.locator(featuredSelector("Caio")).waitFor();
	// Bia's loud tone is being detected, yet a person enlarged by choice stays.
	await waitForSpeaking(ana, "Bia", false, true, "Bia's tile on Ana's screen");
	const biaTookOver = await watchSelector(ana, featuredSelector("Bia"));
	const sample = await sampleFor(
		ana,
		6,
		500,
		() => ana.locator('[data-featured="true"]').getAttribute("data-peer-name"),
		(name) => name !== "Caio",
	);
	assert.equal(sample, undefined, `a sample showed ${sample} enlarged instead of Caio`);
	assert.equal(await biaTookOver.everMatched(), false, "Bia never took Caio's place while not following");
	await biaTookOver.stop();

	const follow = ana.getByTestId("stage-follow-speaker");
	assert.equal(await follow.getAttribute("aria-pressed"), "false");
	await follow.click();
	await ana.locator(featuredSelector("Bia")).waitFor({ timeout: 40_000 });
	assert.equal(await ana.getByTestId("stage-follow-speaker").getAttribute("aria-pressed"), "true");
	assert.equal(await ana.locator(tileSelector("Caio", false)).getAttribute("data-featured"), "false");
});
