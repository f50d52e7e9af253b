/**
 * One measurement window over a full room: each worker's CPU, the SFU's
 * node process, the load side (this process with every participant, plus
 * API, Redis and ffmpeg), and what every participant received (packets and
 * loss from RTP sequence numbers) over the same seconds.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { addTotals, emptyTotals, HeadlessPeer, type ReceiveTotals } from "@mindmeet/testing/headless-webrtc";
import { coreTicks, processTicks } from "../fanout/cpu.ts";
import type { CapacityRoom } from "./room.ts";

export interface RoomWindow {
	seconds: number;
	/** % of one core, per worker, in worker order. */
	workerPercent: number[];
	sfuNodePercent: number;
	/** This process (every headless participant) and API, Redis, ffmpeg: % of one core. */
	clientsPercent: number;
	loadServicesPercent: number;
	/** This process's event loop delay over the window (every participant's callbacks run there), ms. */
	eventLoopLagMs: { p99: number; max: number };
	/** Datagrams dropped by full receive buffers over the window: at the SFU's sockets, at this process's (the clients'). */
	sfuSocketDrops: number;
	clientSocketDrops: number;
	/** Busy % of each core of the machine over the window. */
	corePercent: number[];
	received: ReceiveTotals;
	/** The same, audio consumers and video consumers apart. */
	audio: ReceiveTotals;
	video: ReceiveTotals;
	/** Video consumers that were being forwarded (not paused by their viewer), and those paused. */
	shownVideos: number;
	/** Shown video consumers of the participants that counted (what `video` covers). */
	countedShownVideos: number;
	pausedVideos: number;
	/** Participants whose camera was being sent (the others: nobody watched it). */
	camerasSent: number;
	/** Participants that counted what they received (`received` is theirs), and those of them that received nothing. */
	counting: number;
	silent: number;
	participants: number;
}

const ticksPerSecond = 100;

/** Inodes of the sockets a process holds. */
function socketInodes(pid: number): Set<string> {
	const inodes = new Set<string>();
	try {
		for (const fd of readdirSync(`/proc/${pid}/fd`)) {
			try {
				const match = readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
				if (match?.[1]) inodes.add(match[1]);
			} catch {
				// closed meanwhile
			}
		}
	} catch {
		// the process is gone
	}
	return inodes;
}

/**
 * Datagrams the kernel dropped because a UDP socket's receive buffer was
 * full (/proc/net/udp's per-socket `drops`), summed over the sockets of
 * `pids`: where loss happens, the SFU's sockets or the clients'.
 */
export function udpDrops(pids: readonly number[]): number {
	const inodes = new Set<string>();
	for (const pid of pids) for (const inode of socketInodes(pid)) inodes.add(inode);
	let drops = 0;
	for (const line of readFileSync("/proc/net/udp", "utf8").split("\n").slice(1)) {
		const fields = line.trim().split(/\s+/);
		if (fields.length < 13 || !inodes.has(fields[9] ?? "")) continue;
		drops += Number(fields[12] ?? 0);
	}
	return drops;
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const lossPercent = (totals: ReceiveTotals) => (100 * totals.lost) / Math.max(1, totals.expected);

export async function measureWindow(
	room: CapacityRoom,
	seconds: number,
	cores: readonly number[],
): Promise<RoomWindow> {
	const pids = [process.pid, room.sfuPid, ...room.workerPids, ...room.loadPids];
	const started = process.hrtime.bigint();
	const ticks0 = pids.map(processTicks);
	const cores0 = cores.map(coreTicks);
	// How late this process (every participant) ran its callbacks: a full load core shows here first.
	const lag = monitorEventLoopDelay({ resolution: 20 });
	lag.enable();
	const drops0 = [udpDrops(room.workerPids), udpDrops([process.pid])];
	const before = room.participants.map((participant) => participant.receiver.snapshot());
	await sleep(seconds * 1000);
	const after = room.participants.map((participant) => participant.receiver.snapshot());
	const drops1 = [udpDrops(room.workerPids), udpDrops([process.pid])];
	lag.disable();
	const ticks1 = pids.map(processTicks);
	const cores1 = cores.map(coreTicks);
	const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
	const percent = (index: number) => (((ticks1[index] ?? 0) - (ticks0[index] ?? 0)) / ticksPerSecond / elapsed) * 100;
	const workerCount = room.workerPids.length;
	let received = emptyTotals();
	let silent = 0;
	let shownVideos = 0;
	let countedShownVideos = 0;
	let pausedVideos = 0;
	let counting = 0;
	const byKind = { audio: emptyTotals(), video: emptyTotals() };
	room.participants.forEach((participant, index) => {
		const from = before[index];
		const to = after[index];
		if (from && to && participant.counting) {
			counting++;
			const totals = HeadlessPeer.totalsBetween(from, to);
			if (totals.packets === 0) silent++;
			received = addTotals(received, totals);
			const consumers = participant.consumers();
			for (const kind of ["audio", "video"] as const) {
				const ids = consumers.filter((consumer) => consumer.kind === kind).map((consumer) => consumer.id);
				byKind[kind] = addTotals(byKind[kind], participant.totalsBetween(from, to, ids));
			}
		}
		for (const consumer of participant.consumers()) {
			if (consumer.kind !== "video" || consumer.closed) continue;
			if (consumer.paused) pausedVideos++;
			else {
				shownVideos++;
				if (participant.counting) countedShownVideos++;
			}
		}
	});
	let loadServices = 0;
	for (let index = 2 + workerCount; index < pids.length; index++) loadServices += percent(index);
	return {
		seconds: elapsed,
		workerPercent: room.workerPids.map((_, index) => percent(2 + index)),
		sfuNodePercent: percent(1),
		clientsPercent: percent(0) + loadServices,
		loadServicesPercent: loadServices,
		eventLoopLagMs: { p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 },
		sfuSocketDrops: (drops1[0] ?? 0) - (drops0[0] ?? 0),
		clientSocketDrops: (drops1[1] ?? 0) - (drops0[1] ?? 0),
		corePercent: cores.map((_, index) => {
			const a = cores0[index];
			const b = cores1[index];
			return a && b ? ((b.busy - a.busy) / Math.max(1, b.total - a.total)) * 100 : 0;
		}),
		received,
		audio: byKind.audio,
		video: byKind.video,
		shownVideos,
		countedShownVideos,
		pausedVideos,
		camerasSent: room.participants.filter((participant) => participant.sendingVideo()).length,
		counting,
		silent,
		participants: room.participants.length,
	};
}
