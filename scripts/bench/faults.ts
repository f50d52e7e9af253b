/**
 * Faults: how long a call is interrupted when something breaks under it, in
 * real Chromium. A host and a guest are in a call with video both ways; each
 * page records the time of every decoded frame of the other's camera. A
 * fault is made, and the recovery is the time from the fault (or, for a
 * network cut, from the moment the network is back) until frames arrive
 * again on BOTH sides after the gap the fault caused. Next to it, in the
 * same run, a fresh join (click → first frame), the time a person waits
 * anyway when entering a call.
 */
import { newParticipant } from "@mindmeet/testing/browser";
import { cutNetwork, killMediasoupWorkers } from "@mindmeet/testing/faults";
import { answerKnock, createRoom, firstFrame, knock, tile } from "@mindmeet/testing/flows";
import type { Browser, Page } from "playwright-core";
import { freePort, freePortRange, type Stack, startStack } from "../stack.ts";
import { type BenchSection, markdownTable, median, percentile } from "./measure.ts";

const trials = Number(process.env.BENCH_FAULT_TRIALS ?? 5);
/** A frame after a silence this long is the call coming back. */
const gapMs = 400;
const networkCutMs = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Record, in the page, the wall-clock time of each frame of the remote
 * camera, whichever video element shows it now (a rebuilt call may give the
 * tile a new one).
 */
async function watchFrames(page: Page): Promise<void> {
	await page.evaluate(() => {
		const w = window as unknown as { __frames: number[]; __watched: WeakSet<HTMLVideoElement> };
		w.__frames = [];
		w.__watched = new WeakSet();
		const follow = (video: HTMLVideoElement) => {
			if (w.__watched.has(video)) return;
			w.__watched.add(video);
			const onFrame = () => {
				w.__frames.push(Date.now());
				if (w.__frames.length > 5000) w.__frames.splice(0, 1000);
				video.requestVideoFrameCallback(onFrame);
			};
			video.requestVideoFrameCallback(onFrame);
		};
		window.setInterval(() => {
			for (const video of document.querySelectorAll<HTMLVideoElement>(
				'[data-testid="tile"][data-self="false"] video',
			)) {
				follow(video);
			}
		}, 50);
	});
}

/** The first frame after `since` that follows a gap of at least gapMs (the fault's), or undefined. */
async function frameAfterGap(page: Page, since: number): Promise<number | undefined> {
	return page.evaluate(
		({ since, gapMs }) => {
			const frames = (window as unknown as { __frames: number[] }).__frames;
			for (let i = 1; i < frames.length; i++) {
				const at = frames[i] ?? 0;
				if (at > since && at - (frames[i - 1] ?? 0) >= gapMs) return at;
			}
			return undefined;
		},
		{ since, gapMs },
	);
}

/** The last frame time, if any. */
async function lastFrame(page: Page): Promise<number> {
	return page.evaluate(() => {
		const frames = (window as unknown as { __frames: number[] }).__frames;
		return frames[frames.length - 1] ?? 0;
	});
}

/**
 * Wait until both pages show frames again after the fault. `from` is the
 * time recovery is counted from. If a side never had a gap (the fault did
 * not reach its media), its recovery is 0. Bounded at 60 s.
 */
async function recovery(pages: Page[], faultAt: number, from: number): Promise<number> {
	const deadline = Date.now() + 60_000;
	const done: (number | undefined)[] = pages.map(() => undefined);
	while (Date.now() < deadline) {
		for (const [index, page] of pages.entries()) {
			if (done[index] !== undefined) continue;
			const back = await frameAfterGap(page, faultAt);
			if (back !== undefined) {
				done[index] = Math.max(0, back - from);
				continue;
			}
			// No gap at all, and frames still flowing well after the fault: this side was never interrupted.
			const last = await lastFrame(page);
			if (Date.now() - faultAt > 3000 && last > faultAt + 2500) done[index] = 0;
		}
		if (done.every((value) => value !== undefined)) return Math.max(...(done as number[]));
		await sleep(50);
	}
	throw new Error("the call did not come back within 60 s");
}

interface Call {
	host: Page;
	guest: Page;
	close(): Promise<void>;
}

async function startCall(browser: Browser, stack: Stack): Promise<Call> {
	const host = await newParticipant(browser);
	const guest = await newParticipant(browser);
	for (const { context } of [host, guest]) context.setDefaultTimeout(60_000);
	const link = await createRoom(host.page, stack.url, "Host");
	await knock(guest.page, link, "Guest");
	await answerKnock(host.page, "Guest", "admit");
	await firstFrame(guest.page, "Host");
	await firstFrame(host.page, "Guest");
	await watchFrames(host.page);
	await watchFrames(guest.page);
	await sleep(1500);
	return {
		host: host.page,
		guest: guest.page,
		close: async () => {
			await host.context.close();
			await guest.context.close();
		},
	};
}

/** A fresh guest's click on "knock" → first frame of the host's camera (the host admits at once). */
async function freshJoin(browser: Browser, host: Page, index: number): Promise<number> {
	const guest = await newParticipant(browser);
	guest.context.setDefaultTimeout(60_000);
	const name = `Fresh ${index}`;
	await guest.page.goto(host.url());
	await guest.page.getByTestId("prejoin-name").fill(name);
	const started = Date.now();
	await guest.page.getByTestId("knock").click();
	await answerKnock(host, name, "admit");
	await firstFrame(guest.page, "Host");
	const took = Date.now() - started;
	await guest.page.getByTestId("leave").click();
	await guest.context.close();
	await tile(host, name).waitFor({ state: "detached" });
	return took;
}

type Fault =
	| "worker SIGKILL"
	| "SFU process killed and restarted"
	| "Redis restarted (SHUTDOWN NOSAVE)"
	| "10 s network cut";

/** Make one fault; resolves with the time recovery is counted from. */
async function inject(fault: Fault, stack: Stack): Promise<{ faultAt: number; from: number }> {
	const now = Date.now();
	switch (fault) {
		case "worker SIGKILL": {
			const sfu = stack.pid("sfu");
			if (!sfu) throw new Error("no SFU");
			await killMediasoupWorkers(sfu);
			return { faultAt: now, from: now };
		}
		case "SFU process killed and restarted": {
			const pid = stack.kill("sfu", "SIGKILL");
			void stack.whenHealthy("sfu", { replacing: pid });
			return { faultAt: now, from: now };
		}
		case "Redis restarted (SHUTDOWN NOSAVE)":
			await stack.restartRedis();
			return { faultAt: now, from: now };
		case "10 s network cut": {
			const cut = cutNetwork({ tcp: [stack.apiPort, ...stack.rtcPorts], udp: stack.rtcPorts });
			await sleep(networkCutMs);
			cut.restore();
			return { faultAt: now, from: Date.now() };
		}
	}
}

export async function faultsBenchmark(browser: Browser): Promise<BenchSection> {
	const stack = await startStack({
		apiPort: await freePort(),
		// Fixed media ports, so a network cut can name them.
		rtcPort: await freePortRange(2),
		sfuWorkers: 2,
		output: "ignore",
		logLevel: "warn",
		env: { KNOCK_RATE_LIMIT: "100000", SIGNALING_PING_INTERVAL: "5" },
	});
	const faults: Fault[] = [
		"worker SIGKILL",
		"SFU process killed and restarted",
		"Redis restarted (SHUTDOWN NOSAVE)",
		"10 s network cut",
	];
	const results = new Map<Fault | "fresh join", number[]>();
	const failures: string[] = [];
	try {
		let call = await startCall(browser, stack);
		const joins: number[] = [];
		for (let trial = 0; trial < trials; trial++) {
			joins.push(await freshJoin(browser, call.host, trial));
			for (const fault of faults) {
				try {
					const { faultAt, from } = await inject(fault, stack);
					const took = await recovery([call.host, call.guest], faultAt, from);
					results.set(fault, [...(results.get(fault) ?? []), took]);
				} catch (error) {
					failures.push(`${fault}, trial ${trial + 1}: ${(error as Error).message}`);
					// Start over with a fresh call, so one failure does not spoil the rest.
					await call.close();
					await stack.whenHealthy("sfu");
					await stack.whenHealthy("api");
					call = await startCall(browser, stack);
				}
				// Let the call settle (and the stack's health) before the next fault.
				await sleep(3000);
			}
		}
		results.set("fresh join", joins);
		await call.close();
	} finally {
		await stack.stop();
	}

	const fresh = median(results.get("fresh join") ?? []);
	const s = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : "—");
	const rows = [...faults, "fresh join" as const].map((name) => {
		const values = results.get(name) ?? [];
		return [
			name,
			`${values.length} / ${trials}`,
			s(median(values)),
			s(percentile(values, 90)),
			name === "fresh join" ? "1.00" : (median(values) / fresh).toFixed(2),
		];
	});
	const table = markdownTable(
		["fault", "recovered / trials", "recovery median", "recovery p90", "median ÷ fresh join median"],
		rows,
	);
	const raw = [...results.entries()].map(([name, values]) => `- ${name} (ms): ${values.join(", ")}`).join("\n");
	console.log(`\n${table}\n${failures.length ? `failures:\n${failures.join("\n")}\n` : ""}`);
	return {
		title: "Faults",
		markdown: `A host and a guest (Chromium, fake camera and microphone) in a call with video both
ways, on an SFU with 2 workers; ${trials} trials of each fault, one after another in the same call.
Each page records the time of every decoded frame of the other's camera. Recovery is the time
from the fault until frames arrive again on both pages after the gap the fault made (a side
whose video never stopped counts 0); for the network cut it is counted from the moment the
network is back. The cut drops every packet of the API's port (signaling) and the SFU's
media ports on loopback for ${networkCutMs / 1000} s (nftables); the API pings signaling sockets
every 5 s in this run. The SFU is restarted by the stack's supervisor, as \`./mindmeet start\`
does. "Fresh join" is a new guest's click on "Pedir para entrar" → first frame, with the host
admitting at once, measured in the same run. Targets: worker SIGKILL ≤ 3 s median;
network return ≤ 2 s median.

${table}

${raw}
${failures.length ? `\nTrials that did not recover (a fresh call was started after each):\n${failures.map((f) => `- ${f}`).join("\n")}\n` : ""}`,
	};
}
