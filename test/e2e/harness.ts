/**
 * What every end-to-end file starts from: the whole service as real
 * processes (redis-server, SFU, API, as `npm start` runs them), Debian's
 * Chromium with a fake camera and microphone, and one browser context per
 * person. Registers its own hooks, so a file calls it once at the top: each
 * test's people are closed when the test ends, everything else when the file
 * ends, even after a failure.
 */
import { after, afterEach, before } from "node:test";
import { launchChromium, newParticipant, type ParticipantOptions } from "@mindmeet/testing/browser";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { freePort, freePortRange, type Stack, startStack } from "../../scripts/stack.ts";

export interface E2eOptions {
	/** Extra environment for the services (shorter lifetimes, an admin token…). */
	env?: Record<string, string>;
	/** Extra Chromium flags for the default browser (e.g. a wav as the fake microphone). */
	chromiumFlags?: string[];
	/** mediasoup workers in the SFU (default 1). */
	sfuWorkers?: number;
}

export interface E2e {
	readonly stack: Stack;
	/** The default browser. */
	readonly browser: Browser;
	/** Another Chromium process, closed with the rest (a second fake microphone needs its own). */
	launchBrowser(flags: string[]): Promise<Browser>;
	/** A person: a fresh context (own cookies, storage, permissions) and its page. */
	person(options?: ParticipantOptions & { browser?: Browser }): Promise<Page>;
}

export function e2e(options: E2eOptions = {}): E2e {
	let stack: Stack | undefined;
	let browser: Browser | undefined;
	const browsers: Browser[] = [];
	const contexts: BrowserContext[] = [];

	const launchBrowser = async (flags: string[]) => {
		const launched = await launchChromium(flags);
		browsers.push(launched);
		return launched;
	};

	before(async () => {
		const sfuWorkers = options.sfuWorkers ?? 1;
		stack = await startStack({
			apiPort: await freePort(),
			// Fixed media ports, known to the test (stack.rtcPorts: fault tests cut
			// them) and the same after an SFU restart.
			rtcPort: await freePortRange(sfuWorkers),
			sfuWorkers,
			output: "ignore",
			logLevel: "warn",
			...(options.env ? { env: options.env } : {}),
		});
		browser = await launchBrowser(options.chromiumFlags ?? []);
	});

	// People leave with their test: calls left running would keep encoding and
	// decoding video and starve the tests after them (and would still be in the room).
	afterEach(async () => {
		for (const context of contexts.splice(0)) await context.close().catch(() => {});
	});

	after(async () => {
		for (const launched of browsers) await launched.close().catch(() => {});
		await stack?.stop();
	});

	const started = <T>(value: T | undefined, what: string): T => {
		if (value === undefined) throw new Error(`${what} is not started yet: use it inside a test`);
		return value;
	};

	return {
		get stack() {
			return started(stack, "the stack");
		},
		get browser() {
			return started(browser, "the browser");
		},
		launchBrowser,
		async person({ browser: which, ...participant } = {}) {
			const { context, page } = await newParticipant(which ?? started(browser, "the browser"), participant);
			// Generous bounds: these machines are shared, and a starved Chromium is slow, not broken.
			context.setDefaultTimeout(60_000);
			contexts.push(context);
			return page;
		},
	};
}
