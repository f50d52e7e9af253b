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
/** The shortest silence taken for an interruption (see recoveredAt). */
const minGapMs = 150;
const networkCutMs = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const roomIdOf = (link: string) => new URL(link).pathname.split("/").pop() ?? "";

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

/** Every recorded frame time of the remote camera, oldest first. */
async function frameTimes(page: Page): Promise<number[]> {
	return page.evaluate(() => [...(window as unknown as { __frames: number[] }).__frames]);
}

/**
 * When frames came back after the fault: the end of the longest silence
 * among the frames since `faultAt` (counting the silence up to now, so a
 * call still frozen is not taken for one that recovered), once 20 frames have
 * followed it. A longest silence under gapMs means the fault never reached
 * this side's video: it recovered at once. Undefined while not settled.
 * gapMs is 2.5 frame intervals of the camera as it arrived before the fault.
 */
function recoveredAt(frames: number[], faultAt: number, now: number): number | undefined {
	// A silence counts when it is well over the camera's own frame interval just before the fault.
	const before = frames.filter((at) => at >= faultAt - 2000 && at < faultAt);
	const intervals = before.slice(1).map((at, i) => at - (before[i] ?? at));
	const gapMs = Math.max(minGapMs, 2.5 * (intervals.length > 0 ? median(intervals) : 100));
	const since = frames.filter((at) => at >= faultAt - 200);
	if (now - faultAt < 1500) return undefined;
	let longest = 0;
	let end: number | undefined;
	let after = 0;
	for (let i = 1; i < since.length; i++) {
		const gap = (since[i] ?? 0) - (since[i - 1] ?? 0);
		if (gap > longest) {
			longest = gap;
			end = since[i];
			after = since.length - i;
		}
	}
	const last = since[since.length - 1] ?? faultAt;
	if (now - last >= Math.max(longest, gapMs)) return undefined; // frozen right now
	if (longest < gapMs) return faultAt;
	return after >= 20 ? end : undefined;
}

/**
 * Wait until both pages show frames again after the fault; the recovery is
 * the later of the two, counted from `from` (the fault, or the network's
 * return). Bounded at 60 s.
 */
async function recovery(pages: Page[], faultAt: number, from: number): Promise<number> {
	const deadline = Date.now() + 60_000;
	while (Date.now() < deadline) {
		const now = Date.now();
		const back = await Promise.all(pages.map(async (page) => recoveredAt(await frameTimes(page), faultAt, now)));
		if (back.every((at) => at !== undefined)) return Math.max(0, ...back.map((at) => (at as number) - from));
		await sleep(100);
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

/** After each Redis restart: ms from the restart until a knock on the room is accepted again. */
const knockBackAfter: number[] = [];

/**
 * Knock on the room until the API accepts (the SFU writes the room back to a
 * Redis that lost it on its next heartbeat), then withdraw the knock so the
 * host's page stays as it was. Bounded at 60 s.
 */
async function knockAccepted(stack: Stack, roomId: string, since: number): Promise<number> {
	const deadline = Date.now() + 60_000;
	while (Date.now() < deadline) {
		const response = await fetch(`${stack.url}/api/rooms/${roomId}/knocks`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ name: "Probe" }),
		}).catch(() => undefined);
		if (response?.status === 201 || response?.status === 200) {
			const took = Date.now() - since;
			const { knockId, knockSecret } = (await response.json()) as { knockId: string; knockSecret: string };
			await fetch(`${stack.url}/api/rooms/${roomId}/knocks/${knockId}`, {
				method: "DELETE",
				headers: { "x-knock-secret": knockSecret },
			});
			return took;
		}
		await response?.arrayBuffer();
		await sleep(100);
	}
	throw new Error("knocks were not accepted again within 60 s of the Redis restart");
}

/** Make one fault; resolves with the time recovery is counted from. */
async function inject(fault: Fault, stack: Stack, roomId: string): Promise<{ faultAt: number; from: number }> {
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
			knockBackAfter.push(await knockAccepted(stack, roomId, now));
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
		env: { KNOCK_RATE_LIMIT: "100000", ROOM_CREATE_RATE_LIMIT: "100000", SIGNALING_PING_INTERVAL: "5" },
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
					const { faultAt, from } = await inject(fault, stack, roomIdOf(call.host.url()));
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
	const knockTable = markdownTable(
		["after a Redis restart", "median", "p90"],
		[["a knock on the room is accepted again", s(median(knockBackAfter)), s(percentile(knockBackAfter, 90))]],
	);
	const raw = [...results.entries()].map(([name, values]) => `- ${name} (ms): ${values.join(", ")}`).join("\n");
	console.log(`\n${table}\n\n${knockTable}\n${failures.length ? `failures:\n${failures.join("\n")}\n` : ""}`);
	return {
		title: "Faults",
		markdown: `A host and a guest (Chromium, fake camera and microphone) in a call with video both
ways, on an SFU with 2 workers; "worker SIGKILL" kills both at once, so the room's media waits
for a replacement worker; ${trials} trials of each fault, one after another in the same call.
Each page records the time of every decoded frame of the other's camera. Recovery is the time
from the fault until frames arrive again on both pages after the longest silence since the
fault (a side whose longest silence stayed under 2.5 of its camera's frame intervals was not
interrupted and counts 0); for the network cut it is counted from the moment the
network is back. The cut drops every packet of the API's port (signaling) and the SFU's
media ports on loopback for ${networkCutMs / 1000} s (nftables); the API pings signaling sockets
every 5 s in this run. The SFU is restarted by the stack's supervisor, as \`./mindmeet start\`
does. "Fresh join" is a new guest's click on "Pedir para entrar" → first frame, with the host
admitting at once, measured in the same run. Targets: worker SIGKILL ≤ 3 s median;
network return ≤ 2 s median.

${table}

The call goes on through a Redis restart, so the figure that moves there is the lobby's: the
time until a knock on the room is accepted again (the SFU writes the room back on its next
heartbeat, every 5 s; the probe knock is withdrawn at once).

${knockTable}

${raw}
${failures.length ? `\nTrials that did not recover (a fresh call was started after each):\n${failures.map((f) => `- ${f}`).join("\n")}\n` : ""}`,
	};
}
