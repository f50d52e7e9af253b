/**
 * What a person does in the UI, step by step, shared by the end-to-end
 * tests and the benchmarks. Only data-testid hooks are used (UX.md), never
 * copy or layout.
 */
import type { Page } from "playwright-core";

export function tile(page: Page, name: string, self = false) {
	return page.locator(`[data-testid="tile"][data-peer-name="${name}"][data-self="${self}"]`);
}

/** Create a room from the home page and wait until the host is in the call. Returns the room link. */
export async function createRoom(page: Page, baseUrl: string, name: string, mode: "video" | "audio" = "video") {
	await page.goto(baseUrl);
	await page.getByTestId("create-name").fill(name);
	await page.getByTestId(mode === "video" ? "create-mode-video" : "create-mode-audio").check();
	await page.getByTestId("create-room").click();
	await page.waitForURL(/\/r\/[A-Za-z0-9]+$/);
	await tile(page, name, true).waitFor();
	return page.url();
}

/** Open the link, type a name and knock; resolves when the waiting screen shows. */
export async function knock(page: Page, link: string, name: string): Promise<void> {
	await page.goto(link);
	await page.getByTestId("prejoin-name").fill(name);
	await page.getByTestId("knock").click();
	await page.getByTestId("waiting").waitFor();
}

/** On the host's page: wait for the knock modal naming `name` and answer it. */
export async function answerKnock(host: Page, name: string, answer: "admit" | "deny"): Promise<void> {
	const modal = host.getByTestId("knock-modal").filter({ hasText: name });
	await modal.waitFor();
	await modal.getByTestId(answer).click();
	await modal.waitFor({ state: "detached" });
}

/** Wait until the video in `name`'s tile shows frames. */
export async function firstFrame(page: Page, name: string): Promise<void> {
	await tile(page, name)
		.locator("video")
		.evaluate(
			(video: HTMLVideoElement) =>
				new Promise<void>((resolve) => {
					const check = () => (video.videoWidth > 0 ? resolve() : requestAnimationFrame(check));
					check();
				}),
		);
}

/** The texts of the toasts on screen now. */
export async function toastTexts(page: Page): Promise<string[]> {
	return page.getByTestId("toast").allTextContents();
}

/** Wait until a toast containing `text` shows. */
export async function toast(page: Page, text: string): Promise<void> {
	await page.getByTestId("toast").filter({ hasText: text }).first().waitFor();
}
