/**
 * Joining a call, in real Chromium: guest's click → first decoded frame of
 * the host's camera, next to two pages connected directly with
 * RTCPeerConnection (no server at all), the floor for the same browser.
 * Also the SFU's resident memory idle and with two peers.
 */
import { newParticipant } from "@mindmeet/testing/browser";
import { answerKnock, createRoom, firstFrame, knock, tile } from "@mindmeet/testing/flows";
import type { Browser } from "playwright-core";
import type { Stack } from "../stack.ts";
import { type BenchSection, markdownTable, median, percentile, rssMiB } from "./measure.ts";

/** The guest is admitted as soon as it knocks, so the figure covers the lobby round trip too. */
async function mindmeetJoins(browser: Browser, stack: Stack, count: number): Promise<number[]> {
	const host = await newParticipant(browser);
	const link = await createRoom(host.page, stack.url, "Host");
	const times: number[] = [];
	for (let i = 0; i < count; i++) {
		const guest = await newParticipant(browser);
		await guest.page.goto(link);
		await guest.page.getByTestId("prejoin-name").fill(`Guest ${i}`);
		const started = Date.now();
		await guest.page.getByTestId("knock").click();
		await answerKnock(host.page, `Guest ${i}`, "admit");
		await firstFrame(guest.page, "Host");
		times.push(Date.now() - started);
		await guest.page.getByTestId("leave").click();
		await guest.context.close();
		await tile(host.page, `Guest ${i}`).waitFor({ state: "detached" });
	}
	await host.context.close();
	return times;
}

async function directJoins(browser: Browser, url: string, count: number): Promise<number[]> {
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
			Object.assign(window, { pc, video });
		});
		const started = Date.now();
		// Non-trickle on both sides: the description handed over holds every candidate.
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

async function sfuMemory(browser: Browser, stack: Stack): Promise<number> {
	const host = await newParticipant(browser);
	const guest = await newParticipant(browser);
	const link = await createRoom(host.page, stack.url, "Host");
	await knock(guest.page, link, "Guest");
	await answerKnock(host.page, "Guest", "admit");
	await firstFrame(guest.page, "Host");
	await firstFrame(host.page, "Guest");
	await host.page.waitForTimeout(3000);
	const withPeers = rssMiB(stack.processes.sfu.pid ?? 0);
	await host.context.close();
	await guest.context.close();
	return withPeers;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export async function joinBenchmark(browser: Browser, stack: Stack): Promise<BenchSection> {
	const joins = Number(process.env.BENCH_JOINS ?? 12);
	const idle = rssMiB(stack.processes.sfu.pid ?? 0);
	const mindmeet: number[] = [];
	const direct: number[] = [];
	// Interleaved in blocks so drift on the machine hits both sides alike.
	const block = Math.max(1, Math.floor(joins / 3));
	for (let done = 0; done < joins; done += block) {
		const count = Math.min(block, joins - done);
		mindmeet.push(...(await mindmeetJoins(browser, stack, count)));
		direct.push(...(await directJoins(browser, stack.url, count)));
	}
	const idleAfter = rssMiB(stack.processes.sfu.pid ?? 0);
	const twoPeers = await sfuMemory(browser, stack);

	const joinTable = markdownTable(
		["figure", "Mindmeet", "peer: direct browser-to-browser WebRTC", "ratio"],
		[
			[
				"join → first remote frame, median",
				seconds(median(mindmeet)),
				seconds(median(direct)),
				(median(mindmeet) / median(direct)).toFixed(2),
			],
			[
				"join → first remote frame, p90",
				seconds(percentile(mindmeet, 90)),
				seconds(percentile(direct, 90)),
				(percentile(mindmeet, 90) / percentile(direct, 90)).toFixed(2),
			],
		],
	);
	const memoryTable = markdownTable(
		["SFU resident memory (Node process + one worker)", "MiB"],
		[
			["0 peers, right after start", idle.toFixed(1)],
			[`0 peers, after ${joins} joins and leaves`, idleAfter.toFixed(1)],
			["2 peers sending camera + mic", twoPeers.toFixed(1)],
		],
	);
	console.log(`\n${joinTable}\n\n${memoryTable}\n`);
	return {
		title: "Joining a call",
		markdown: `Time from the guest's click on "Pedir para entrar" to the first decoded frame of the
host's camera on the guest's screen, ${joins} joins per side, interleaved in blocks. The
host's page admits each knock as soon as its modal shows, so the Mindmeet figure
is the whole path: knock over HTTP, the host's lobby socket, admit, the guest's
waiting socket, protoo through the API's proxy, router capabilities, two WebRTC
transports, DTLS, a paused consumer resumed, a keyframe. The peer is the floor for
the same browser: two pages connected directly with RTCPeerConnection, offer and
answer passed by the benchmark, no server at all. Target: median ≤ 1.5 s.

${joinTable}

Raw Mindmeet (ms): ${mindmeet.join(", ")}
Raw direct (ms): ${direct.join(", ")}

### SFU memory

Resident set of the SFU's Node process plus its mediasoup worker, from /proc. There
is no peer for this figure; what matters is the growth per peer and that it
comes back after peers leave.

${memoryTable}`,
	};
}
