/** Small helpers shared by the benchmark sections. */
import { readFileSync } from "node:fs";

export function percentile(values: number[], p: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
	return sorted[index] ?? Number.NaN;
}

export const median = (values: number[]) => percentile(values, 50);

/** Resident memory of a process and its direct children (the SFU's workers), in MiB. */
export function rssMiB(pid: number): number {
	let children: number[] = [];
	try {
		children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
			.trim()
			.split(/\s+/)
			.filter(Boolean)
			.map(Number);
	} catch {
		// no children listed
	}
	let kib = 0;
	for (const id of [pid, ...children]) {
		const match = readFileSync(`/proc/${id}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
		kib += Number(match?.[1] ?? 0);
	}
	return kib / 1024;
}

export function markdownTable(header: string[], rows: (string | number)[][]): string {
	return [
		`| ${header.join(" | ")} |`,
		`| ${header.map(() => "---").join(" | ")} |`,
		...rows.map((row) => `| ${row.join(" | ")} |`),
	].join("\n");
}

/** One section of docs/BENCHMARKS.md. */
export interface BenchSection {
	title: string;
	markdown: string;
}

/** CPU time (user + system) a process has used so far, in ms, from /proc. */
export function cpuMs(pid: number): number {
	const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
	const ticks = Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
	return (ticks * 1000) / 100;
}
