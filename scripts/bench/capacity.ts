/**
 * Capacity (issue 11, item 6), measured with headless participants
 * (testing/src/headless-participant.ts: real ICE, DTLS and SRTP, loss
 * counted from RTP sequence numbers), everything on 127.0.0.1:
 *
 * a. participants per core: one room on one mediasoup worker pinned to
 *    core 0, everyone sending a microphone and a camera and watching up to
 *    16 cameras; N stepped up until loss reaches 1 %, the clients' core
 *    saturates or the time bound is hit. Per step: the worker's %core, the
 *    clients' CPU, loss. Where the clients give out first, the worker's
 *    cost per forwarded packet projects where it would (labelled so).
 * b. participants per room: the limits (ROOM_MAX_PEERS, routers per room)
 *    and what held: the 50-person room of (c), and the 51st person refused.
 * c. a 50-person room across workers (SFU_ROOM_PEERS_PER_ROUTER = 16, so 4
 *    routers on 4 workers): everyone's audio, 16 visible cameras each (the
 *    others' consumers paused as the client pauses off-page tiles); each
 *    worker's %core, loss, the clients' CPU.
 * d. 30 people joining within 10 s: per join, knock → first RTP packet of
 *    the host's video, p50/p95, side by side with the same joins into bare
 *    mediasoup (transport + consume + DTLS, no lobby).
 *
 * The machine has two cores: the SFU gets core 0, and the load (every
 * participant, ffmpeg, the API, Redis) core 1, so the load generator's CPU
 * is reported next to the SFU's. Bounded: each part has a time budget.
 */

import { loadavg } from "node:os";
import { within } from "@mindmeet/testing/bounded";
import { joinProfile, tileProfile } from "@mindmeet/testing/media-feed";
import { knockOverHttp, SignalingPeer } from "@mindmeet/testing/signaling-peer";
import { bareJoinBurst, type JoinTimes, productJoinBurst } from "./capacity/joins.ts";
import { type CapacityRoom, startCapacityRoom } from "./capacity/room.ts";
import { lossPercent, measureWindow, type RoomWindow } from "./capacity/window.ts";
import { allCores, loadCore, pin, sfuCore } from "./fanout/cpu.ts";
import { type BenchSection, markdownTable, median, percentile } from "./measure.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "–");
const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

export interface CapacityOptions {
	/** (a) room sizes, in order. */
	steps: number[];
	windowSeconds: number;
	settleSeconds: number;
	/** (a): measure a window again (up to twice) when a core had more than this many points of other load. */
	otherLoadLimit: number;
	/** (a) and (c): time bounds, s. */
	perCoreBudgetSeconds: number;
	roomBudgetSeconds: number;
	/** (c) room size and its participants that count what they receive. */
	roomSize: number;
	roomCounting: number;
	/** SFU_ROOM_PEERS_PER_ROUTER for that room (the product's default: 16); one worker per router. */
	peersPerRouter: number;
	/** (d) */
	joins: number;
	joinSeconds: number;
	joinRepetitions: number;
	visibleVideos: number;
	log: (line: string) => void;
}

interface Step {
	participants: number;
	window: RoomWindow;
	remeasured: number;
}

/** Points of core 0 (the SFU's) and core 1 (the load's) busy with something else than what runs there for the benchmark. */
function otherLoad(window: RoomWindow): { sfuCore: number; loadCore: number } {
	return {
		sfuCore: Math.max(0, (window.corePercent[0] ?? 0) - sum(window.workerPercent) - window.sfuNodePercent),
		loadCore: Math.max(0, (window.corePercent[1] ?? 0) - window.clientsPercent),
	};
}

/** Whether something besides the benchmark kept either core busy in a window. */
function disturbed(options: CapacityOptions, window: RoomWindow): boolean {
	const other = otherLoad(window);
	return (
		other.sfuCore > Math.max(options.otherLoadLimit, 0.1 * (sum(window.workerPercent) + window.sfuNodePercent)) ||
		other.loadCore > Math.max(options.otherLoadLimit, 0.1 * window.clientsPercent)
	);
}

/** A window, measured again (up to twice) while something else kept a core busy; the least disturbed kept. */
async function steadyWindow(
	room: CapacityRoom,
	options: CapacityOptions,
): Promise<{ window: RoomWindow; remeasured: number }> {
	let best: { window: RoomWindow; remeasured: number; other: number } | undefined;
	for (let attempt = 0; attempt <= 2; attempt++) {
		const window = await measureWindow(room, options.windowSeconds, [sfuCore, loadCore]);
		const other = otherLoad(window);
		const total = other.sfuCore + other.loadCore;
		if (!best || total < best.other) best = { window, remeasured: attempt, other: total };
		if (!disturbed(options, window)) break;
		options.log(
			`  other load: ${fmt(other.sfuCore)} points on core 0, ${fmt(other.loadCore)} on core 1: measuring again`,
		);
	}
	const { window, remeasured } = best as { window: RoomWindow; remeasured: number };
	return { window, remeasured };
}

function describeWindow(n: number, window: RoomWindow): string {
	return (
		`N=${n}: worker(s) ${window.workerPercent.map((value) => fmt(value)).join("+")} % core, clients ${fmt(window.clientsPercent)} %, ` +
		`cores ${window.corePercent.map((value) => fmt(value, 0)).join("/")} %, ${fmt(window.received.packets / window.seconds, 0)} packets/s received, ` +
		`loss ${fmt(lossPercent(window.received), 2)} % (socket drops: SFU ${window.sfuSocketDrops}, clients ${window.clientSocketDrops}), ` +
		`${window.shownVideos} videos shown, ${window.pausedVideos} paused, ${window.camerasSent} cameras sent`
	);
}

/** Packets per second one audio consumer and one shown video consumer received, from a window. */
function streamRates(window: RoomWindow): { audio: number; video: number } {
	const audioStreams = window.counting * (window.participants - 1);
	return {
		audio: window.audio.packets / window.seconds / Math.max(1, audioStreams),
		video: window.video.packets / window.seconds / Math.max(1, window.countedShownVideos),
	};
}

/** Packets the SFU forwards per second in a room of n (everyone's audio, up to `visible` cameras each). */
const forwarded = (n: number, visible: number, rates: { audio: number; video: number }) =>
	n * (n - 1) * rates.audio + n * Math.min(visible, n - 1) * rates.video;

export async function participantsPerCore(options: CapacityOptions) {
	const log = options.log;
	const began = Date.now();
	const steps: Step[] = [];
	let stopped = "the largest step was reached";
	const room = await startCapacityRoom({
		workers: 1,
		peersPerRouter: 1000,
		maxPeers: 1000,
		sfuCores: String(sfuCore),
		profile: tileProfile,
		visibleVideos: options.visibleVideos,
		concurrency: 4,
	});
	try {
		for (const n of options.steps) {
			if ((Date.now() - began) / 1000 > options.perCoreBudgetSeconds) {
				stopped = `the time bound (${options.perCoreBudgetSeconds} s) was reached`;
				break;
			}
			const filling = Date.now();
			await within(room.fill(n), 120_000, `filling the room to ${n}`);
			log(`  ${n} participants in (${fmt((Date.now() - filling) / 1000)} s)`);
			await sleep(options.settleSeconds * 1000);
			const { window, remeasured } = await steadyWindow(room, options);
			steps.push({ participants: n, window, remeasured });
			log(`  ${describeWindow(n, window)}`);
			// Loss while something else kept core 0 busy says little about the SFU: noted, and the steps go on.
			if (lossPercent(window.received) >= 1 && !disturbed(options, window)) {
				stopped = `loss reached 1 % at ${n}`;
				break;
			}
			if (window.clientsPercent >= 90) {
				stopped = `the clients filled their core at ${n} (${fmt(window.clientsPercent, 0)} % of it)`;
				break;
			}
		}
	} finally {
		await room.stop();
	}
	return { steps, stopped, seconds: (Date.now() - began) / 1000 };
}

export interface BigRoom {
	window: RoomWindow | undefined;
	/** The recv peer connections' renegotiations, one per consumer, over every participant. */
	renegotiations: { count: number; consumers: number; meanMs: number; maxMs: number };
	stats: unknown;
	fillSeconds: number;
	extra: string;
	failure: string | undefined;
}

/** (c) and (b): a room of `roomSize` across workers, measured; then one more person, who should be refused. */
export async function bigRoom(
	options: CapacityOptions,
	variant: { readRate: number; oneMore: boolean } = { readRate: 1, oneMore: true },
): Promise<BigRoom> {
	const log = options.log;
	const workers = Math.ceil(options.roomSize / options.peersPerRouter);
	const room = await startCapacityRoom({
		workers,
		// The product's defaults (16 people per router, 50 per room) for the 50-person room.
		peersPerRouter: options.peersPerRouter,
		maxPeers: options.roomSize,
		sfuCores: String(sfuCore),
		profile: tileProfile,
		visibleVideos: options.visibleVideos,
		concurrency: 4,
		counting: options.roomCounting,
		readRate: variant.readRate,
	});
	const result: BigRoom = {
		window: undefined,
		renegotiations: { count: 0, consumers: 0, meanMs: Number.NaN, maxMs: Number.NaN },
		stats: undefined,
		fillSeconds: 0,
		extra: "not tried",
		failure: undefined,
	};
	try {
		const filling = Date.now();
		try {
			await within(room.fill(options.roomSize), options.roomBudgetSeconds * 1000, `filling ${options.roomSize}`);
		} catch (error) {
			result.failure = (error as Error).message;
			log(`  ${result.failure}`);
			return result;
		}
		result.fillSeconds = (Date.now() - filling) / 1000;
		const renegotiations = room.participants.map((participant) => participant.renegotiations);
		const count = sum(renegotiations.map((entry) => entry.count));
		result.renegotiations = {
			count,
			consumers: sum(renegotiations.map((entry) => entry.consumers)),
			meanMs: sum(renegotiations.map((entry) => entry.totalMs)) / Math.max(1, count),
			maxMs: Math.max(...renegotiations.map((entry) => entry.maxMs)),
		};
		log(`  ${options.roomSize} participants in (${fmt(result.fillSeconds)} s)`);
		await sleep(options.settleSeconds * 1000);
		result.window = (await steadyWindow(room, options)).window;
		log(`  ${describeWindow(options.roomSize, result.window)}`);
		try {
			const stats = await fetch(`http://127.0.0.1:${room.stack.sfuPort}/stats`);
			result.stats = await stats.json();
		} catch {
			// only for the report
		}
		// (b) One more: refused at the knock (the API counts who is inside), or else by the SFU on connecting.
		if (!variant.oneMore) return result;
		try {
			let pending: Awaited<ReturnType<typeof knockOverHttp>>;
			try {
				pending = await knockOverHttp(room.stack.url, room.roomId, "One too many");
			} catch (error) {
				const message = (error as Error).message;
				if (!/room-full/.test(message)) throw error;
				result.extra = `refused at the knock (HTTP ${message.match(/\b(\d{3})\b/)?.[1] ?? "?"}, \`room-full\`)`;
				log(`  person ${options.roomSize + 1}: ${result.extra}`);
				return result;
			}
			const { token } = await within(pending.admitted, 10_000, "the extra person's admission");
			const signaling = await SignalingPeer.connect(room.stack.url, room.roomId, token);
			try {
				const refused = await signaling.notification("refused", () => true, 10_000);
				result.extra = `admitted by the lobby, refused by the SFU (\`${refused.reason}\`)`;
			} finally {
				signaling.close();
			}
		} catch (error) {
			result.extra = `not refused as expected: ${(error as Error).message}`;
		}
		log(`  person ${options.roomSize + 1}: ${result.extra}`);
		return result;
	} finally {
		await room.stop();
	}
}

function pooled(runs: readonly JoinTimes[]): JoinTimes {
	return {
		video: runs.flatMap((run) => run.video),
		audio: runs.flatMap((run) => run.audio),
		admitted: runs.flatMap((run) => run.admitted),
		failures: runs.flatMap((run) => run.failures),
		sfuPercent: median(runs.map((run) => run.sfuPercent)),
		corePercent: median(runs.map((run) => run.corePercent)),
	};
}

export async function capacityBenchmark(overrides: Partial<CapacityOptions> = {}): Promise<BenchSection> {
	const env = process.env;
	const options: CapacityOptions = {
		steps: (env.BENCH_CAPACITY_STEPS ?? "8,16,24,28,32,36,40,48,56,64").split(",").map(Number),
		windowSeconds: Number(env.BENCH_CAPACITY_WINDOW ?? 6),
		settleSeconds: 3,
		otherLoadLimit: 10,
		perCoreBudgetSeconds: 240,
		roomBudgetSeconds: 180,
		roomSize: Number(env.BENCH_CAPACITY_ROOM ?? 50),
		roomCounting: 6,
		peersPerRouter: 16,
		joins: Number(env.BENCH_CAPACITY_JOINS ?? 30),
		joinSeconds: Number(env.BENCH_CAPACITY_JOIN_SECONDS ?? 10),
		joinRepetitions: Number(env.BENCH_CAPACITY_REPS ?? 3),
		visibleVideos: 16,
		log: (line) => console.log(line),
		...overrides,
	};
	const log = options.log;
	const parts = (env.BENCH_CAPACITY_PARTS ?? "a,c,d").split(",");
	const began = Date.now();
	const loadAtStart = loadavg()
		.map((value) => value.toFixed(1))
		.join(" / ");
	const failures: string[] = [];
	// This process carries every participant: the load core.
	pin(process.pid, loadCore);
	let perCore: Awaited<ReturnType<typeof participantsPerCore>> | undefined;
	let room: BigRoom | undefined;
	let halfSpeed: BigRoom | undefined;
	const joinRuns = { product: [] as JoinTimes[], bare: [] as JoinTimes[] };
	try {
		if (parts.includes("a")) {
			log("capacity (a): participants per core");
			try {
				perCore = await participantsPerCore(options);
			} catch (error) {
				failures.push(`participants per core: ${(error as Error).message}`);
				log(`capacity (a) failed: ${(error as Error).stack}`);
			}
		}
		if (parts.includes("c")) {
			log(`capacity (c): a ${options.roomSize}-person room`);
			try {
				room = await bigRoom(options);
				// The same room with every stream at half its packet rate: what fits this machine, scaled back up.
				log(`capacity (c): the ${options.roomSize}-person room again, replayed at half speed`);
				halfSpeed = await bigRoom(options, { readRate: 0.5, oneMore: false });
			} catch (error) {
				failures.push(`${options.roomSize}-person room: ${(error as Error).message}`);
				log(`capacity (c) failed: ${(error as Error).stack}`);
			}
		}
		if (parts.includes("d")) {
			const burst = {
				count: options.joins,
				spreadSeconds: options.joinSeconds,
				profile: joinProfile,
				timeoutMs: 30_000,
			};
			for (let repetition = 0; repetition < options.joinRepetitions; repetition++) {
				for (const [label, run] of [
					["product", () => productJoinBurst(burst)],
					["bare", () => bareJoinBurst(burst)],
				] as const) {
					log(
						`capacity (d): ${options.joins} joins in ${options.joinSeconds} s, ${label}, repetition ${repetition + 1}`,
					);
					try {
						const times = await run();
						joinRuns[label].push(times);
						log(
							`  video p50 ${fmt(median(times.video), 0)} ms, p95 ${fmt(percentile(times.video, 95), 0)} ms; ` +
								`audio p50 ${fmt(median(times.audio), 0)} ms${times.failures.length ? `; failures: ${times.failures.join("; ")}` : ""}`,
						);
					} catch (error) {
						failures.push(`joins (${label}): ${(error as Error).message}`);
						log(`capacity (d) ${label} failed: ${(error as Error).stack}`);
					}
				}
			}
		}
	} finally {
		pin(process.pid, allCores());
	}
	const minutes = (Date.now() - began) / 60_000;
	const load = loadavg()
		.map((value) => value.toFixed(1))
		.join(" / ");
	return {
		title: "Capacity",
		markdown: render(
			options,
			perCore,
			room,
			halfSpeed,
			joinRuns,
			failures,
			minutes,
			`${loadAtStart} at its start, ${load} at its end`,
		),
	};
}

function render(
	options: CapacityOptions,
	perCore: Awaited<ReturnType<typeof participantsPerCore>> | undefined,
	room: BigRoom | undefined,
	halfSpeed: BigRoom | undefined,
	joinRuns: { product: JoinTimes[]; bare: JoinTimes[] },
	failures: string[],
	minutes: number,
	load: string,
): string {
	const sections: string[] = [];
	sections.push(
		`Headless participants (testing/src/headless-participant.ts: node-datachannel, real ICE, DTLS and SRTP; loss from RTP sequence numbers) enter the product as the web client does: knock over HTTP, admitted by the host from its lobby socket, protoo, both transports, join, a microphone and a camera. Their media is one ffmpeg replay of a file encoded once, forwarded into every participant's tracks with its own SSRCs and spread over 20 ms (fifty browsers do not send in the same millisecond): **a small tile's layer, VP8 ~150 kbps at 320×180, 30 fps** (the web client's low simulcast layer; a headless camera sends one layer) and Opus 48 kbps (50 packets/s, no DTX, as the web client sends it). Each participant shows at most ${options.visibleVideos} cameras, the first ones offered to it (those already in when it joined, then newcomers: a grid page without speakers), and pauses the rest (\`pauseConsumer\`, as off-page tiles); everyone's audio is consumed. A camera nobody shows stops being sent (producerDemand). Everything on 127.0.0.1. **The machine has 2 cores: the SFU (node process and workers) is pinned to core 0, and the load generator — every participant in one node process, ffmpeg, the API, Redis — to core 1**, so the clients' CPU is reported beside the SFU's. This run took ${fmt(minutes)} min; load average ${load} (1 / 5 / 15 min; other sessions shared the machine).`,
	);

	// (a)
	/** The worker's cost per forwarded packet at (a)'s largest clean step, for projections. */
	let cost: { perPacket: number; rates: { audio: number; video: number } } | undefined;
	if (perCore && perCore.steps.length > 0) {
		// The largest N with < 1 % loss below the first undisturbed window with more.
		const limit = perCore.steps.findIndex(
			(step) => lossPercent(step.window.received) >= 1 && !disturbed(options, step.window),
		);
		const considered = limit < 0 ? perCore.steps : perCore.steps.slice(0, limit);
		const best = considered.filter((step) => lossPercent(step.window.received) < 1).at(-1);
		const rows = perCore.steps.map((step) => {
			const w = step.window;
			const worker = w.workerPercent[0] ?? Number.NaN;
			return [
				step.participants,
				fmt(worker),
				fmt(worker / step.participants, 2),
				fmt(w.sfuNodePercent),
				fmt(w.clientsPercent),
				fmt(w.corePercent[1] ?? Number.NaN, 0),
				fmt(w.received.packets / w.seconds, 0),
				`${fmt(lossPercent(w.received), 2)} %`,
				`${w.sfuSocketDrops} / ${w.clientSocketDrops}`,
				`${w.camerasSent}`,
				`${fmt(otherLoad(w).sfuCore)} / ${fmt(otherLoad(w).loadCore)}${disturbed(options, w) ? " (disturbed)" : ""}`,
			];
		});
		let projection = "";
		if (best) {
			const w = best.window;
			const worker = w.workerPercent[0] ?? Number.NaN;
			const perPacket = worker / (w.received.packets / w.seconds);
			const rates = streamRates(w);
			cost = { perPacket, rates };
			const fits = (limit: number) => {
				let n = best.participants;
				while (n < 1000 && perPacket * forwarded(n + 1, options.visibleVideos, rates) <= limit) n++;
				return n;
			};
			const clientsPerPacket = w.clientsPercent / (w.received.packets / w.seconds);
			projection = `\n\nWhere it stopped: ${perCore.stopped}. **Largest room measured on one worker with < 1 % loss: ${best.participants} participants**, the worker at ${fmt(worker)} % of its core. The worker's cost at that step was ${fmt(perPacket * 1000, 2)} % of a core per 1000 packets/s forwarded (each audio consumer ${fmt(rates.audio, 0)} packets/s, each shown video ${fmt(rates.video, 0)}); the clients' ${fmt(clientsPerPacket * 1000, 2)} % per 1000 packets/s received, ${fmt(clientsPerPacket / perPacket, 1)}× the SFU's${clientsPerPacket > perPacket ? ", so on this machine the load generator's core fills before the SFU's" : ""}. **Projection** (not measured: the per-packet cost above, and forwarded packets growing as N·(N−1) audio + N·min(16, N−1) video): one worker's core would be fully busy at about **${fits(100)} participants**, 80 % busy at about ${fits(80)}.`;
		}
		sections.push(
			`### Participants per core (< 1 % loss)\n\nOne room on one worker (core 0); N stepped up (${options.settleSeconds} s to settle, ${options.windowSeconds} s window, measured again up to twice while either core carried more than ${options.otherLoadLimit} points of load from outside the benchmark; the least disturbed window kept, and a loss in a disturbed window does not end the steps).\n\n${markdownTable(
				[
					"participants",
					"worker % core",
					"worker % per participant",
					"SFU node % core",
					"clients % core (all of them)",
					"clients' core busy %",
					"packets/s received (all)",
					"loss",
					"UDP drops SFU / clients",
					"cameras sent",
					"other load on core 0 / core 1 (points)",
				],
				rows,
			)}${projection}`,
		);
	} else {
		sections.push("### Participants per core\n\nNot measured in this run.");
	}

	// (b) and (c)
	const w = room?.window;
	const stats = room?.stats as
		| { mediasoup?: { routers?: number; transports?: number; producers?: number; consumers?: number } }
		| undefined;
	sections.push(
		`### Participants per room\n\nLimits: \`ROOM_MAX_PEERS\` (default 50, 1–1000; one more person is refused with \`room-full\`), \`SFU_ROOM_PEERS_PER_ROUTER\` (default 16: each 16 people take another router on the least-loaded worker, joined by pipe transports; \`SFU_WORKERS\` defaults to the number of cores). Measured: ${
			w
				? `a ${options.roomSize}-person room with the defaults (${Math.ceil(options.roomSize / options.peersPerRouter)} workers) filled in ${fmt(room?.fillSeconds ?? Number.NaN)} s and ran with ${fmt(lossPercent(w.received), 2)} % loss (below); person ${options.roomSize + 1}: ${room?.extra}.`
				: `the ${options.roomSize}-person room did not complete: ${room?.failure ?? "not run"}.`
		}`,
	);
	if (w) {
		// People per router as the SFU places them: a router takes 16 before the next one opens.
		const n = options.roomSize;
		const share = options.peersPerRouter;
		const onRouter = w.workerPercent.map((_, index) => Math.max(0, Math.min(share, n - share * index)));
		const projected = (people: number) =>
			cost
				? cost.perPacket *
					people *
					((n - 1) * cost.rates.audio + Math.min(options.visibleVideos, n - 1) * cost.rates.video)
				: Number.NaN;
		const half = halfSpeed?.window;
		// At half speed every stream sends half the packets: twice its CPU is what full speed costs.
		const doubled = (value: number | undefined) => (half && value !== undefined ? fmt(2 * value) : "–");
		const rows = w.workerPercent.map((percent, index) => [
			`worker ${index + 1}`,
			onRouter[index] ?? 0,
			fmt(percent),
			doubled(half?.workerPercent[index]),
			fmt(projected(onRouter[index] ?? 0)),
		]);
		rows.push(
			["all workers", n, fmt(sum(w.workerPercent)), doubled(half && sum(half.workerPercent)), fmt(projected(n))],
			["SFU node process", "", fmt(w.sfuNodePercent), doubled(half?.sfuNodePercent), ""],
			[
				`clients (this process: ${n} participants) + ffmpeg, API, Redis`,
				"",
				fmt(w.clientsPercent),
				doubled(half?.clientsPercent),
				"",
			],
		);
		const halfText = half
			? `\n\n**Half speed**: the same room again with the replay at half speed (\`ffmpeg -readrate 0.5\`: every stream half its packets, the same contents), which this machine can carry better: cores busy ${half.corePercent.map((value, index) => `core ${index} ${fmt(value, 0)} %`).join(", ")}, loss ${fmt(lossPercent(half.received), 2)} % (UDP drops: ${half.sfuSocketDrops} at the SFU's sockets, ${half.clientSocketDrops} at the clients'). Twice its CPU (the column above) estimates full speed, assuming a cost per packet that does not change with the rate.`
			: "";
		const rates = streamRates(w);
		sections.push(
			`### CPU per worker, ${options.roomSize}-person room\n\nEveryone's audio, ${options.visibleVideos} visible cameras per participant (${w.shownVideos} video consumers shown, ${w.pausedVideos} paused), ${w.camerasSent} cameras sent (the others watched by nobody), ${options.roomCounting} participants counting what they receive (the others receive the same, without the per-packet count). Workers pinned to core 0 together, the load to core 1; ${options.windowSeconds} s window. Filling it took ${room?.renegotiations.count} renegotiations of the participants' receiving peer connections for ${room?.renegotiations.consumers} consumers (newConsumer requests that arrive during a renegotiation share the next one; node-datachannel answers a new offer on a connected peer connection and opens the new tracks): ${fmt(room?.renegotiations.meanMs ?? Number.NaN, 1)} ms each on average, ${fmt(room?.renegotiations.maxMs ?? Number.NaN, 0)} ms at most, on the loaded load core. SFU objects: ${stats?.mediasoup ? `${stats.mediasoup.routers} routers, ${stats.mediasoup.transports} transports, ${stats.mediasoup.producers} producers, ${stats.mediasoup.consumers} consumers (pipes included)` : "–"}.\n\n${markdownTable(["process", "people on its router", "% of one core, measured", "measured at half speed, × 2", "projection from the per-packet cost of the participants-per-core run"], rows)}\n\nCores busy: ${w.corePercent.map((value, index) => `core ${index} ${fmt(value, 0)} %`).join(", ")}. Received by the counting participants: ${fmt(w.received.packets / w.seconds, 0)} packets/s (audio ${fmt(rates.audio, 0)} and shown video ${fmt(rates.video, 0)} packets/s per consumer), **loss ${fmt(lossPercent(w.received), 2)} %**; UDP datagrams dropped by full receive buffers: ${w.sfuSocketDrops} at the SFU's sockets, ${w.clientSocketDrops} at the clients'. The load generator's event loop ran its callbacks up to ${fmt(w.eventLoopLagMs.max, 0)} ms late (p99 ${fmt(w.eventLoopLagMs.p99, 0)} ms); the SFU's signaling keepalive grace is 60 s in this benchmark so that lag is not taken for dead connections. ${
				(w.corePercent[0] ?? 0) >= 95 || (w.corePercent[1] ?? 0) >= 95
					? "**A core was saturated in this window: the measured figures are what this 2-core machine could do with four workers sharing one core and the load generator on the other, not what the SFU needs; the projection (not measured, pipes left out) is what each worker's packets would cost at the per-packet cost measured above.**"
					: ""
			}${halfText}`,
		);
	}

	// (d)
	const product = pooled(joinRuns.product);
	const bare = pooled(joinRuns.bare);
	if (product.video.length > 0 || bare.video.length > 0) {
		const row = (label: string, times: JoinTimes) => [
			label,
			times.video.length,
			fmt(median(times.video), 0),
			fmt(percentile(times.video, 95), 0),
			fmt(median(times.audio), 0),
			fmt(percentile(times.audio, 95), 0),
			times.admitted.length > 0 ? fmt(median(times.admitted), 0) : "–",
			times.failures.length,
		];
		const rows = [row("product (lobby, admit, protoo)", product), row("bare mediasoup", bare)];
		const ratio = (p: number) => percentile(product.video, p) / percentile(bare.video, p);
		const audioRatio = (p: number) => percentile(product.audio, p) / percentile(bare.audio, p);
		sections.push(
			`### Join under load: ${options.joins} people within ${options.joinSeconds} s\n\n${options.joins} joiners start evenly over ${options.joinSeconds} s, each while the others are still on their way in; the host sends a microphone and a camera, the joiners only watch (so both systems forward the same streams). Product: knock (HTTP + waiting socket) → the host's lobby socket shows it and the host admits it over the API at once → protoo, capabilities and both transports, join, newConsumer, DTLS → **first RTP packet of the host's video**. Bare mediasoup (the fan-out's bare system: the same worker binary, no product code): transport → consume → DTLS → first RTP packet. The SFU on core 0, the joiners on core 1. A consumer starts at a key frame and a replay cannot make one on request, so this run's camera has a key frame every 100 ms (as a browser would answer the SFU's request at once); the first audio packet, which waits for nothing, is shown too. ${options.joinRepetitions} repetitions, all joins pooled; ms.\n\n${markdownTable(
				["system", "joins", "video p50", "video p95", "audio p50", "audio p95", "knock → admitted p50", "failed"],
				rows,
			)}\n\nProduct / bare mediasoup: video p50 **${fmt(ratio(50), 2)}×**, p95 **${fmt(ratio(95), 2)}×**; audio p50 ${fmt(audioRatio(50), 2)}×, p95 ${fmt(audioRatio(95), 2)}×.

Per repetition (video p95, ms; core 0 during the burst: the SFU's processes / core 0 busy, %): ${joinRuns.product
				.map((run, index) => {
					const peer = joinRuns.bare[index];
					const describe = (times: JoinTimes) =>
						`${fmt(percentile(times.video, 95), 0)} (${fmt(times.sfuPercent, 0)} / ${fmt(times.corePercent, 0)})`;
					return `${index + 1}: product ${describe(run)}, bare ${peer ? describe(peer) : "–"}`;
				})
				.join("; ")}. Core 0 busier than the SFU accounts for is other load on the machine.`,
		);
	}
	if (failures.length > 0) sections.push(`Failed parts: ${failures.join("; ")}.`);
	return `${sections.join("\n\n")}\n`;
}
