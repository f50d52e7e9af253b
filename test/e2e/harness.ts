/**
 * What every end-to-end file starts from: the whole service as real
 * processes (redis-server, SFU, API, as `npm start` runs them), Debian's
 * Chromium with a fake camera and microphone, and one browser context per
 * person. Registers its own hooks, so a file calls it once at the top: each
 * test's people are closed when the test ends, everything else when the file
 * ends, even after a failure.
 *
 * With `firefox: true` the file also gets Debian's Firefox ESR (one process,
 * a context per person) and an address of its own on a veth pair
 * (testing/src/netns.ts) that the SFU listens and announces on besides
 * 127.0.0.1, since Firefox never pairs with loopback candidates. `participant()`
 * gives a person in either browser behind one interface (testing/src/participant.ts).
 */
import { after, afterEach, before } from "node:test";
import { launchChromium, newParticipant, type ParticipantOptions } from "@mindmeet/testing/browser";
import { createTestAddress, type TestAddress } from "@mindmeet/testing/netns";
import {
	type BrowserName,
	chromiumParticipant,
	firefoxParticipant,
	launchFirefox,
	type Participant,
} from "@mindmeet/testing/participant";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { Browser as FirefoxBrowser } from "puppeteer-core";
import { freePort, freePortRange, type Stack, startStack } from "../../scripts/stack.ts";

export interface E2eOptions {
	/** Extra environment for the services (shorter lifetimes, an admin token…). */
	env?: Record<string, string>;
	/** Extra Chromium flags for the default browser (e.g. a wav as the fake microphone). */
	chromiumFlags?: string[];
	/** mediasoup workers in the SFU (default 1). */
	sfuWorkers?: number;
	/** Launch Firefox too, and give the SFU a non-loopback address of the test's own for it. */
	firefox?: boolean;
}

export interface E2e {
	readonly stack: Stack;
	/** The default browser. */
	readonly browser: Browser;
	/** Another Chromium process, closed with the rest (a second fake microphone needs its own). */
	launchBrowser(flags: string[]): Promise<Browser>;
	/** A person: a fresh context (own cookies, storage, permissions) and its page. */
	person(options?: ParticipantOptions & { browser?: Browser }): Promise<Page>;
	/** A person in Chromium (default browser) or Firefox (needs `firefox: true`), behind one interface; closed with the test. */
	participant(options?: { browser?: BrowserName; viewport?: { width: number; height: number } }): Promise<Participant>;
	/** The test's own non-loopback address the SFU also announces (with `firefox: true`). */
	readonly testAddress: TestAddress;
}

export function e2e(options: E2eOptions = {}): E2e {
	let stack: Stack | undefined;
	let browser: Browser | undefined;
	const browsers: Browser[] = [];
	const contexts: BrowserContext[] = [];
	let firefox: FirefoxBrowser | undefined;
	let testAddress: TestAddress | undefined;
	const participants: Participant[] = [];

	const launchBrowser = async (flags: string[]) => {
		const launched = await launchChromium(flags);
		browsers.push(launched);
		return launched;
	};

	before(async () => {
		const sfuWorkers = options.sfuWorkers ?? 1;
		if (options.firefox) testAddress = createTestAddress();
		stack = await startStack({
			apiPort: await freePort(),
			// Fixed media ports, known to the test (stack.rtcPorts: fault tests cut
			// them) and the same after an SFU restart.
			rtcPort: await freePortRange(sfuWorkers),
			sfuWorkers,
			...(testAddress ? { sfuExtraAddresses: [testAddress.address] } : {}),
			output: "ignore",
			logLevel: "warn",
			...(options.env ? { env: options.env } : {}),
		});
		browser = await launchBrowser(options.chromiumFlags ?? []);
		if (options.firefox) firefox = await launchFirefox();
	});

	// People leave with their test: calls left running would keep encoding and
	// decoding video and starve the tests after them (and would still be in the room).
	afterEach(async () => {
		for (const person of participants.splice(0)) await person.close().catch(() => {});
		for (const context of contexts.splice(0)) await context.close().catch(() => {});
	});

	after(async () => {
		for (const launched of browsers) await launched.close().catch(() => {});
		await firefox?.close().catch(() => {});
		// puppeteer kills the process on close; make sure, in case close() itself failed.
		const firefoxProcess = firefox?.process();
		if (firefoxProcess && firefoxProcess.exitCode === null && firefoxProcess.signalCode === null) {
			firefoxProcess.kill("SIGKILL");
		}
		await stack?.stop();
		testAddress?.remove();
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
		get testAddress() {
			return started(testAddress, "the test address (e2e({ firefox: true }))");
		},
		async participant({ browser: which = "chromium", viewport } = {}) {
			const person =
				which === "firefox"
					? await firefoxParticipant(started(firefox, "Firefox (e2e({ firefox: true }))"), viewport ? { viewport } : {})
					: await chromiumParticipant(started(browser, "the browser"), viewport ? { viewport } : {});
			participants.push(person);
			return person;
		},
		async person({ browser: which, ...participant } = {}) {
			const { context, page } = await newParticipant(which ?? started(browser, "the browser"), participant);
			// Generous bounds: these machines are shared, and a starved Chromium is slow, not broken.
			context.setDefaultTimeout(60_000);
			contexts.push(context);
			return page;
		},
	};
}
