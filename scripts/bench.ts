/**
 * `npm run bench`: measures, never asserts. Each figure is taken side by
 * side with a peer doing the same work in the same run, and the ratio is
 * what to read (absolute times drift on shared machines). Writes the table
 * to docs/BENCHMARKS.md.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { launchChromium, newParticipant } from "@mindmeet/testing/browser";
import type { Browser, Page } from "playwright-core";
import { freePort, repoRoot, type Stack, startStack } from "./stack.ts";

const joins = Number(process.env.BENCH_JOINS ?? 12);

function percentile(values: number[], p: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
	return sorted[index] ?? Number.NaN;
}

const median = (values: number[]) => percentile(values, 50);

/** Resident memory of a process and its children (the SFU's workers), in MiB. */
function rssMiB(pid: number): number {
	const children = (() => {
		try {
			return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
		} catch {
			return [];
		}
	})();
	let kib = 0;
	for (const id of [pid, ...children]) {
		const match = readFileSync(`/proc/${id}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
		kib += Number(match?.[1] ?? 0);
	}
	return kib / 1024;
}

/** Resolves in the page when the video element of the tile named `name` shows its first frame. */
async function waitFirstFrame(page: Page, name: string): Promise<void> {
	await page.locator(`[data-testid="tile"][data-peer-name="${name}"][data-self="false"] video`).evaluate(
		(video: HTMLVideoElement) =>
			new Promise<void>((resolve) => {
				const check = () => (video.videoWidth > 0 ? resolve() : requestAnimationFrame(check));
				check();
			}),
	);
}

async function createRoomInUi(page: Page, url: string, name: string): Promise<string> {
	await page.goto(url);
	await page.getByTestId("create-name").fill(name);
	await page.getByTestId("create-mode-video").click();
	await page.getByTestId("create-room").click();
	await page.waitForURL(/\/r\/[A-Za-z0-9]+$/);
	await page.locator('[data-testid="tile"][data-self="true"]').waitFor();
	return page.url();
}

/** Mindmeet: guest clicks join → first decoded frame of the host's camera, through API, signaling and SFU. */
async function mindmeetJoin(browser: Browser, stack: Stack, count: number): Promise<number[]> {
	const host = await newParticipant(browser);
	const link = await createRoomInUi(host.page, stack.url, "Host");
	const times: number[] = [];
	for (let i = 0; i < count; i++) {
		const guest = await newParticipant(browser);
		await guest.page.goto(link);
		await guest.page.getByTestId("prejoin-name").fill(`Guest ${i}`);
		const started = Date.now();
		await guest.page.getByTestId("knock").click();
		await waitFirstFrame(guest.page, "Host");
		times.push(Date.now() - started);
		await guest.page.getByTestId("leave").click();
		await guest.context.close();
		await host.page
			.locator('[data-testid="tile"][data-self="false"]')
			.first()
			.waitFor({ state: "detached" })
			.catch(() => {});
	}
	await host.context.close();
	return times;
}

/**
 * The floor: two pages connected directly with RTCPeerConnection (offer,
 * answer and ICE handed over by the benchmark itself, no server), from the
 * start of negotiation to the first decoded frame.
 */
async function directJoin(browser: Browser, url: string, count: number): Promise<number[]> {
	const times: number[] = [];
	for (let i = 0; i < count; i++) {
		const a = await newParticipant(browser);
		const b = await newParticipant(browser);
		await a.page.goto(`${url}/api/health`);
		await b.page.goto(`${url}/api/health`);
		await a.page.evaluate(async () => {
			const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
			const pc = new RTCPeerConnection();
			for (const track of stream.getTracks()) pc.addTrack(track, stream);
			(window as unknown as { pc: RTCPeerConnection }).pc = pc;
		});
		await b.page.evaluate(() => {
			const pc = new RTCPeerConnection();
			const video = document.createElement("video");
			video.muted = true;
			video.autoplay = true;
			document.body.append(video);
			pc.ontrack = (event) => {
				if (event.track.kind === "video") video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
			};
			(window as unknown as { pc: RTCPeerConnection; video: HTMLVideoElement }).pc = pc;
			(window as unknown as { video: HTMLVideoElement }).video = video;
		});
		const started = Date.now();
		const offer = await a.page.evaluate(async () => {
			const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
			await pc.setLocalDescription(await pc.createOffer());
			await new Promise<void>((resolve) => {
				if (pc.iceGatheringState === "complete") resolve();
				pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
			});
			return pc.localDescription?.toJSON();
		});
		const answer = await b.page.evaluate(async (description) => {
			const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
			await pc.setRemoteDescription(description as RTCSessionDescriptionInit);
			await pc.setLocalDescription(await pc.createAnswer());
			await new Promise<void>((resolve) => {
				if (pc.iceGatheringState === "complete") resolve();
				pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
			});
			return pc.localDescription?.toJSON();
		}, offer);
		await a.page.evaluate(async (description) => {
			await (window as unknown as { pc: RTCPeerConnection }).pc.setRemoteDescription(
				description as RTCSessionDescriptionInit,
			);
		}, answer);
		await b.page.evaluate(
			() =>
				new Promise<void>((resolve) => {
					const video = (window as unknown as { video: HTMLVideoElement }).video;
					const check = () => (video.videoWidth > 0 ? resolve() : requestAnimationFrame(check));
					check();
				}),
		);
		times.push(Date.now() - started);
		await a.context.close();
		await b.context.close();
	}
	return times;
}

async function sfuMemory(browser: Browser, stack: Stack): Promise<{ idle: number; twoPeers: number }> {
	const sfuPid = stack.processes.sfu.pid ?? 0;
	const idle = rssMiB(sfuPid);
	const host = await newParticipant(browser);
	const guest = await newParticipant(browser);
	const link = await createRoomInUi(host.page, stack.url, "Host");
	await guest.page.goto(link);
	await guest.page.getByTestId("prejoin-name").fill("Guest");
	await guest.page.getByTestId("knock").click();
	await waitFirstFrame(guest.page, "Host");
	await waitFirstFrame(host.page, "Guest");
	await host.page.waitForTimeout(3000);
	const twoPeers = rssMiB(sfuPid);
	await host.context.close();
	await guest.context.close();
	return { idle, twoPeers };
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const stack = await startStack({
	apiPort: await freePort(),
	rtcPort: 0,
	sfuWorkers: 1,
	output: "ignore",
	logLevel: "warn",
});
const browser = await launchChromium();
try {
	const memoryIdleFirst = rssMiB(stack.processes.sfu.pid ?? 0);
	console.log(`join → first frame, ${joins} joins each, alternating…`);
	const mindmeet: number[] = [];
	const direct: number[] = [];
	// Interleave in blocks so drift on the machine hits both sides alike.
	const block = Math.max(1, Math.floor(joins / 3));
	for (let done = 0; done < joins; done += block) {
		const count = Math.min(block, joins - done);
		mindmeet.push(...(await mindmeetJoin(browser, stack, count)));
		direct.push(...(await directJoin(browser, stack.url, count)));
	}
	const memory = await sfuMemory(browser, stack);

	const rows = [
		[
			"join → first remote frame, median",
			fmt(median(mindmeet)),
			fmt(median(direct)),
			(median(mindmeet) / median(direct)).toFixed(2),
		],
		[
			"join → first remote frame, p90",
			fmt(percentile(mindmeet, 90)),
			fmt(percentile(direct, 90)),
			(percentile(mindmeet, 90) / percentile(direct, 90)).toFixed(2),
		],
	];
	const table = [
		"| figure | Mindmeet | peer: direct browser-to-browser WebRTC | ratio |",
		"| --- | --- | --- | --- |",
		...rows.map((row) => `| ${row.join(" | ")} |`),
	].join("\n");
	const memoryTable = [
		"| SFU resident memory (Node process + worker) | MiB |",
		"| --- | --- |",
		`| idle, 0 peers (right after start) | ${memoryIdleFirst.toFixed(1)} |`,
		`| 0 peers, after ${joins} joins and leaves | ${memory.idle.toFixed(1)} |`,
		`| 2 peers sending camera + mic | ${memory.twoPeers.toFixed(1)} |`,
	].join("\n");
	console.log(`\n${table}\n\n${memoryTable}\n`);
	const doc = `# Benchmarks

Written by \`npm run bench\` (scripts/bench.ts); the latest run replaces this file.
Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}, Chromium (Debian) headless with fake camera/mic, everything on loopback.
Run at ${new Date().toISOString()}.

## Joining a call

Time from the guest's click on the join button to the first decoded frame of
the host's camera on the guest's screen (${joins} joins per side, interleaved in
blocks). The Mindmeet path is the whole thing: HTTP join, protoo WebSocket
through the API's proxy, router capabilities, two WebRTC transports, DTLS,
the SFU creating a paused consumer, resuming it, and a keyframe. The peer is
the floor for the same browser: two pages connected directly with
RTCPeerConnection, offer/answer passed by the benchmark with no server at
all. Ratio = Mindmeet / peer. Target for Mindmeet: median ≤ 1.5 s.

${table}

Raw Mindmeet (ms): ${mindmeet.join(", ")}
Raw direct (ms): ${direct.join(", ")}

## SFU memory

Resident set of the SFU's Node process plus its mediasoup worker (one worker),
read from /proc. No peer to compare with here; the figure to watch is the
growth per peer and that it returns after peers leave.

${memoryTable}
`;
	writeFileSync(join(repoRoot, "docs/BENCHMARKS.md"), doc);
	console.log("written: docs/BENCHMARKS.md");
} finally {
	await browser.close();
	await stack.stop();
}
