/**
 * The chat panel, driven through its data-testid hooks only (UX.md):
 * `chat-toggle`, `chat-input`, `chat-send`, `chat-message` (with
 * `data-author`, and children `chat-text` and `chat-time`).
 */
import type { Page } from "playwright-core";

export interface ShownChatMessage {
	author: string | null;
	text: string;
	time: string;
}

/** Open the chat panel unless its input is already on screen. */
export async function openChat(page: Page): Promise<void> {
	const input = page.getByTestId("chat-input");
	if (await input.isVisible()) return;
	await page.getByTestId("chat-toggle").click();
	await input.waitFor({ state: "visible" });
}

/** Type `text` in the chat input and press the send button. */
export async function sendChat(page: Page, text: string): Promise<void> {
	await page.getByTestId("chat-input").fill(text);
	await page.getByTestId("chat-send").click();
}

/** Every chat message on screen, oldest first, as the person sees it. */
export async function chatMessages(page: Page): Promise<ShownChatMessage[]> {
	return page.getByTestId("chat-message").evaluateAll((elements) =>
		elements.map((element) => ({
			author: element.getAttribute("data-author"),
			text: element.querySelector('[data-testid="chat-text"]')?.textContent ?? "",
			time: (element.querySelector('[data-testid="chat-time"]')?.textContent ?? "").trim(),
		})),
	);
}

/** Wait until a message whose text is exactly `text` is shown, and return it. */
export async function waitForChatMessage(page: Page, text: string, timeout = 30_000): Promise<ShownChatMessage> {
	await page.waitForFunction(
		(wanted) =>
			Array.from(document.querySelectorAll('[data-testid="chat-message"] [data-testid="chat-text"]')).some(
				(element) => element.textContent === wanted,
			),
		text,
		{ timeout },
	);
	const found = (await chatMessages(page)).find((message) => message.text === text);
	if (!found) throw new Error(`chat message ${JSON.stringify(text)} vanished`);
	return found;
}

/** The browser's own local HH:mm for one minute ago, now and one minute ahead. */
export async function localClockAround(page: Page): Promise<string[]> {
	return page.evaluate(() => {
		const hhmm = (date: Date) =>
			`${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
		const now = Date.now();
		return [now - 60_000, now, now + 60_000].map((ms) => hhmm(new Date(ms)));
	});
}

/** The visible text of the chat toggle (where an unread badge shows its count). */
export async function chatToggleText(page: Page): Promise<string> {
	// biome-ignore lint/performance/useDomNodeTextContent: what is on screen is the point, not hidden labels
	return (await page.getByTestId("chat-toggle").innerText()).trim();
}

/** Wait until the chat toggle's visible text matches `pattern`; false if it did not within `timeout`. */
export async function waitForChatToggle(page: Page, pattern: RegExp, timeout = 20_000): Promise<boolean> {
	return page
		.waitForFunction(
			([source, flags]) => {
				const toggle = document.querySelector<HTMLElement>('[data-testid="chat-toggle"]');
				// biome-ignore lint/performance/useDomNodeTextContent: what is on screen is the point, not hidden labels
				return toggle !== null && new RegExp(source, flags).test(toggle.innerText);
			},
			[pattern.source, pattern.flags] as const,
			{ timeout },
		)
		.then(
			() => true,
			() => false,
		);
}
