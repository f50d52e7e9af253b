/**
 * Mixed calls, Firefox and Chromium, both ways (issue 12): Debian's Firefox
 * ESR (puppeteer-core over WebDriver BiDi, fake camera and a tone as its
 * microphone) and Debian's Chromium (playwright-core, fake camera and beep)
 * through the real Redis, SFU and API processes.
 *
 * Firefox never pairs with loopback candidates, so the SFU also listens and
 * announces on an address of this file's own (a veth pair, see
 * testing/src/netns.ts); Chromium keeps using 127.0.0.1.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { type Catalogue, loadCatalogues } from "@mindmeet/testing/i18n";
import {
	answerKnockAs,
	chatMessageAs,
	createRoomAs,
	knockAs,
	sendChatAs,
	tileSelector,
	videoMoving,
	videoWidthBecomes,
} from "@mindmeet/testing/mixed-flows";
import {
	byTestId,
	expectParticipantMedia,
	localCandidates,
	outboundVideoLayers,
	type Participant,
	participantInbound,
} from "@mindmeet/testing/participant";
import { e2e } from "./harness.ts";

/** Chromium picks its (fake) screen for getDisplayMedia without a prompt. */
const meet = e2e({ firefox: true, chromiumFlags: ["--auto-select-desktop-capture-source=Entire screen"] });
let pt: Catalogue;
before(async () => {
	pt = (await loadCatalogues())["pt-BR"];
});

const video = (name: string) => `${tileSelector(name)} video`;

/** Host creates a video room, the guest knocks and is admitted; each sees the other's tile. */
async function call(host: Participant, hostName: string, guest: Participant, guestName: string): Promise<void> {
	const link = await createRoomAs(host, meet.stack.url, hostName);
	await knockAs(guest, link, guestName);
	await answerKnockAs(host, guestName, "admit");
	await host.waitFor(tileSelector(guestName));
	await guest.waitFor(tileSelector(hostName));
}

/** Each sees the other's camera moving and receives growing audio and video. */
async function mediaBothWays(a: Participant, aName: string, b: Participant, bName: string): Promise<void> {
	for (const [person, other] of [
		[a, bName],
		[b, aName],
	] as const) {
		const size = await videoMoving(person, video(other));
		assert.ok(size.width > 0, `${person.browserName} shows ${other}'s picture`);
		const { first, last } = await expectParticipantMedia(person, { audio: true, video: true });
		assert.ok(last.audioBytes > first.audioBytes, `audio keeps arriving in ${person.browserName}`);
		assert.ok(last.framesDecoded > first.framesDecoded, `video keeps being decoded in ${person.browserName}`);
	}
}

/** What Firefox gathered: the file's own address, and nothing on loopback (why it needs one). */
async function firefoxGatheredOnTestAddress(firefox: Participant): Promise<void> {
	const gathered = await localCandidates(firefox);
	const addresses = new Set(gathered.map((candidate) => candidate.address));
	assert.ok(
		addresses.has(meet.testAddress.address),
		`Firefox gathered on the test's address ${meet.testAddress.address}: ${[...addresses].join(", ")}`,
	);
	assert.ok(
		![...addresses].some((address) => address.startsWith("127.") || address === "::1"),
		`Firefox gathered no loopback candidate: ${[...addresses].join(", ")}`,
	);
}

async function chatBothWays(a: Participant, aName: string, b: Participant, bName: string): Promise<void> {
	const fromA = `${aName} em ${a.browserName}: olá`;
	await sendChatAs(a, fromA);
	assert.equal(await chatMessageAs(b, fromA), aName, `${b.browserName} shows ${aName}'s message`);
	const fromB = `${bName} em ${b.browserName}: oi!`;
	await sendChatAs(b, fromB);
	assert.equal(await chatMessageAs(a, fromB), bName, `${a.browserName} shows ${bName}'s message`);
}

async function waitForSpeaking(person: Participant, name: string, speaking: boolean, what: string) {
	try {
		await person.waitFor(tileSelector(name, false, speaking), { timeout: 40_000 });
	} catch {
		const now = await person.evaluate(
			(selector) => document.querySelector(selector)?.getAttribute("data-speaking") ?? null,
			tileSelector(name),
		);
		assert.fail(`${what}: expected data-speaking="${speaking}", it stayed "${now}"`);
	}
}

/** `who` mutes: `other` sees mic-off and no glow; unmutes: mic-off goes and the glow comes back. */
async function muteSeen(who: Participant, whoName: string, other: Participant): Promise<void> {
	const micOff = `${tileSelector(whoName)} ${byTestId("tile-mic-off")}`;
	assert.equal(
		await other.evaluate((selector) => document.querySelector(selector) === null, micOff),
		true,
		"no mic-off icon while the mic is on",
	);
	await who.click(byTestId("mic-toggle"));
	await other.waitFor(micOff);
	await waitForSpeaking(other, whoName, false, `${whoName} (${who.browserName}) muted, on ${other.browserName}`);
	await who.click(byTestId("mic-toggle"));
	await other.waitFor(micOff, { state: "detached" });
	await waitForSpeaking(other, whoName, true, `${whoName} (${who.browserName}) unmuted, on ${other.browserName}`);
}

test("a Firefox host and a Chromium guest: knock, admit, video and audio both ways, chat, speaking glow, mute", {
	timeout: 300_000,
}, async () => {
	const ana = await meet.participant({ browser: "firefox" });
	const bia = await meet.participant({ browser: "chromium" });
	await call(ana, "Ana", bia, "Bia");
	await mediaBothWays(ana, "Ana", bia, "Bia");
	await firefoxGatheredOnTestAddress(ana);
	await chatBothWays(ana, "Ana", bia, "Bia");

	// Firefox's fake microphone is a steady tone and Chromium's a loud beep: both count as speaking.
	await waitForSpeaking(bia, "Ana", true, "Ana's (Firefox) tile on Bia's screen");
	await waitForSpeaking(ana, "Bia", true, "Bia's (Chromium) tile on Ana's screen");
	await muteSeen(ana, "Ana", bia);
	await muteSeen(bia, "Bia", ana);
	// Still flowing after the toggles.
	const inbound = await participantInbound(ana);
	await expectParticipantMedia(ana, { audio: true, video: true });
	assert.ok(inbound.audioBytes > 0);
	assert.deepEqual(ana.pageErrors(), [], "no uncaught error in Firefox");
	assert.deepEqual(bia.pageErrors(), [], "no uncaught error in Chromium");
});

test("a Chromium host and a Firefox guest: knock, admit, video and audio both ways, chat; Firefox's simulcast layers switch", {
	timeout: 300_000,
}, async () => {
	const caio = await meet.participant({ browser: "chromium" });
	const dani = await meet.participant({ browser: "firefox" });
	await call(caio, "Caio", dani, "Dani");
	await mediaBothWays(caio, "Caio", dani, "Dani");
	await firefoxGatheredOnTestAddress(dani);
	await chatBothWays(caio, "Caio", dani, "Dani");
	await waitForSpeaking(caio, "Dani", true, "Dani's (Firefox) tile on Caio's screen");

	// Firefox sends its camera as two simulcast layers, by rid: half and full
	// size (the full one starts once its bandwidth estimate allows).
	const both = (widths: number[]) => widths.includes(320) && widths.includes(640);
	let layers = await outboundVideoLayers(dani);
	for (let i = 0; i < 160 && !both(layers.map((layer) => layer.frameWidth)); i++) {
		await new Promise((resolve) => setTimeout(resolve, 250));
		layers = await outboundVideoLayers(dani);
	}
	assert.deepEqual(
		layers.map((layer) => layer.frameWidth).sort((a, b) => a - b),
		[320, 640],
		`Firefox's outbound layers: ${JSON.stringify(layers)}`,
	);
	assert.equal(new Set(layers.map((layer) => layer.rid)).size, 2, "each layer has its own rid");

	// A wide tile gets Firefox's full layer (its fake camera is 640×480); a
	// narrow window, the half-size one; wide again, the full one.
	await videoWidthBecomes(caio, video("Dani"), 640);
	await caio.setViewport({ width: 420, height: 800 });
	await videoWidthBecomes(caio, video("Dani"), 320);
	await videoMoving(caio, video("Dani"));
	await caio.setViewport({ width: 1280, height: 800 });
	await videoWidthBecomes(caio, video("Dani"), 640);
	await videoMoving(caio, video("Dani"));
	assert.deepEqual(dani.pageErrors(), [], "no uncaught error in Firefox");
	assert.deepEqual(caio.pageErrors(), [], "no uncaught error in Chromium");
});

test("screen share: Firefox sees Chromium's screen moving; headless Firefox has no screen to share, is told so, and the call goes on", {
	timeout: 300_000,
}, async () => {
	const eva = await meet.participant({ browser: "chromium" });
	const fabi = await meet.participant({ browser: "firefox" });
	await call(eva, "Eva", fabi, "Fabi");

	await eva.click(byTestId("screen-share"));
	const view = byTestId("screen-share-view");
	await fabi.waitFor(view);
	assert.equal(
		await fabi.evaluate((selector) => document.querySelector(selector)?.getAttribute("data-peer-name") ?? null, view),
		"Eva",
	);
	await videoMoving(fabi, `${view} video`);
	await videoMoving(fabi, video("Eva"));
	await eva.click(byTestId("screen-share"));
	await fabi.waitFor(view, { state: "detached" });

	// Headless Firefox has no screen source and no fake one: getDisplayMedia
	// rejects with NotFoundError. She is told there is nothing to share (not
	// "try again later"), nothing is shared, and the call goes on.
	await fabi.click(byTestId("screen-share"));
	const message = pt["media.screenUnavailable"];
	assert.ok(message, "the pt-BR catalogue has media.screenUnavailable");
	await fabi.waitForFunction(
		(wanted) =>
			Array.from(document.querySelectorAll('[data-testid="toast"]')).some((toast) =>
				(toast.textContent ?? "").includes(wanted),
			),
		message,
	);
	await fabi.waitFor(`${byTestId("screen-share")}[aria-pressed="false"]:not([disabled])`);
	assert.equal(await eva.evaluate((selector) => document.querySelector(selector) === null, view), true);
	await expectParticipantMedia(eva, { audio: true, video: true });
	await expectParticipantMedia(fabi, { audio: true, video: true });
	assert.deepEqual(fabi.pageErrors(), [], "no uncaught error in Firefox");
});
