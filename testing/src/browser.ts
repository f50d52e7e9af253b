/**
 * Real Chromium (Debian's /usr/bin/chromium) driven by playwright-core, with
 * the fake camera and microphone, for end-to-end tests and benchmarks.
 */
import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const chromiumFlags = [
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--use-fake-device-for-media-stream",
	"--use-fake-ui-for-media-stream",
	"--autoplay-policy=no-user-gesture-required",
];

export async function launchChromium(extraFlags: string[] = []): Promise<Browser> {
	if (!existsSync(chromiumPath)) {
		throw new Error(`Chromium not found at ${chromiumPath}: apt-get install chromium (or set CHROMIUM_PATH)`);
	}
	return chromium.launch({ executablePath: chromiumPath, args: [...chromiumFlags, ...extraFlags] });
}

/**
 * Keeps every RTCPeerConnection the page makes reachable from the test, so
 * media can be checked with getStats() without any hook in the product.
 */
export const trackPeerConnections = () => {
	const Original = window.RTCPeerConnection;
	const tracked: RTCPeerConnection[] = [];
	(window as unknown as { __peerConnections: RTCPeerConnection[] }).__peerConnections = tracked;
	class TrackedPeerConnection extends Original {
		constructor(configuration?: RTCConfiguration) {
			super(configuration);
			tracked.push(this);
		}
	}
	window.RTCPeerConnection = TrackedPeerConnection;
};

export interface ParticipantOptions {
	/** Browser locale; default pt-BR. */
	locale?: string;
	/** IANA time zone; default the machine's. */
	timezoneId?: string;
	/** Default 1280×800. */
	viewport?: { width: number; height: number };
}

export async function newParticipant(
	browser: Browser,
	options: ParticipantOptions = {},
): Promise<{ context: BrowserContext; page: Page }> {
	const context = await browser.newContext({
		permissions: ["camera", "microphone"],
		locale: options.locale ?? "pt-BR",
		viewport: options.viewport ?? { width: 1280, height: 800 },
		...(options.timezoneId ? { timezoneId: options.timezoneId } : {}),
	});
	await context.addInitScript(trackPeerConnections);
	const page = await context.newPage();
	return { context, page };
}

export interface InboundTotals {
	audioBytes: number;
	videoBytes: number;
	framesDecoded: number;
}

/**
 * Runs in the page (passed to evaluate, by Playwright and puppeteer alike):
 * the sum of inbound RTP over every peer connection the init script tracked.
 * Chromium and Firefox report these stats alike.
 */
export async function sumInboundRtp(): Promise<InboundTotals> {
	{
		const totals = { audioBytes: 0, videoBytes: 0, framesDecoded: 0 };
		const connections = (window as unknown as { __peerConnections?: RTCPeerConnection[] }).__peerConnections ?? [];
		for (const connection of connections) {
			if (connection.connectionState === "closed") continue;
			const report = await connection.getStats();
			report.forEach((stat: { type: string; kind?: string; bytesReceived?: number; framesDecoded?: number }) => {
				if (stat.type !== "inbound-rtp") return;
				if (stat.kind === "audio") totals.audioBytes += stat.bytesReceived ?? 0;
				if (stat.kind === "video") {
					totals.videoBytes += stat.bytesReceived ?? 0;
					totals.framesDecoded += stat.framesDecoded ?? 0;
				}
			});
		}
		return totals;
	}
}

/** Sum of inbound RTP over every peer connection of the page. */
export async function inboundTotals(page: Page): Promise<InboundTotals> {
	return page.evaluate(sumInboundRtp);
}

/** Wait until inbound audio bytes and decoded video frames both grow (bounded number of samples). */
export async function expectMediaFlowing(
	page: Page,
	options: { audio: boolean; video: boolean },
	samples = 40,
): Promise<{ first: InboundTotals; last: InboundTotals }> {
	const first = await inboundTotals(page);
	let last = first;
	for (let i = 0; i < samples; i++) {
		await page.waitForTimeout(250);
		last = await inboundTotals(page);
		const audioOk = !options.audio || last.audioBytes > first.audioBytes;
		const videoOk = !options.video || last.framesDecoded > first.framesDecoded;
		if (audioOk && videoOk) return { first, last };
	}
	throw new Error(`media did not flow: first ${JSON.stringify(first)}, last ${JSON.stringify(last)}`);
}
