/**
 * A real two-person call through the whole stack: redis-server, the SFU and
 * API processes as `npm start` runs them, and two Chromium contexts with
 * fake camera and microphone.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { expectMediaFlowing, launchChromium, newParticipant } from "@mindmeet/testing/browser";
import { answerKnock, createRoom, knock } from "@mindmeet/testing/flows";
import type { Browser } from "playwright-core";
import { freePort, type Stack, startStack } from "../../scripts/stack.ts";

let stack: Stack;
let browser: Browser;

before(async () => {
	stack = await startStack({
		apiPort: await freePort(),
		rtcPort: 0,
		sfuWorkers: 1,
		output: "ignore",
		logLevel: "warn",
	});
	browser = await launchChromium();
});

after(async () => {
	await browser?.close();
	await stack?.stop();
});

test("host creates a room in the UI, a guest knocks by the link and is admitted, both see and hear each other, then one leaves", async () => {
	const host = await newParticipant(browser);
	const guest = await newParticipant(browser);
	try {
		const link = await createRoom(host.page, stack.url, "Ana");
		await knock(guest.page, link, "Bia");
		await answerKnock(host.page, "Bia", "admit");

		const anaOnGuest = guest.page.locator('[data-testid="tile"][data-peer-name="Ana"][data-self="false"]');
		const biaOnHost = host.page.locator('[data-testid="tile"][data-peer-name="Bia"][data-self="false"]');
		await anaOnGuest.waitFor();
		await biaOnHost.waitFor();

		for (const [page, tile] of [
			[host.page, biaOnHost],
			[guest.page, anaOnGuest],
		] as const) {
			await tile.locator("video").evaluate(
				(video: HTMLVideoElement) =>
					new Promise<void>((resolve) => {
						const check = () => (video.videoWidth > 0 ? resolve() : requestAnimationFrame(check));
						check();
					}),
			);
			const width = await tile.locator("video").evaluate((video: HTMLVideoElement) => video.videoWidth);
			assert.ok(width > 0, "remote video has frames");
			const { first, last } = await expectMediaFlowing(page, { audio: true, video: true });
			assert.ok(last.framesDecoded > first.framesDecoded, "video frames keep being decoded");
			assert.ok(last.audioBytes > first.audioBytes, "audio bytes keep arriving");
		}

		await guest.page.getByTestId("leave").click();
		await biaOnHost.waitFor({ state: "detached" });
		assert.equal(await host.page.locator('[data-testid="tile"]').count(), 1, "only the host's own tile is left");
	} finally {
		await host.context.close();
		await guest.context.close();
	}
});
