/**
 * A real two-person call through the whole stack: redis-server, the SFU and
 * API processes as `npm start` runs them, and two Chromium contexts with
 * fake camera and microphone.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { expectMediaFlowing, launchChromium, newParticipant } from "@mindmeet/testing/browser";
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

test("host creates a room in the UI, a guest joins by the link, both see and hear each other, then one leaves", async () => {
	const host = await newParticipant(browser);
	const guest = await newParticipant(browser);
	try {
		await host.page.goto(stack.url);
		await host.page.getByTestId("create-name").fill("Ana");
		await host.page.getByTestId("create-mode-video").click();
		await host.page.getByTestId("create-room").click();
		await host.page.waitForURL(/\/r\/[A-Za-z0-9]+$/);
		await host.page.locator('[data-testid="tile"][data-self="true"]').waitFor();
		const link = host.page.url();

		await guest.page.goto(link);
		await guest.page.getByTestId("prejoin-name").fill("Bia");
		await guest.page.getByTestId("knock").click();

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
