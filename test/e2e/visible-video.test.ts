/**
 * Only visible video is consumed, in a real call of 20 people (issue 11,
 * item 4): the observer (Chromium, a desktop window, 16 tiles a page)
 * receives exactly the cameras on its current page; flipping the page moves
 * which ones flow, with a fresh key frame for those shown again; everyone's
 * audio keeps flowing; bytes fall with the number of tiles; whoever speaks
 * is on the first page.
 *
 * Load, so that twenty people fit on two cores: 18 of the guests are
 * headless participants (testing/src/headless-participant.ts: knock, are
 * admitted on the observer's screen, real ICE/DTLS/SRTP, a microphone and a
 * camera from one shared ffmpeg replay of a small tile's layer) who keep
 * every video they receive paused, as a page showing none would. The one
 * who speaks is Chromium in a tab behind another tab (it still sends, and
 * decodes nothing), with a loud tone as its microphone; the headless
 * microphones carry no audio level, so they never count as speaking. The
 * speaker joins last, so only speaking can bring it onto the first page.
 * Needs ffmpeg and sox.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { loudTone, makeWav, roomTone } from "@mindmeet/testing/fake-audio";
import { answerKnock, createRoom, tile } from "@mindmeet/testing/flows";
import { HeadlessParticipant } from "@mindmeet/testing/headless-participant";
import { type SharedMediaFeed, startSharedFeed, tileProfile } from "@mindmeet/testing/media-feed";
import { knockAs } from "@mindmeet/testing/mixed-flows";
import { chromiumTabParticipant, launchChromiumWithTabs } from "@mindmeet/testing/participant";
import type { Page } from "playwright-core";
import type { Browser as PuppeteerBrowser } from "puppeteer-core";
import { e2e } from "./harness.ts";

const workDir = mkdtempSync(join(tmpdir(), "mindmeet-visible-"));
const loudWav = join(workDir, "loud.wav");
const quietWav = join(workDir, "quiet.wav");

let feed: SharedMediaFeed | undefined;
let tabs: PuppeteerBrowser | undefined;
const headless: HeadlessParticipant[] = [];
before(async () => {
	makeWav(loudWav, loudTone);
	makeWav(quietWav, roomTone);
	feed = await startSharedFeed(tileProfile);
	tabs = await launchChromiumWithTabs([fakeCamera, `--use-file-for-fake-audio-capture=${loudWav}`]);
});

/** Slow fake cameras: 20 encoders and ~100 decoders share two cores. */
const fakeCamera = "--use-fake-device-for-media-stream=fps=5";
const meet = e2e({
	chromiumFlags: [fakeCamera, `--use-file-for-fake-audio-capture=${quietWav}`],
	// Every guest knocks from 127.0.0.1: more than the default 10 knocks a minute from one address.
	env: { KNOCK_RATE_LIMIT: "100" },
});

after(async () => {
	await Promise.allSettled(headless.map((person) => person.close()));
	await tabs?.close();
	await feed?.stop();
	rmSync(workDir, { recursive: true, force: true });
});

/** Guests: 18 headless and the speaker in Chromium; with the observer, 20 people. */
const guests = 19;
/** Small enough that even a page of 4 tiles asks for the small simulcast layer (tiles under 400 px). */
const observerViewport = { width: 760, height: 600 };
/** The speaker's window (behind another tab anyway). */
const phone = { width: 360, height: 640 };

interface Sample {
	/** Inbound video by track id: frames decoded, key frames decoded, bytes. */
	video: Map<string, { frames: number; keyFrames: number; bytes: number }>;
	/** Inbound audio bytes by track id. */
	audio: Map<string, number>;
}

async function sample(page: Page): Promise<Sample> {
	const raw = await page.evaluate(async () => {
		const video: [string, { frames: number; keyFrames: number; bytes: number }][] = [];
		const audio: [string, number][] = [];
		const connections = (window as unknown as { __peerConnections?: RTCPeerConnection[] }).__peerConnections ?? [];
		for (const connection of connections) {
			if (connection.connectionState === "closed") continue;
			const report = await connection.getStats();
			report.forEach(
				(stat: {
					type: string;
					kind?: string;
					trackIdentifier?: string;
					bytesReceived?: number;
					framesDecoded?: number;
					keyFramesDecoded?: number;
				}) => {
					if (stat.type !== "inbound-rtp" || !stat.trackIdentifier) return;
					if (stat.kind === "audio") audio.push([stat.trackIdentifier, stat.bytesReceived ?? 0]);
					if (stat.kind === "video") {
						video.push([
							stat.trackIdentifier,
							{
								frames: stat.framesDecoded ?? 0,
								keyFrames: stat.keyFramesDecoded ?? 0,
								bytes: stat.bytesReceived ?? 0,
							},
						]);
					}
				},
			);
		}
		return { video, audio };
	});
	return { video: new Map(raw.video), audio: new Map(raw.audio) };
}

/** The camera tracks the page shows in others' tiles now. */
function shownTracks(page: Page): Promise<string[]> {
	return page.evaluate(() =>
		[...document.querySelectorAll('[data-testid="tile"][data-self="false"] video')].flatMap((element) => {
			const stream = (element as HTMLVideoElement).srcObject;
			return stream instanceof MediaStream ? stream.getVideoTracks().map((track) => track.id) : [];
		}),
	);
}

interface Window {
	/** Video tracks whose decoded frames advanced during the window. */
	flowing: string[];
	videoBytes: number;
	/** Audio tracks whose bytes advanced during the window. */
	audioFlowing: number;
	first: Sample;
	last: Sample;
}

async function measure(page: Page, ms = 3000): Promise<Window> {
	const first = await sample(page);
	await page.waitForTimeout(ms);
	const last = await sample(page);
	const flowing: string[] = [];
	let videoBytes = 0;
	for (const [id, now] of last.video) {
		const before = first.video.get(id);
		if (!before) continue;
		if (now.frames > before.frames) flowing.push(id);
		videoBytes += now.bytes - before.bytes;
	}
	let audioFlowing = 0;
	for (const [id, bytes] of last.audio) if (bytes > (first.audio.get(id) ?? bytes)) audioFlowing += 1;
	return { flowing: flowing.sort(), videoBytes, audioFlowing, first, last };
}

/**
 * Measure until what flows is exactly what is shown (bounded: the first
 * measures may still see a page flip settling); the last measure either way.
 */
async function settle(page: Page, tries = 15): Promise<{ window: Window; shown: string[] }> {
	let result: { window: Window; shown: string[] } | undefined;
	for (let i = 0; i < tries; i++) {
		const shown = (await shownTracks(page)).sort();
		const window = await measure(page);
		result = { window, shown };
		if (shown.length > 0 && JSON.stringify(window.flowing) === JSON.stringify(shown)) return result;
	}
	assert.ok(result);
	return result;
}

test("20 people: the observer receives exactly the cameras of its page, audio from everyone", {
	timeout: 540_000,
}, async () => {
	assert.ok(feed && tabs);
	const observer = await meet.person({ viewport: observerViewport });
	const link = await createRoom(observer, meet.stack.url, "Observadora");
	const roomId = new URL(link).pathname.split("/").pop() as string;

	// The speaker comes last: by order of arrival, the second page.
	const names = Array.from({ length: guests - 1 }, (_, i) => `P${String(i + 1).padStart(2, "0")}`);
	for (const name of names) {
		const pending = await HeadlessParticipant.knock(meet.stack.url, roomId, name);
		await answerKnock(observer, name, "admit");
		headless.push(await pending.enter({ sources: ["mic", "cam"], feed, watch: () => false, timeoutMs: 60_000 }));
	}
	const speaker = await chromiumTabParticipant(tabs, { viewport: phone });
	await knockAs(speaker, link, "Falante");
	await answerKnock(observer, "Falante", "admit");
	await speaker.waitFor('[data-testid="tile"][data-self="true"]');
	// Behind another tab: it still sends its camera and its voice, and decodes nothing.
	await speaker.coverWithAnotherTab();
	for (const person of headless) assert.deepEqual(person.errors, [], `${person.name} took every consumer`);

	// Everyone arrives on the observer's screen (slowly: twenty pages share two cores).
	let position = "";
	for (let i = 0; i < 120 && position !== "1 de 2"; i++) {
		await observer.waitForTimeout(2500);
		position =
			(await observer
				.getByTestId("grid-page")
				.textContent({ timeout: 1000 })
				.catch(() => "")) ?? "";
	}
	assert.equal(position, "1 de 2", `everyone in: ${await observer.getByTestId("tile").count()} tiles on the page`);

	// Page 1: ourselves and 15 others; the speaker among them although they came last.
	assert.equal(await observer.getByTestId("tile").count(), 16);
	await tile(observer, "Falante").waitFor({ timeout: 120_000 });
	const page1 = await settle(observer);
	assert.equal(page1.shown.length, 15, "15 others' cameras on the first page");
	assert.deepEqual(page1.window.flowing, page1.shown, "exactly the cameras shown are decoding");
	assert.equal(page1.window.audioFlowing, guests, "everyone is heard");
	// A consumer for every camera, paused or not (a camera never shown has no inbound-rtp stats yet).
	const videoReceivers = await observer.evaluate(
		() =>
			((window as unknown as { __peerConnections?: RTCPeerConnection[] }).__peerConnections ?? [])
				.filter((connection) => connection.connectionState !== "closed")
				.flatMap((connection) => connection.getTransceivers())
				.filter(
					(transceiver) =>
						// mediasoup's bandwidth probe has a video transceiver of its own.
						transceiver.mid !== "probator" &&
						transceiver.receiver.track.kind === "video" &&
						transceiver.currentDirection === "recvonly" &&
						transceiver.receiver.track.readyState === "live",
				).length,
	);
	assert.equal(videoReceivers, guests, "a video consumer for every guest's camera");

	// Page 2: the 4 others; the first page's cameras stop.
	await observer.getByTestId("grid-next").click();
	await observer.getByTestId("grid-page").filter({ hasText: "2 de 2" }).waitFor();
	const page2 = await settle(observer);
	assert.equal(page2.shown.length, 4, "4 cameras on the second page");
	assert.deepEqual(page2.window.flowing, page2.shown, "exactly the second page's cameras are decoding");
	assert.equal(
		page2.shown.filter((id) => page1.shown.includes(id)).length,
		0,
		"none of the first page's cameras flows now",
	);
	assert.equal(page2.window.audioFlowing, guests, "everyone is still heard, on whichever page");
	// Same tile size class on both pages (small layer), so bytes follow the number of cameras.
	assert.ok(
		page2.window.videoBytes < page1.window.videoBytes,
		`video bytes fell: ${page1.window.videoBytes} for 15 cameras, ${page2.window.videoBytes} for 4`,
	);
	// Back to page 1: its cameras flow again, each starting from a new key frame.
	const hiddenKeyFrames = new Map([...page2.window.last.video].map(([id, stat]) => [id, stat.keyFrames]));
	await observer.getByTestId("grid-prev").click();
	await observer.getByTestId("grid-page").filter({ hasText: "1 de 2" }).waitFor();
	const again = await settle(observer);
	assert.deepEqual(again.window.flowing, again.shown);
	assert.equal(again.shown.length, 15);
	for (const id of again.shown) {
		const now = again.window.last.video.get(id)?.keyFrames ?? 0;
		assert.ok(now > (hiddenKeyFrames.get(id) ?? 0), `a key frame after resuming ${id}`);
	}
	await tile(observer, "Falante").waitFor();
});
