/**
 * Real faults for tests and benchmarks (TESTING.md, "faults"): SIGKILL of
 * the SFU's mediasoup workers, and network cuts made with nftables on
 * loopback (ENVIRONMENT.md, "Network faults": nft works on these machines,
 * tc netem does not).
 *
 * A cut is a table of its own (a unique name per process and cut) whose
 * rules drop every packet to or from the given ports arriving on `lo`. It is
 * always removed: by restore(), by cutNetworkFor() even when the wait
 * fails, when the process exits or is interrupted, and — for tables left by
 * a process that was SIGKILLed — by the next cut on this machine.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { basename } from "node:path";

// ------------------------------------------------------------- mediasoup workers

interface ProcessInfo {
	pid: number;
	ppid: number;
	command: string;
	zombie: boolean;
}

function readProcess(pid: number): ProcessInfo | undefined {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
		const [state = "", ppid = "0"] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
		const argv0 = readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0")[0] ?? "";
		return { pid, ppid: Number(ppid), command: basename(argv0), zombie: state === "Z" };
	} catch {
		return undefined;
	}
}

function allProcesses(): ProcessInfo[] {
	const found: ProcessInfo[] = [];
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		const info = readProcess(Number(entry));
		if (info) found.push(info);
	}
	return found;
}

/** Pids of the running mediasoup-worker processes whose parent is `sfuPid`. */
export function mediasoupWorkerPids(sfuPid: number): number[] {
	return allProcesses()
		.filter((info) => info.ppid === sfuPid && info.command === "mediasoup-worker" && !info.zombie)
		.map((info) => info.pid);
}

/** Whether `pid` is a running process (a zombie, dead but not yet reaped, is not). */
export function isRunning(pid: number): boolean {
	const info = readProcess(pid);
	return info !== undefined && !info.zombie;
}

const alive = isRunning;

/**
 * SIGKILL the mediasoup workers of the SFU process `sfuPid` (all of them, or
 * only the one at `index` in pid order) and wait until they are gone. Returns
 * the pids killed. Throws if the SFU has no worker to kill: a test that
 * "killed" nothing must not pass.
 */
export async function killMediasoupWorkers(sfuPid: number, options: { index?: number } = {}): Promise<number[]> {
	const workers = mediasoupWorkerPids(sfuPid).sort((a, b) => a - b);
	const chosen = options.index === undefined ? workers : workers.slice(options.index, options.index + 1);
	if (chosen.length === 0) {
		throw new Error(
			`no mediasoup-worker${options.index === undefined ? "" : ` at index ${options.index}`} under pid ${sfuPid} (found ${workers.length})`,
		);
	}
	for (const pid of chosen) process.kill(pid, "SIGKILL");
	for (let round = 0; round < 100 && chosen.some(alive); round++) {
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	const left = chosen.filter(alive);
	if (left.length > 0) throw new Error(`mediasoup workers ${left.join(", ")} survived SIGKILL`);
	return chosen;
}

/**
 * Wait until the SFU `sfuPid` runs `count` workers again, none of them one of
 * `killed` (the SFU replaces a dead worker itself). Returns their pids.
 */
export async function waitForReplacementWorkers(
	sfuPid: number,
	count: number,
	killed: readonly number[],
	timeoutMs = 60_000,
): Promise<number[]> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const workers = mediasoupWorkerPids(sfuPid);
		if (workers.length >= count && !workers.some((pid) => killed.includes(pid))) return workers;
		if (Date.now() > deadline) {
			throw new Error(
				`SFU ${sfuPid} runs workers [${workers.join(", ")}], not ${count} new ones, after ${timeoutMs} ms`,
			);
		}
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

// ------------------------------------------------------------------ network cuts

export interface CutPorts {
	/** Loopback TCP ports: packets to or from them are dropped. */
	tcp?: readonly number[];
	/** Loopback UDP ports: packets to or from them are dropped. */
	udp?: readonly number[];
}

export interface NetworkCut {
	/** The nftables table holding the rules (family inet). */
	readonly table: string;
	/** Remove the rules (idempotent): packets flow again. */
	restore(): void;
}

const tablePrefix = "mindmeet_fault_";
const active = new Set<string>();
let cutCounter = 0;
let exitHooksInstalled = false;

function nft(args: string[], input?: string): string {
	try {
		return execFileSync("nft", args, {
			encoding: "utf8",
			stdio: ["pipe", "pipe", "pipe"],
			...(input === undefined ? {} : { input }),
		});
	} catch (error) {
		const failure = error as NodeJS.ErrnoException & { stderr?: string };
		if (failure.code === "ENOENT") {
			throw new Error("nft is not installed: apt-get install nftables (network fault tests need it)");
		}
		const said = failure.stderr?.trim() || failure.message;
		const hint = /not permitted|permission denied/i.test(said)
			? " (changing nftables rules needs root or CAP_NET_ADMIN: run the fault tests as root)"
			: "";
		throw new Error(`nft ${args.join(" ")} failed: ${said}${hint}`);
	}
}

function deleteTable(table: string): void {
	try {
		nft(["delete", "table", "inet", table]);
	} catch {
		// already gone
	}
}

/** Remove every cut of this process; run at exit, so it must stay synchronous. */
function removeAll(): void {
	for (const table of active) deleteTable(table);
	active.clear();
}

/**
 * Cuts must not outlive the process that made them: at exit, and on
 * SIGINT/SIGTERM (after which the signal is raised again, so the process
 * still ends the way it was told to).
 */
function installExitHooks(): void {
	if (exitHooksInstalled) return;
	exitHooksInstalled = true;
	process.on("exit", removeAll);
	for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
		const onSignal = () => {
			removeAll();
			process.off(signal, onSignal);
			process.kill(process.pid, signal);
		};
		process.on(signal, onSignal);
	}
}

/** Tables left by processes that died without cleaning up (SIGKILL): their pid is in the name. */
function removeStaleTables(): void {
	let listing: string;
	try {
		listing = nft(["list", "tables", "inet"]);
	} catch {
		return;
	}
	for (const match of listing.matchAll(new RegExp(`table inet (${tablePrefix}(\\d+)_\\d+)`, "g"))) {
		const [, table = "", pid = "0"] = match;
		if (Number(pid) !== process.pid && !alive(Number(pid))) deleteTable(table);
	}
}

function checkPorts(ports: readonly number[] | undefined, what: string): number[] {
	const list = [...(ports ?? [])];
	for (const port of list) {
		if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`${what} port ${port} is not a port`);
	}
	return list;
}

/** The names of this machine's nftables tables of family inet. */
export function nftTables(): string[] {
	return [...nft(["list", "tables", "inet"]).matchAll(/table inet (\S+)/g)].map((match) => match[1] ?? "");
}

/**
 * Drop every packet to or from the given loopback ports until restore().
 * Packets are dropped where they arrive (input hook on `lo`), so senders see
 * a silent network, as with a real outage, and not a send error.
 */
export function cutNetwork(ports: CutPorts): NetworkCut {
	const tcp = checkPorts(ports.tcp, "TCP");
	const udp = checkPorts(ports.udp, "UDP");
	if (tcp.length === 0 && udp.length === 0) throw new Error("cutNetwork: no port to cut");
	removeStaleTables();
	installExitHooks();
	const table = `${tablePrefix}${process.pid}_${cutCounter++}`;
	const rules: string[] = [];
	for (const [protocol, list] of [
		["tcp", tcp],
		["udp", udp],
	] as const) {
		if (list.length === 0) continue;
		const set = `{ ${list.join(", ")} }`;
		rules.push(`iifname "lo" ${protocol} dport ${set} drop`, `iifname "lo" ${protocol} sport ${set} drop`);
	}
	// One atomic transaction: either the whole cut is in place or none of it.
	const script = [
		`table inet ${table} {`,
		"  chain input {",
		"    type filter hook input priority -300; policy accept;",
		...rules.map((rule) => `    ${rule}`),
		"  }",
		"}",
		"",
	].join("\n");
	active.add(table);
	try {
		nft(["-f", "-"], script);
	} catch (error) {
		active.delete(table);
		deleteTable(table);
		throw error;
	}
	return {
		table,
		restore() {
			if (!active.delete(table)) return;
			nft(["delete", "table", "inet", table]);
		},
	};
}

/**
 * Cut the given ports for `durationMs` — and, when `during` is given, until
 * it settles too (the test watches the UI meanwhile) — then restore, also
 * when `during` throws. Returns what `during` returned.
 */
export async function cutNetworkFor<T = void>(
	ports: CutPorts,
	durationMs: number,
	during?: () => Promise<T>,
): Promise<T | undefined> {
	const cut = cutNetwork(ports);
	try {
		const started = Date.now();
		const result = during ? await during() : undefined;
		const left = durationMs - (Date.now() - started);
		if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
		return result;
	} finally {
		cut.restore();
	}
}
