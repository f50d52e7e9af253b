/**
 * What a person does in the UI, written against `Participant` so the same
 * steps run in Chromium and in Firefox (issue 12). Only data-testid hooks
 * (UX.md) and plain DOM reads, never copy or layout.
 */
import { byTestId, type Participant } from "./participant.ts";

/** A tile: `name`'s, remote unless `self`; optionally only while it shows (or not) as speaking. */
export function tileSelector(name: string, self = false, speaking?: boolean): string {
	return `[data-testid="tile"][data-peer-name="${name}"][data-self="${self}"]${
		speaking === undefined ? "" : `[data-speaking="${speaking}"]`
	}`;
}

/** Create a room from the home page and wait until the host is in the call. Returns the room link. */
export async function createRoomAs(
	person: Participant,
	baseUrl: string,
	name: string,
	mode: "video" | "audio" = "video",
): Promise<string> {
	await person.goto(baseUrl);
	await person.fill(byTestId("create-name"), name);
	await person.click(byTestId(mode === "video" ? "create-mode-video" : "create-mode-audio"));
	await person.click(byTestId("create-room"));
	await person.waitForFunction(() => /\/r\/[A-Za-z0-9]+$/.test(location.pathname), undefined);
	await person.waitFor(tileSelector(name, true));
	return person.url();
}

/** Open the link, type a name and knock; resolves when the waiting screen shows. */
export async function knockAs(person: Participant, link: string, name: string): Promise<void> {
	await person.goto(link);
	await person.fill(byTestId("prejoin-name"), name);
	await person.click(byTestId("knock"));
	await person.waitFor(byTestId("waiting"));
}

/** On the host's screen: wait for the knock modal naming `name` (the only one open) and answer it. */
export async function answerKnockAs(host: Participant, name: string, answer: "admit" | "deny"): Promise<void> {
	await host.waitForFunction(
		(wanted) =>
			Array.from(document.querySelectorAll('[data-testid="knock-modal"]')).some((modal) =>
				(modal.textContent ?? "").includes(wanted),
			),
		name,
	);
	await host.click(`${byTestId("knock-modal")} ${byTestId(answer)}`);
	await host.waitFor(byTestId("knock-modal"), { state: "detached" });
}

/**
 * Wait until the <video> matching `selector` has a picture and its count of
 * shown frames goes up (a moving picture, not one frozen frame). Returns its
 * size then. Fails with what it saw after `timeoutMs`.
 */
export async function videoMoving(
	person: Participant,
	selector: string,
	timeoutMs = 60_000,
): Promise<{ width: number; height: number }> {
	const outcome = await person.evaluate(
		({ selector, timeoutMs }) =>
			new Promise<{ ok: boolean; width: number; height: number; frames: number }>((resolve) => {
				const deadline = performance.now() + timeoutMs;
				// Frames shown, counted three ways: Firefox leaves getVideoPlaybackQuality()
				// at 0 for a MediaStream, so its mozPaintedFrames and
				// requestVideoFrameCallback (both browsers) count too.
				let callbacks = 0;
				let watched: HTMLVideoElement | null = null;
				const shown = (video: HTMLVideoElement | null) => {
					if (!video) return 0;
					if (video !== watched && "requestVideoFrameCallback" in video) {
						watched = video;
						const onFrame = () => {
							callbacks++;
							if (watched === video) video.requestVideoFrameCallback(onFrame);
						};
						video.requestVideoFrameCallback(onFrame);
					}
					const painted = (video as HTMLVideoElement & { mozPaintedFrames?: number }).mozPaintedFrames ?? 0;
					return Math.max(video.getVideoPlaybackQuality().totalVideoFrames, painted, callbacks);
				};
				let first = -1;
				const check = () => {
					const video = document.querySelector<HTMLVideoElement>(selector);
					const frames = shown(video);
					const width = video?.videoWidth ?? 0;
					const height = video?.videoHeight ?? 0;
					if (width > 0 && first < 0) first = frames;
					if (first >= 0 && frames > first) resolve({ ok: true, width, height, frames });
					else if (performance.now() > deadline) resolve({ ok: false, width, height, frames });
					else setTimeout(check, 100);
				};
				check();
			}),
		{ selector, timeoutMs },
	);
	if (!outcome.ok) {
		throw new Error(
			`no moving picture in ${selector} on ${person.browserName}: ${outcome.width}×${outcome.height}, ${outcome.frames} frames`,
		);
	}
	return { width: outcome.width, height: outcome.height };
}

/** Wait until the <video> matching `selector` shows a picture exactly `width` pixels wide. */
export async function videoWidthBecomes(
	person: Participant,
	selector: string,
	width: number,
	timeoutMs = 60_000,
): Promise<void> {
	try {
		await person.waitForFunction(
			({ selector, width }) => document.querySelector<HTMLVideoElement>(selector)?.videoWidth === width,
			{ selector, width },
			timeoutMs,
		);
	} catch {
		const now = await person.evaluate(
			(selector) => document.querySelector<HTMLVideoElement>(selector)?.videoWidth ?? null,
			selector,
		);
		throw new Error(`${selector} on ${person.browserName}: expected a ${width} px wide picture, it is ${now}`);
	}
}

/** Open the chat panel unless its input is already on screen. */
export async function openChatAs(person: Participant): Promise<void> {
	const open = await person.evaluate(() => {
		const input = document.querySelector<HTMLElement>('[data-testid="chat-input"]');
		return input !== null && input.getClientRects().length > 0;
	}, undefined);
	if (open) return;
	await person.click(byTestId("chat-toggle"));
	await person.waitFor(byTestId("chat-input"), { state: "visible" });
}

/** Open the chat panel if needed, type `text` and send it. */
export async function sendChatAs(person: Participant, text: string): Promise<void> {
	await openChatAs(person);
	await person.fill(byTestId("chat-input"), text);
	await person.click(byTestId("chat-send"));
}

/** Open the chat panel if needed and wait until a message whose text is exactly `text` is shown; returns its author. */
export async function chatMessageAs(person: Participant, text: string): Promise<string | null> {
	await openChatAs(person);
	// Functions run in the page must be self-contained: no closures over this module.
	await person.waitForFunction(
		(wanted) =>
			Array.from(document.querySelectorAll('[data-testid="chat-message"] [data-testid="chat-text"]')).some(
				(element) => element.textContent === wanted,
			),
		text,
	);
	return person.evaluate(
		(wanted) =>
			Array.from(document.querySelectorAll('[data-testid="chat-message"]'))
				.find((message) => message.querySelector('[data-testid="chat-text"]')?.textContent === wanted)
				?.getAttribute("data-author") ?? null,
		text,
	);
}
