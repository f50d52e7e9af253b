/**
 * Pinning and CPU accounting: the system under test runs on core 0 alone,
 * everything else of the benchmark (subscribers, publisher, ffmpeg, the
 * product's API and Redis) on core 1. CPU comes from /proc: a process's
 * utime + stime covers all its threads; a core's busy time from /proc/stat
 * tells whether something else ran on the SFU's core meanwhile.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

export const sfuCore = 0;
/** Core 1, or core 0 too on a one-core machine (the harness still runs; the figures then mean little). */
export const loadCore = availableParallelism() > 1 ? 1 : 0;

/** Pin every current thread of `pid` to `cores` (threads it starts later inherit it). */
export function pin(pid: number, cores: string | number): void {
	execFileSync("taskset", ["-a", "-p", "-c", String(cores), String(pid)], { stdio: "ignore" });
}

/** The cores this machine has (taskset's list syntax), to undo pinning. */
export function allCores(): string {
	return `0-${Math.max(0, (readFileSync("/proc/cpuinfo", "utf8").match(/^processor\s*:/gm)?.length ?? 1) - 1)}`;
}

/** Clock ticks (user + system, all threads) a process has used; 0 once it is gone. */
export function processTicks(pid: number): number {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
		const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
		return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
	} catch {
		return 0;
	}
}

/** Busy and total ticks of one core so far (idle and iowait are not busy). */
export function coreTicks(core: number): { busy: number; total: number } {
	const line = readFileSync("/proc/stat", "utf8")
		.split("\n")
		.find((candidate) => candidate.startsWith(`cpu${core} `));
	if (!line) throw new Error(`no cpu${core} in /proc/stat`);
	const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
	const total = values.reduce((sum, value) => sum + value, 0);
	const idle = (values[3] ?? 0) + (values[4] ?? 0);
	return { busy: total - idle, total };
}

/** The name a process runs under (/proc/<pid>/comm), or undefined once it is gone. */
export function commandOf(pid: number): string | undefined {
	try {
		return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
	} catch {
		return undefined;
	}
}

/** Direct children of a process. */
export function childrenOf(pid: number): number[] {
	try {
		return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
	} catch {
		return [];
	}
}

export interface CpuWindow {
	seconds: number;
	/** The system's processes, in % of one core. */
	systemPercent: number;
	/** Core 0 as a whole, in % (the system plus whatever else ran there). */
	corePercent: number;
}

/** Start a measurement window over `pids` on `core`; `end()` closes it. */
export function cpuWindow(pids: readonly number[], core = sfuCore): { end(): CpuWindow } {
	const ticksPerSecond = 100;
	const started = process.hrtime.bigint();
	const ticks0 = pids.reduce((sum, pid) => sum + processTicks(pid), 0);
	const core0 = coreTicks(core);
	return {
		end() {
			const seconds = Number(process.hrtime.bigint() - started) / 1e9;
			const ticks1 = pids.reduce((sum, pid) => sum + processTicks(pid), 0);
			const core1 = coreTicks(core);
			return {
				seconds,
				systemPercent: ((ticks1 - ticks0) / ticksPerSecond / seconds) * 100,
				corePercent: ((core1.busy - core0.busy) / Math.max(1, core1.total - core0.total)) * 100,
			};
		},
	};
}
