/**
 * One person in a test, in Chromium or in Firefox alike (issue 12).
 *
 * Chromium is driven by playwright-core, as everywhere else in the suite;
 * Debian's firefox-esr by puppeteer-core over WebDriver BiDi (Playwright
 * cannot drive a stock Firefox). Both get a fake camera and microphone and
 * the same init script that keeps every RTCPeerConnection reachable, so media
 * is checked the same way in both. Only CSS selectors (data-testid hooks,
 * UX.md) and in-page functions cross this interface.
 */
import { existsSync } from "node:fs";
import type { Browser as PlaywrightBrowser, Page as PlaywrightPage } from "playwright-core";
import puppeteer, { type Browser as PuppeteerBrowser, type Page as PuppeteerPage } from "puppeteer-core";
import {
	chromiumFlags,
	chromiumPath,
	type InboundTotals,
	newParticipant,
	type ParticipantOptions,
	sumInboundRtp,
	trackPeerConnections,
} from "./browser.ts";

export type BrowserName = "chromium" | "firefox";

export type WaitState = "attached" | "detached" | "visible" | "hidden";

export interface Participant {
	readonly browserName: BrowserName;
	goto(url: string): Promise<void>;
	/** The page's address now. */
	url(): string;
	/** Wait until the first element matching `selector` is in `state` (default attached). */
	waitFor(selector: string, options?: { state?: WaitState; timeout?: number }): Promise<void>;
	/** A real click (pointer events through the browser) on the first match, once it is visible. */
	click(selector: string): Promise<void>;
	/** Replace the text of the input matching `selector`, as typing would. */
	fill(selector: string, text: string): Promise<void>;
	/** Run `fn(arg)` in the page and return its (serialisable) result. */
	evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
	/** Wait until `fn(arg)` is truthy in the page (polled every 100 ms); rejects after `timeout` ms. */
	waitForFunction<A>(fn: (arg: A) => unknown, arg: A, timeout?: number): Promise<void>;
	/** Resize the page's viewport (a person making their window smaller). */
	setViewport(size: { width: number; height: number }): Promise<void>;
	/** Uncaught exceptions and unhandled rejections the page had so far. */
	pageErrors(): readonly string[];
	close(): Promise<void>;
}

/** `[data-testid="id"]`, the only hook tests use (UX.md). */
export const byTestId = (id: string) => `[data-testid="${id}"]`;

/** Default bounds: these machines are shared, and a starved browser is slow, not broken. */
const defaultTimeoutMs = 60_000;

// -------------------------------------------------------------------- Chromium

class ChromiumParticipant implements Participant {
	readonly browserName = "chromium";
	readonly page: PlaywrightPage;
	readonly #errors: string[] = [];

	constructor(page: PlaywrightPage) {
		this.page = page;
		page.on("pageerror", (error) => this.#errors.push(String(error)));
	}

	pageErrors(): readonly string[] {
		return this.#errors;
	}

	async goto(url: string) {
		await this.page.goto(url);
	}

	url() {
		return this.page.url();
	}

	async waitFor(selector: string, options: { state?: WaitState; timeout?: number } = {}) {
		await this.page
			.locator(selector)
			.first()
			.waitFor({ state: options.state ?? "attached", timeout: options.timeout ?? defaultTimeoutMs });
	}

	async click(selector: string) {
		await this.page.locator(selector).first().click({ timeout: defaultTimeoutMs });
	}

	async fill(selector: string, text: string) {
		await this.page.locator(selector).first().fill(text, { timeout: defaultTimeoutMs });
	}

	evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
		// Playwright's overloads cannot see that a generic A is serialisable; it is, by this interface's contract.
		const run = this.page.evaluate.bind(this.page) as (f: (arg: A) => R | Promise<R>, arg: A) => Promise<R>;
		return run(fn, arg);
	}

	async waitForFunction<A>(fn: (arg: A) => unknown, arg: A, timeout = defaultTimeoutMs) {
		const wait = this.page.waitForFunction.bind(this.page) as (
			f: (arg: A) => unknown,
			arg: A,
			options: { timeout: number; polling: number },
		) => Promise<unknown>;
		await wait(fn, arg, { timeout, polling: 100 });
	}

	async setViewport(size: { width: number; height: number }) {
		await this.page.setViewportSize(size);
	}

	async close() {
		await this.page.context().close();
	}
}

/** A Chromium person: a fresh playwright context (own cookies, permissions) in `browser`. */
export async function chromiumParticipant(
	browser: PlaywrightBrowser,
	options: ParticipantOptions = {},
): Promise<Participant & { readonly page: PlaywrightPage }> {
	const { context, page } = await newParticipant(browser, options);
	context.setDefaultTimeout(defaultTimeoutMs);
	return new ChromiumParticipant(page);
}

// --------------------------------------------------------------------- Firefox

export const firefoxPath = process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr";

/**
 * Preferences for a headless Firefox in a call:
 * - fake camera (640×480, moving) and microphone (a steady tone), without a prompt;
 * - camera and microphone *granted* (as a person clicking "Allow"), not merely
 *   unprompted: only then does Firefox gather ICE candidates on every
 *   interface instead of the default route's alone;
 * - real host addresses in candidates (no mDNS names), so tests can read
 *   what Firefox gathered from getStats();
 * - autoplay of remote audio without a gesture;
 * - nothing downloaded: no OpenH264 plugin fetch (VP8 is what the SFU prefers).
 */
export function firefoxPrefs(locale: string): Record<string, unknown> {
	return {
		"media.navigator.streams.fake": true,
		"media.navigator.permission.disabled": true,
		"permissions.default.camera": 1,
		"permissions.default.microphone": 1,
		"media.peerconnection.ice.obfuscate_host_addresses": false,
		"media.autoplay.default": 0,
		"media.autoplay.blocking_policy": 0,
		"media.gmp-manager.updateEnabled": false,
		"media.gmp-gmpopenh264.autoupdate": false,
		"media.gmp-provider.enabled": false,
		"intl.accept_languages": locale,
		"intl.locale.requested": locale,
	};
}

/**
 * Debian's Firefox ESR, headless, driven over WebDriver BiDi. One process for
 * every Firefox person of a file (each gets its own browser context); close
 * it in an after hook. puppeteer-core never downloads a browser.
 */
export async function launchFirefox(options: { locale?: string } = {}): Promise<PuppeteerBrowser> {
	if (!existsSync(firefoxPath)) {
		throw new Error(`Firefox not found at ${firefoxPath}: apt-get install firefox-esr (or set FIREFOX_PATH)`);
	}
	return puppeteer.launch({
		browser: "firefox",
		executablePath: firefoxPath,
		headless: true,
		extraPrefsFirefox: firefoxPrefs(options.locale ?? "pt-BR"),
		protocolTimeout: 120_000,
	});
}

/** A person in a browser driven by puppeteer-core: Firefox, or Chromium when tabs must really hide (below). */
class PuppeteerParticipant implements Participant {
	readonly browserName: BrowserName;
	readonly page: PuppeteerPage;
	readonly #close: () => Promise<void>;
	readonly #errors: string[] = [];

	constructor(browserName: BrowserName, page: PuppeteerPage, close: () => Promise<void>) {
		this.browserName = browserName;
		this.page = page;
		this.#close = close;
		page.on("pageerror", (error) => this.#errors.push(String(error)));
	}

	pageErrors(): readonly string[] {
		return this.#errors;
	}

	async goto(url: string) {
		await this.page.goto(url, { timeout: defaultTimeoutMs });
	}

	url() {
		return this.page.url();
	}

	async waitFor(selector: string, options: { state?: WaitState; timeout?: number } = {}) {
		const state = options.state ?? "attached";
		await this.page.waitForFunction(
			(wanted: string, which: WaitState) => {
				const element = document.querySelector<HTMLElement>(wanted);
				const visible =
					element !== null && element.getClientRects().length > 0 && getComputedStyle(element).visibility !== "hidden";
				if (which === "attached") return element !== null;
				if (which === "detached") return element === null;
				if (which === "visible") return visible;
				return !visible;
			},
			{ timeout: options.timeout ?? defaultTimeoutMs, polling: 100 },
			selector,
			state,
		);
	}

	async click(selector: string) {
		await this.page.locator(selector).setTimeout(defaultTimeoutMs).click();
	}

	async fill(selector: string, text: string) {
		await this.page.locator(selector).setTimeout(defaultTimeoutMs).fill(text);
	}

	evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
		// As above: puppeteer's types flatten handles in A, which a serialisable A has none of.
		const run = this.page.evaluate.bind(this.page) as unknown as (f: (arg: A) => R | Promise<R>, arg: A) => Promise<R>;
		return run(fn, arg);
	}

	async waitForFunction<A>(fn: (arg: A) => unknown, arg: A, timeout = defaultTimeoutMs) {
		const wait = this.page.waitForFunction.bind(this.page) as unknown as (
			f: (arg: A) => unknown,
			options: { timeout: number; polling: number },
			arg: A,
		) => Promise<unknown>;
		await wait(fn, { timeout, polling: 100 }, arg);
	}

	async setViewport(size: { width: number; height: number }) {
		await this.page.setViewport(size);
	}

	async close() {
		await this.#close();
	}
}

/** A Firefox person: a fresh browser context (own cookies and storage) in `browser`. */
export async function firefoxParticipant(
	browser: PuppeteerBrowser,
	options: { viewport?: { width: number; height: number } } = {},
): Promise<Participant & { readonly page: PuppeteerPage }> {
	const context = await browser.createBrowserContext();
	const page = await context.newPage();
	page.setDefaultTimeout(defaultTimeoutMs);
	await page.setViewport(options.viewport ?? { width: 1280, height: 800 });
	await page.evaluateOnNewDocument(trackPeerConnections);
	return new PuppeteerParticipant("firefox", page, () => context.close());
}

// ------------------------------------------------------- Chromium, in real tabs

/**
 * Chromium driven by puppeteer-core, for the one thing Playwright cannot do
 * here: a page that really goes to the background. Playwright opens every
 * page in a window of its own, so a page never becomes hidden whatever is in
 * front; puppeteer opens pages as tabs of one window, and bringing another
 * tab to the front makes the first one `document.visibilityState ===
 * "hidden"`, as a person switching tabs would (checked with headless
 * Chromium 156).
 */
export async function launchChromiumWithTabs(extraFlags: string[] = []): Promise<PuppeteerBrowser> {
	if (!existsSync(chromiumPath)) {
		throw new Error(`Chromium not found at ${chromiumPath}: apt-get install chromium (or set CHROMIUM_PATH)`);
	}
	return puppeteer.launch({
		executablePath: chromiumPath,
		headless: true,
		args: [...chromiumFlags.filter((flag) => flag !== "--headless"), ...extraFlags],
		protocolTimeout: 120_000,
	});
}

/** A Chromium person whose tab can be covered by another tab and shown again. */
export interface TabbedParticipant extends Participant {
	readonly page: PuppeteerPage;
	/** Open another tab in front of this one (this page becomes hidden); returns what brings it back. */
	coverWithAnotherTab(): Promise<() => Promise<void>>;
}

/** A person in `browser` (from launchChromiumWithTabs): a fresh browser context, its page a tab. */
export async function chromiumTabParticipant(
	browser: PuppeteerBrowser,
	options: { viewport?: { width: number; height: number } } = {},
): Promise<TabbedParticipant> {
	const context = await browser.createBrowserContext();
	const page = await context.newPage();
	page.setDefaultTimeout(defaultTimeoutMs);
	await page.setViewport(options.viewport ?? { width: 1280, height: 800 });
	await page.evaluateOnNewDocument(trackPeerConnections);
	const person = new PuppeteerParticipant("chromium", page, () => context.close());
	return Object.assign(person, {
		page,
		async coverWithAnotherTab() {
			const other = await context.newPage();
			await other.bringToFront();
			return async () => {
				await page.bringToFront();
				await other.close();
			};
		},
	});
}

// ----------------------------------------------------------------------- media

/** Sum of inbound RTP over every peer connection of the page (Chromium and Firefox report alike). */
export function participantInbound(person: Participant): Promise<InboundTotals> {
	return person.evaluate(sumInboundRtp, undefined);
}

/** Wait until inbound audio bytes and decoded video frames both grow (bounded number of 250 ms samples). */
export async function expectParticipantMedia(
	person: Participant,
	options: { audio: boolean; video: boolean },
	samples = 80,
): Promise<{ first: InboundTotals; last: InboundTotals }> {
	const first = await participantInbound(person);
	let last = first;
	for (let i = 0; i < samples; i++) {
		await new Promise((resolve) => setTimeout(resolve, 250));
		last = await participantInbound(person);
		const audioOk = !options.audio || last.audioBytes > first.audioBytes;
		const videoOk = !options.video || last.framesDecoded > first.framesDecoded;
		if (audioOk && videoOk) return { first, last };
	}
	throw new Error(
		`media did not flow into ${person.browserName}: first ${JSON.stringify(first)}, last ${JSON.stringify(last)}`,
	);
}

export interface LocalCandidate {
	address: string;
	protocol: string;
	candidateType: string;
}

/** The ICE candidates the page's browser gathered (getStats "local-candidate"), over every connection. */
export function localCandidates(person: Participant): Promise<LocalCandidate[]> {
	return person.evaluate(async () => {
		const found: { address: string; protocol: string; candidateType: string }[] = [];
		const connections = (window as unknown as { __peerConnections?: RTCPeerConnection[] }).__peerConnections ?? [];
		for (const connection of connections) {
			(await connection.getStats()).forEach(
				(stat: { type: string; address?: string; protocol?: string; candidateType?: string }) => {
					if (stat.type !== "local-candidate") return;
					found.push({
						address: stat.address ?? "",
						protocol: stat.protocol ?? "",
						candidateType: stat.candidateType ?? "",
					});
				},
			);
		}
		return found;
	}, undefined);
}

export interface OutboundVideoLayer {
	rid: string | null;
	frameWidth: number;
	bytesSent: number;
}

/** Every outbound video RTP stream of the page (one per simulcast layer), from getStats(). */
export function outboundVideoLayers(person: Participant): Promise<OutboundVideoLayer[]> {
	return person.evaluate(async () => {
		const found: { rid: string | null; frameWidth: number; bytesSent: number }[] = [];
		const connections = (window as unknown as { __peerConnections?: RTCPeerConnection[] }).__peerConnections ?? [];
		for (const connection of connections) {
			if (connection.connectionState === "closed") continue;
			(await connection.getStats()).forEach(
				(stat: { type: string; kind?: string; rid?: string; frameWidth?: number; bytesSent?: number }) => {
					if (stat.type !== "outbound-rtp" || stat.kind !== "video") return;
					found.push({ rid: stat.rid ?? null, frameWidth: stat.frameWidth ?? 0, bytesSent: stat.bytesSent ?? 0 });
				},
			);
		}
		return found;
	}, undefined);
}
