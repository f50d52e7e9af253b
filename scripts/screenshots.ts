/**
 * `npm run screenshots`: builds the web client, starts the whole stack as
 * real processes, drives real Chromium through every screen (two people in
 * one room) and writes PNGs to docs/screenshots/: <screen>-desktop.png at
 * 1280×800 and <screen>-phone.png at 390×844. A screen that cannot be reached
 * is reported and the command exits non-zero after taking the others.
 *
 * `--no-build` skips the web build (when it was just built).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { launchChromium, newParticipant } from "@mindmeet/testing/browser";
import { openChat, sendChat, waitForChatMessage } from "@mindmeet/testing/chat";
import { answerKnock, createRoom, firstFrame, knock, tile } from "@mindmeet/testing/flows";
import { animationsSettled } from "@mindmeet/testing/watch";
import type { Page } from "playwright-core";
import { freePort, repoRoot, startStack } from "./stack.ts";

const outDir = join(repoRoot, "docs/screenshots");
const sizes = {
	desktop: { width: 1280, height: 800 },
	phone: { width: 390, height: 844 },
} as const;

if (!process.argv.includes("--no-build")) {
	const build = spawnSync("npm", ["run", "build", "--silent"], { cwd: repoRoot, stdio: "inherit" });
	if (build.status !== 0) {
		console.error("web build failed");
		process.exit(1);
	}
}

mkdirSync(outDir, { recursive: true });
const stack = await startStack({
	apiPort: await freePort(),
	rtcPort: 0,
	sfuWorkers: 1,
	output: "ignore",
	logLevel: "warn",
});
const browser = await launchChromium();
const failures: string[] = [];
const written: string[] = [];

/** Let transitions and the first video frames settle, then shoot the viewport. */
async function shoot(page: Page, name: string, size: string): Promise<void> {
	await animationsSettled(page);
	await page.waitForTimeout(300);
	const file = join(outDir, `${name}-${size}.png`);
	await page.screenshot({ path: file });
	written.push(file);
}

/** Run one step; a failure is recorded and stops only the steps of this size that depend on it. */
async function step(what: string, action: () => Promise<void>): Promise<boolean> {
	try {
		await action();
		return true;
	} catch (error) {
		failures.push(`${what}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
		return false;
	}
}

/** Wait until the local preview on the pre-join screen has a picture. */
async function previewFrame(page: Page): Promise<void> {
	await page
		.locator("video")
		.first()
		.evaluate(
			(video: HTMLVideoElement) =>
				new Promise<void>((resolve) => {
					const deadline = performance.now() + 10_000;
					const check = () =>
						video.videoWidth > 0 || performance.now() > deadline ? resolve() : requestAnimationFrame(check);
					check();
				}),
		);
}

try {
	for (const [size, viewport] of Object.entries(sizes)) {
		const host = await newParticipant(browser, { viewport });
		const guest = await newParticipant(browser, { viewport });
		const hostPage = host.page;
		const guestPage = guest.page;
		let link = "";
		try {
			await step(`home (${size})`, async () => {
				await hostPage.goto(stack.url);
				await hostPage.getByTestId("create-room").waitFor();
				await shoot(hostPage, "home", size);
			});
			const inRoom = await step(`alone panel (${size})`, async () => {
				link = await createRoom(hostPage, stack.url, "Ana Lima");
				await hostPage.getByTestId("alone-panel").waitFor();
				await shoot(hostPage, "alone", size);
			});
			if (!inRoom) continue;
			await step(`pre-join (${size})`, async () => {
				await guestPage.goto(link);
				await guestPage.getByTestId("prejoin-name").fill("Bia Souza");
				await previewFrame(guestPage).catch(() => {});
				await shoot(guestPage, "prejoin", size);
			});
			const waiting = await step(`waiting (${size})`, async () => {
				await knock(guestPage, link, "Bia Souza");
				await shoot(guestPage, "waiting", size);
			});
			if (!waiting) continue;
			await step(`knock modal (${size})`, async () => {
				await hostPage.getByTestId("knock-modal").waitFor();
				await shoot(hostPage, "knock", size);
			});
			const inCall = await step(`call (${size})`, async () => {
				await answerKnock(hostPage, "Bia Souza", "admit");
				await tile(hostPage, "Bia Souza").waitFor();
				await firstFrame(hostPage, "Bia Souza");
				await firstFrame(guestPage, "Ana Lima");
				await shoot(hostPage, "call", size);
			});
			if (!inCall) continue;
			await step(`someone enlarged (${size})`, async () => {
				const inGrid = tile(hostPage, "Bia Souza");
				await inGrid.hover();
				await inGrid.getByTestId("tile-enlarge").click();
				await hostPage.locator('[data-testid="tile"][data-featured="true"]').waitFor();
				await firstFrame(hostPage, "Bia Souza");
				await shoot(hostPage, "enlarged", size);
				await hostPage.getByTestId("stage-back-to-grid").click();
			});
			await step(`call with chat open (${size})`, async () => {
				await openChat(guestPage);
				await sendChat(guestPage, "Oi, Ana! Tudo bem por aí?");
				await openChat(hostPage);
				await waitForChatMessage(hostPage, "Oi, Ana! Tudo bem por aí?");
				await sendChat(hostPage, "Tudo ótimo! Vamos começar?");
				await waitForChatMessage(hostPage, "Tudo ótimo! Vamos começar?");
				await shoot(hostPage, "chat", size);
			});
		} finally {
			await host.context.close();
			await guest.context.close();
		}
	}
} finally {
	await browser.close();
	await stack.stop();
}

for (const file of written) console.log(`wrote ${file}`);
if (failures.length > 0) {
	console.error(`\n${failures.length} screen(s) could not be taken:\n  ${failures.join("\n  ")}`);
	process.exit(1);
}
