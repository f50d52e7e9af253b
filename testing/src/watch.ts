/**
 * "Never" checks without timing assertions: record in the page whether a
 * selector matched at any moment (every DOM change is seen by a
 * MutationObserver), in addition to the test's own samples.
 */
import type { Page } from "playwright-core";

type Watches = Record<string, { selector: string; seen: boolean; observer: MutationObserver }>;

let nextWatch = 0;

export interface SelectorWatch {
	/** Sample now as well, then report whether the selector ever matched since the watch began. */
	everMatched(): Promise<boolean>;
	stop(): Promise<void>;
}

export async function watchSelector(page: Page, selector: string): Promise<SelectorWatch> {
	const id = `watch-${nextWatch++}`;
	await page.evaluate(
		([watchId, watched]) => {
			const holder = window as unknown as { __watches?: Watches };
			holder.__watches ??= {};
			const entry = {
				selector: watched,
				seen: document.querySelector(watched) !== null,
				observer: new MutationObserver(() => {
					if (document.querySelector(watched)) entry.seen = true;
				}),
			};
			entry.observer.observe(document.documentElement, { subtree: true, childList: true, attributes: true });
			holder.__watches[watchId] = entry;
		},
		[id, selector] as const,
	);
	return {
		everMatched: () =>
			page.evaluate((watchId) => {
				const entry = (window as unknown as { __watches: Watches }).__watches[watchId];
				if (!entry) throw new Error(`watch ${watchId} is gone (the page reloaded?)`);
				if (document.querySelector(entry.selector)) entry.seen = true;
				return entry.seen;
			}, id),
		stop: () =>
			page.evaluate((watchId) => {
				const holder = window as unknown as { __watches: Watches };
				holder.__watches[watchId]?.observer.disconnect();
				delete holder.__watches[watchId];
			}, id),
	};
}

/** Take `count` samples `intervalMs` apart; return the first sample for which `check` is true, if any. */
export async function sampleFor<T>(
	page: Page,
	count: number,
	intervalMs: number,
	read: () => Promise<T>,
	check: (value: T) => boolean,
): Promise<T | undefined> {
	for (let i = 0; i < count; i++) {
		const value = await read();
		if (check(value)) return value;
		await page.waitForTimeout(intervalMs);
	}
	return undefined;
}

/**
 * Wait (at most `timeout` ms) until every finite CSS animation and transition
 * on the page has finished, so what is measured (colours, layout) is the
 * settled screen and not a frame of a fade-in. Endless ones (spinners) are ignored.
 */
export async function animationsSettled(page: Page, timeout = 5_000): Promise<void> {
	await page
		.waitForFunction(
			() =>
				document
					.getAnimations()
					.every(
						(animation) =>
							animation.playState !== "running" ||
							animation.effect?.getTiming().iterations === Number.POSITIVE_INFINITY,
					),
			undefined,
			{ timeout, polling: 50 },
		)
		.catch(() => {});
}

export interface ToastRecorder {
	/** Every toast text shown since recording began, in order (toasts vanish; this keeps them). */
	texts(): Promise<string[]>;
}

/** Record every toast the page shows from now on, however briefly. */
export async function recordToasts(page: Page): Promise<ToastRecorder> {
	await page.evaluate(() => {
		const holder = window as unknown as { __toastLog?: string[] };
		const log: string[] = [];
		holder.__toastLog = log;
		// Toasts already up are not news: only those that appear from now on count.
		const seen = new WeakSet<Element>(document.querySelectorAll('[data-testid="toast"]'));
		const collect = () => {
			for (const toast of document.querySelectorAll('[data-testid="toast"]')) {
				if (seen.has(toast)) continue;
				seen.add(toast);
				log.push(toast.textContent?.trim() ?? "");
			}
		};
		new MutationObserver(collect).observe(document.documentElement, { subtree: true, childList: true });
	});
	return {
		texts: () =>
			page.evaluate(() => {
				const log = (window as unknown as { __toastLog?: string[] }).__toastLog;
				if (!log) throw new Error("toast recording is gone (the page reloaded?)");
				return [...log];
			}),
	};
}
