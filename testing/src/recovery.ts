/**
 * What a person sees while a meeting survives a fault (issue 8), checked
 * through the UI's data-testid hooks (UX.md) and, where the person cannot
 * see it (is a kept token still refused?), through the real signaling path.
 * No timing assertions: every wait is generous and only bounds a hang.
 */
import { once } from "node:events";
import type { RefusalReason, RoomInfo } from "@mindmeet/protocol";
import type { Locator, Page } from "playwright-core";
import { answerKnock, createRoom, knock, tile } from "./flows.ts";
import { SignalingPeer } from "./signaling-peer.ts";

export function roomIdOf(link: string): string {
	return new URL(link).pathname.split("/").pop() ?? "";
}

/**
 * A two-person video call, as people make one: the host creates the room in
 * the UI, the guest knocks by the link and is admitted; resolves once each
 * sees the other's video advancing. Returns the room link.
 */
export async function startCall(
	host: Page,
	hostName: string,
	guest: Page,
	guestName: string,
	baseUrl: string,
): Promise<string> {
	const link = await createRoom(host, baseUrl, hostName);
	await knock(guest, link, guestName);
	await answerKnock(host, guestName, "admit");
	await tile(guest, hostName).waitFor();
	await Promise.all([remoteVideoAdvancing(host, guestName), remoteVideoAdvancing(guest, hostName)]);
	return link;
}

/** sessionStorage key under which the web client keeps a room's credentials. */
export const credentialsKey = (roomId: string) => `mindmeet:credentials:${roomId}`;

/** The raw credentials a page holds for a room (what a reload rejoins with), if any. */
export async function storedCredentials(page: Page, roomId: string): Promise<string | undefined> {
	const value = await page.evaluate((key) => sessionStorage.getItem(key), credentialsKey(roomId));
	return value ?? undefined;
}

/** The media token inside stored credentials (JSON with a `token` field). */
export function tokenOf(credentials: string): string {
	const parsed = JSON.parse(credentials) as { token?: unknown };
	if (typeof parsed.token !== "string") throw new Error("stored credentials carry no token");
	return parsed.token;
}

/**
 * Wait until the video in `name`'s (remote) tile shows a picture and keeps
 * advancing: at least `frames` more frames rendered since this call began,
 * in whichever <video> the tile holds by then (a reconnect may replace it).
 * A sustained count, not one frame: a stalled stream can still render what
 * its jitter buffer held for a moment after a fault.
 */
export async function remoteVideoAdvancing(
	page: Page,
	name: string,
	options: { frames?: number; timeout?: number } = {},
): Promise<void> {
	const token = `advancing-${Math.random().toString(36).slice(2)}`;
	const frames = options.frames ?? 20;
	try {
		await page.waitForFunction(
			([peer, mark, wanted]) => {
				const holder = window as unknown as { __frameMarks?: Record<string, WeakMap<HTMLVideoElement, number>> };
				holder.__frameMarks ??= {};
				holder.__frameMarks[mark] ??= new WeakMap();
				const marks = holder.__frameMarks[mark];
				const video = document.querySelector<HTMLVideoElement>(
					`[data-testid="tile"][data-peer-name="${CSS.escape(peer)}"][data-self="false"] video`,
				);
				if (!video || video.videoWidth === 0) return false;
				const rendered = video.getVideoPlaybackQuality().totalVideoFrames;
				const first = marks.get(video);
				if (first === undefined) {
					marks.set(video, rendered);
					return false;
				}
				return rendered - first >= wanted;
			},
			[name, token, frames] as const,
			{ timeout: options.timeout ?? 90_000, polling: 250 },
		);
	} catch (error) {
		const state = await page
			.evaluate((peer) => {
				const tiles = document.querySelectorAll(`[data-testid="tile"][data-peer-name="${CSS.escape(peer)}"]`);
				const video = tiles[0]?.querySelector("video");
				return `${tiles.length} tile(s); video ${video ? `${video.videoWidth}px wide, ${video.getVideoPlaybackQuality().totalVideoFrames} frames` : "none"}`;
			}, name)
			.catch(() => "page gone");
		throw new Error(`${name}'s video did not keep advancing (${state}): ${(error as Error).message.split("\n")[0]}`);
	}
}

/** Names on the page's tiles, each with how many tiles show it. */
export async function tileCounts(page: Page): Promise<Record<string, number>> {
	return page.locator('[data-testid="tile"]').evaluateAll((tiles) => {
		const counts: Record<string, number> = {};
		for (const tile of tiles) {
			const name = tile.getAttribute("data-peer-name") ?? "";
			counts[name] = (counts[name] ?? 0) + 1;
		}
		return counts;
	});
}

/**
 * Wait until the page shows exactly one tile for each of `names` and no
 * other tile (no ghost of a person's earlier connection); fail naming what
 * it shows instead.
 */
export async function oneTileEach(page: Page, names: readonly string[], timeout = 60_000): Promise<void> {
	const wanted = [...names].sort();
	try {
		await page.waitForFunction(
			(expected) => {
				const shown = Array.from(document.querySelectorAll('[data-testid="tile"]'))
					.map((tile) => tile.getAttribute("data-peer-name") ?? "")
					.sort();
				return JSON.stringify(shown) === JSON.stringify(expected);
			},
			wanted,
			{ timeout, polling: 250 },
		);
	} catch {
		throw new Error(
			`expected one tile each for ${JSON.stringify(wanted)}, the page shows ${JSON.stringify(await tileCounts(page))}`,
		);
	}
}

/** How many chat messages on the page have exactly `text`. */
export async function chatCount(page: Page, text: string): Promise<number> {
	return page
		.locator('[data-testid="chat-message"] [data-testid="chat-text"]')
		.evaluateAll((elements, wanted) => elements.filter((element) => element.textContent === wanted).length, text);
}

/** The "join again" button on the page shown after a call was lost. */
export function rejoinButton(page: Page, label: string): Locator {
	return page.getByTestId("rejoin").or(page.getByRole("button", { name: label, exact: true }));
}

/** The chat panel's button that loads older messages ("Mensagens anteriores"). */
export function olderMessagesButton(page: Page, label = "Mensagens anteriores"): Locator {
	return page.getByTestId("chat-older").or(page.getByRole("button", { name: label }));
}

/**
 * Open the room link and knock, retrying while that cannot work yet: just
 * after a Redis restart the room exists again only once its SFU re-asserted
 * it (on its next heartbeat), so the link may say "not found" or the knock
 * may fail for a few seconds, as it would for a person trying again.
 * Resolves when the waiting screen shows.
 */
export async function knockWhenRoomIsBack(
	page: Page,
	link: string,
	name: string,
	notFoundText: string,
	timeout = 60_000,
): Promise<void> {
	const deadline = Date.now() + timeout;
	let last = "";
	while (Date.now() < deadline) {
		await page.goto(link);
		const nameField = page.getByTestId("prejoin-name");
		const notFound = page.getByText(notFoundText);
		await nameField.or(notFound).first().waitFor();
		if (await nameField.isVisible()) {
			await nameField.fill(name);
			await page.getByTestId("knock").click();
			const waiting = page.getByTestId("waiting");
			await waiting.or(page.getByTestId("toast")).first().waitFor();
			if (await waiting.isVisible()) return;
			last = `the knock failed: ${(await page.getByTestId("toast").allTextContents()).join(" | ")}`;
		} else {
			last = "the link said the room was not found";
		}
		await page.waitForTimeout(1_000);
	}
	throw new Error(`could not knock on ${link} within ${timeout} ms; last: ${last}`);
}

/** What the SFU answers a signaling connection made with `token`. */
export type SignalingAnswer =
	| { kind: "joined" }
	| { kind: "refused"; reason: RefusalReason }
	/** The room lookup, the WebSocket upgrade or the join failed without a refusal: try again later. */
	| { kind: "unavailable"; detail: string };

/** Open the room's signaling socket with `token` (as the web client does), try to join, report the answer. */
export async function signalingAnswer(baseUrl: string, roomId: string, token: string): Promise<SignalingAnswer> {
	const info = await fetch(`${baseUrl}/api/rooms/${encodeURIComponent(roomId)}`).then(
		async (response) => (response.ok ? ((await response.json()) as RoomInfo) : `room lookup ${response.status}`),
		(error: Error) => `room lookup failed: ${error.message}`,
	);
	if (typeof info === "string") return { kind: "unavailable", detail: info };
	let peer: SignalingPeer;
	try {
		peer = await SignalingPeer.connect(baseUrl, roomId, token);
	} catch (error) {
		return { kind: "unavailable", detail: (error as Error).message };
	}
	try {
		await peer.join();
		return { kind: "joined" };
	} catch (error) {
		// A refusal arrives as a notification just before the socket closes.
		const emitter = peer.client as unknown as NodeJS.EventEmitter;
		if (!peer.client.closed) await Promise.race([once(emitter, "close"), new Promise((r) => setTimeout(r, 5_000))]);
		const refused = peer.notifications.find((notification) => notification.method === "refused");
		if (refused) return { kind: "refused", reason: (refused.data as { reason: RefusalReason }).reason };
		return { kind: "unavailable", detail: (error as Error).message };
	} finally {
		peer.close();
	}
}

/**
 * The answer to `token` once the service can decide: "unavailable" answers
 * (a Redis or process restart in progress) are retried for up to `timeout`.
 */
export async function decidedSignalingAnswer(
	baseUrl: string,
	roomId: string,
	token: string,
	timeout = 60_000,
): Promise<SignalingAnswer> {
	const deadline = Date.now() + timeout;
	for (;;) {
		const answer = await signalingAnswer(baseUrl, roomId, token);
		if (answer.kind !== "unavailable" || Date.now() > deadline) return answer;
		await new Promise((resolve) => setTimeout(resolve, 1_000));
	}
}
