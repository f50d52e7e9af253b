/**
 * Runs the whole service as real processes: Redis (unless one is given),
 * the SFU and the API. Used by `npm start` and by the end-to-end tests and
 * benchmarks, so what is tested is what is run.
 *
 * The SFU and the API are supervised: one that exits without the stack
 * asking is started again on the same ports after a short back-off, and is
 * counted as up again once its health endpoint answers, as at start. A
 * meeting outlives a crashed process (issue 8), locally as with compose's
 * `restart: unless-stopped`.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import type { NetworkInterfaceInfo } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The services the stack restarts when they exit on their own. */
export type SupervisedService = "sfu" | "api";
export type StackService = SupervisedService | "redis";

export interface RestartPolicy {
	/** Wait before the first restart, ms. */
	initialDelayMs: number;
	/** The wait doubles on each crash in a row, up to this, ms. */
	maxDelayMs: number;
	/** A process that stayed up (and healthy) this long starts the back-off over, ms. */
	resetAfterMs: number;
}

export const defaultRestartPolicy: RestartPolicy = { initialDelayMs: 500, maxDelayMs: 5_000, resetAfterMs: 30_000 };

/**
 * How long to wait before restarting a process that just exited, and what
 * the next wait will be if it crashes again. Pure, so the policy is tested
 * without crashing anything.
 */
export function restartDelay(
	policy: RestartPolicy,
	previousDelayMs: number | undefined,
	upForMs: number,
): { delayMs: number; nextDelayMs: number } {
	const delayMs =
		previousDelayMs === undefined || upForMs >= policy.resetAfterMs
			? policy.initialDelayMs
			: Math.min(previousDelayMs, policy.maxDelayMs);
	return { delayMs, nextDelayMs: Math.min(delayMs * 2, policy.maxDelayMs) };
}

export interface StackOptions {
	/** Use this Redis; otherwise a local redis-server is started and stopped with the stack. */
	redisUrl?: string;
	apiPort?: number;
	sfuPort?: number;
	/** First media port (worker i listens on rtcPort + i, UDP and TCP); 0 lets each worker choose. */
	rtcPort?: number;
	/**
	 * Addresses the SFU listens on and announces besides 127.0.0.1
	 * (SFU_EXTRA_ADDRESSES): Firefox never pairs with a loopback candidate.
	 * Tests pass an address of their own network namespace; `npm start`
	 * passes this machine's (see localMediaAddresses).
	 */
	sfuExtraAddresses?: readonly string[];
	sfuWorkers?: number;
	publicUrl?: string;
	logLevel?: string;
	/** Extra environment for both services (e.g. shorter lifetimes in tests). */
	env?: Record<string, string>;
	/** Where service output goes; default: inherit (visible in the terminal). */
	output?: "inherit" | "ignore" | "pipe";
	/** Back-off between restarts of a crashed SFU or API. */
	restartPolicy?: RestartPolicy;
	/**
	 * Where the stack's own lines go (one per unexpected exit and restart).
	 * Default: stderr, unless `output` is "ignore".
	 */
	log?: (line: string) => void;
}

export interface Stack {
	readonly url: string;
	readonly apiPort: number;
	/** The SFU's signaling/health port (loopback). */
	readonly sfuPort: number;
	/** Each worker's media port (UDP and TCP), in worker order; empty when the workers picked their own. */
	readonly rtcPorts: readonly number[];
	readonly redisUrl: string;
	/** The port of the stack's own redis-server; undefined when `redisUrl` was given. */
	readonly redisPort: number | undefined;
	/** The processes running now: after a restart these are the new ones. */
	readonly processes: {
		readonly api: ChildProcess;
		readonly sfu: ChildProcess;
		readonly redis: ChildProcess | undefined;
	};
	/** The current pid of a service (undefined while it is down, or for a Redis the stack does not own). */
	pid(service: StackService): number | undefined;
	/** Send `signal` (default SIGKILL) to a service's current process; returns the pid signalled. */
	kill(service: StackService, signal?: NodeJS.Signals): number;
	/**
	 * Resolves with the pid once the service is up and its health endpoint
	 * answers; with `replacing`, only once a process other than that pid is
	 * (i.e. after the restart of a killed one). Rejects after `timeoutMs`
	 * (default 120 s) or when the stack stops.
	 */
	whenHealthy(service: SupervisedService, options?: { replacing?: number; timeoutMs?: number }): Promise<number>;
	/** How many times a service was restarted after an unexpected exit. */
	restarts(service: SupervisedService): number;
	/**
	 * SHUTDOWN NOSAVE the stack's redis-server over its own protocol (what
	 * a crash or an operator's restart looks like: every key is gone), then a
	 * fresh one on the same port. Throws when the stack does not own Redis.
	 */
	restartRedis(): Promise<void>;
	/** Pids of every live process started for this stack, mediasoup workers included (orphaned or not). */
	livingProcesses(): number[];
	/** Stop everything, without restarting anything on the way; leaves no process behind. */
	stop(): Promise<void>;
}

/**
 * This machine's own non-loopback IPv4 addresses (from os.networkInterfaces()),
 * for the SFU to announce in local mode next to 127.0.0.1: a browser that
 * skips loopback (Firefox) pairs with one of them, from the same machine or
 * from the LAN. Link-local (169.254/16) addresses are left out.
 */
export function localMediaAddresses(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string[] {
	const found = new Set<string>();
	for (const infos of Object.values(interfaces)) {
		for (const info of infos ?? []) {
			if (info.family !== "IPv4" || info.internal || info.address.startsWith("169.254.")) continue;
			found.add(info.address);
		}
	}
	return [...found];
}

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.on("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			server.close(() =>
				address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port")),
			);
		});
	});
}

async function tcpFree(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const server = createServer();
		server.once("error", () => resolve(false));
		server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
	});
}

async function udpFree(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = createSocket("udp4");
		socket.once("error", () => {
			socket.close();
			resolve(false);
		});
		socket.bind(port, "127.0.0.1", () => socket.close(() => resolve(true)));
	});
}

/**
 * `count` consecutive ports free for both TCP and UDP on 127.0.0.1 a moment
 * ago: fixed media ports for the SFU's workers that a test can name (to cut
 * them with nftables) and that stay the same across restarts. Picked below
 * Linux's ephemeral range (32768+), where outgoing connections take theirs.
 */
export async function freePortRange(count: number): Promise<number> {
	for (let attempt = 0; attempt < 200; attempt++) {
		const first = 20_000 + Math.floor(Math.random() * (32_000 - 20_000 - count));
		let free = true;
		for (let port = first; port < first + count && free; port++) {
			free = (await tcpFree(port)) && (await udpFree(port));
		}
		if (free) return first;
	}
	throw new Error(`no ${count} consecutive free TCP+UDP ports found between 20000 and 32000`);
}

function redisServerBinary(): string {
	try {
		return execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim();
	} catch {
		throw new Error("redis-server is not installed. Install it (apt-get install redis-server) or set REDIS_URL.");
	}
}

/** Resolve when `child` prints `marker`; reject if it exits first. */
async function waitForOutput(child: ChildProcess, marker: string, name: string): Promise<void> {
	let seen = "";
	await new Promise<void>((resolve, reject) => {
		const onData = (chunk: Buffer) => {
			seen = (seen + chunk.toString()).slice(-8000);
			if (seen.includes(marker)) {
				child.stdout?.off("data", onData);
				child.off("exit", onExit);
				resolve();
			}
		};
		const onExit = (code: number | null) => reject(new Error(`${name} exited (${code}) before it was ready:\n${seen}`));
		child.stdout?.on("data", onData);
		child.once("exit", onExit);
	});
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Poll `url` until it answers 200; fail if `child` exits first or after about a minute. */
async function waitForHealth(child: ChildProcess, url: string, name: string): Promise<void> {
	for (let attempt = 0; attempt < 600; attempt++) {
		if (exited(child)) {
			const said = stderrTails.get(child)?.trim();
			throw new Error(
				`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready${said ? `:\n${said}` : ""}`,
			);
		}
		try {
			const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
			if (response.ok) return;
		} catch {
			// not listening yet
		}
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
	throw new Error(`${name} did not become ready at ${url}`);
}

/** What a service last wrote to stderr, kept so a failed start can say why. */
const stderrTails = new WeakMap<ChildProcess, string>();

function service(script: string, env: NodeJS.ProcessEnv, output: StackOptions["output"]): ChildProcess {
	const child = spawn(process.execPath, [join(repoRoot, script)], {
		cwd: repoRoot,
		env,
		stdio: ["ignore", "pipe", "pipe"],
	});
	if (output === "inherit") child.stdout?.pipe(process.stdout, { end: false });
	else child.stdout?.resume();
	stderrTails.set(child, "");
	child.stderr?.on("data", (chunk: Buffer) => {
		if (output === "inherit") process.stderr.write(chunk);
		stderrTails.set(child, ((stderrTails.get(child) ?? "") + chunk.toString()).slice(-4000));
	});
	return child;
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
	if (!child || exited(child)) return;
	const gone = once(child, "exit");
	child.kill("SIGTERM");
	const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
	await gone;
	clearTimeout(timer);
}

/**
 * Every process on this machine whose environment carries
 * MINDMEET_STACK_ID=`id`: the stack's services and everything they started
 * (mediasoup workers inherit the SFU's environment), even once orphaned.
 */
function processesOfStack(id: string): { pid: number; command: string }[] {
	const marker = `MINDMEET_STACK_ID=${id}`;
	const found: { pid: number; command: string }[] = [];
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const environ = readFileSync(`/proc/${entry}/environ`, "latin1");
			if (!environ.split("\0").includes(marker)) continue;
			// A zombie (exited, not yet reaped by its parent) is no longer running.
			const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
			if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
			const argv0 = readFileSync(`/proc/${entry}/cmdline`, "latin1").split("\0")[0] ?? "";
			found.push({ pid: Number(entry), command: basename(argv0) });
		} catch {
			// gone meanwhile, or not ours to read
		}
	}
	return found;
}

/** SIGKILL the given processes and wait (a few seconds at most) until they are gone. */
async function killAndWait(id: string, select: (process: { pid: number; command: string }) => boolean): Promise<void> {
	for (let round = 0; round < 50; round++) {
		const left = processesOfStack(id).filter(select);
		if (left.length === 0) return;
		for (const { pid } of left) {
			try {
				process.kill(pid, "SIGKILL");
			} catch {
				// already gone
			}
		}
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

interface Waiter {
	check(): boolean;
	fail(error: Error): void;
}

/** One service process, started again whenever it exits without being asked to. */
class Supervised {
	readonly #name: SupervisedService;
	readonly #spawn: () => ChildProcess;
	readonly #healthUrl: string;
	readonly #policy: RestartPolicy;
	readonly #log: (line: string) => void;
	readonly #beforeRestart: () => Promise<void>;
	#child: ChildProcess | undefined;
	#healthy = false;
	#healthySince = 0;
	#stopping = false;
	#nextDelayMs: number | undefined;
	#timer: NodeJS.Timeout | undefined;
	#restarts = 0;
	readonly #waiters = new Set<Waiter>();

	constructor(options: {
		name: SupervisedService;
		spawn: () => ChildProcess;
		healthUrl: string;
		policy: RestartPolicy;
		log: (line: string) => void;
		beforeRestart: () => Promise<void>;
	}) {
		this.#name = options.name;
		this.#spawn = options.spawn;
		this.#healthUrl = options.healthUrl;
		this.#policy = options.policy;
		this.#log = options.log;
		this.#beforeRestart = options.beforeRestart;
	}

	get child(): ChildProcess | undefined {
		return this.#child;
	}

	get restarts(): number {
		return this.#restarts;
	}

	/** The first start: a failure here is the caller's to report (nothing is retried). */
	async start(): Promise<void> {
		const child = this.#spawn();
		this.#child = child;
		await waitForHealth(child, this.#healthUrl, this.#name);
		this.#markHealthy(child);
		child.once("exit", (code, signal) => this.#onExit(child, code, signal));
	}

	whenHealthy(replacing: number | undefined, timeoutMs: number): Promise<number> {
		return new Promise((resolve, reject) => {
			const ready = () =>
				this.#healthy && this.#child?.pid !== undefined && this.#child.pid !== replacing ? this.#child.pid : undefined;
			const now = ready();
			if (now !== undefined) {
				resolve(now);
				return;
			}
			if (this.#stopping) {
				reject(new Error(`${this.#name} is stopped`));
				return;
			}
			const timer = setTimeout(() => {
				this.#waiters.delete(waiter);
				reject(
					new Error(
						`${this.#name} was not healthy again within ${timeoutMs} ms (restarts so far: ${this.#restarts}${
							replacing === undefined ? "" : `, waiting for a process other than pid ${replacing}`
						})`,
					),
				);
			}, timeoutMs);
			const waiter: Waiter = {
				check: () => {
					const pid = ready();
					if (pid === undefined) return false;
					clearTimeout(timer);
					resolve(pid);
					return true;
				},
				fail: (error) => {
					clearTimeout(timer);
					reject(error);
				},
			};
			this.#waiters.add(waiter);
		});
	}

	async stop(): Promise<void> {
		this.#stopping = true;
		clearTimeout(this.#timer);
		this.#timer = undefined;
		this.#healthy = false;
		for (const waiter of this.#waiters) waiter.fail(new Error(`${this.#name} was stopped with the stack`));
		this.#waiters.clear();
		await stopProcess(this.#child);
	}

	#markHealthy(child: ChildProcess): void {
		if (child !== this.#child || this.#stopping) return;
		this.#healthy = true;
		this.#healthySince = Date.now();
		for (const waiter of [...this.#waiters]) if (waiter.check()) this.#waiters.delete(waiter);
	}

	#onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
		if (child !== this.#child || this.#stopping) return;
		const upForMs = this.#healthy ? Date.now() - this.#healthySince : 0;
		this.#healthy = false;
		const { delayMs, nextDelayMs } = restartDelay(this.#policy, this.#nextDelayMs, upForMs);
		this.#nextDelayMs = nextDelayMs;
		this.#log(
			`mindmeet: ${this.#name} (pid ${child.pid}) exited unexpectedly (${signal ? `signal ${signal}` : `code ${code}`}); restarting it in ${delayMs / 1000} s`,
		);
		this.#timer = setTimeout(() => void this.#restart(), delayMs);
	}

	async #restart(): Promise<void> {
		this.#timer = undefined;
		if (this.#stopping) return;
		await this.#beforeRestart();
		if (this.#stopping) return;
		const child = this.#spawn();
		this.#child = child;
		this.#restarts++;
		// An exit at any point (also before it is healthy) schedules the next try.
		child.once("exit", (code, signal) => this.#onExit(child, code, signal));
		try {
			await waitForHealth(child, this.#healthUrl, this.#name);
			this.#markHealthy(child);
		} catch {
			// Exited: its exit handler has scheduled the next attempt. Still
			// running but never healthy: kill it, and the same handler retries.
			if (!exited(child)) child.kill("SIGKILL");
		}
	}
}

/** A redis-server owned by the stack, on a port that stays the same across restarts. */
class OwnedRedis {
	readonly port: number;
	readonly #env: NodeJS.ProcessEnv;
	readonly #output: StackOptions["output"];
	#child: ChildProcess | undefined;

	constructor(port: number, env: NodeJS.ProcessEnv, output: StackOptions["output"]) {
		this.port = port;
		this.#env = env;
		this.#output = output;
	}

	get child(): ChildProcess | undefined {
		return this.#child;
	}

	async start(): Promise<void> {
		const child = spawn(
			redisServerBinary(),
			["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
			{ stdio: ["ignore", "pipe", this.#output === "inherit" ? "inherit" : "ignore"], env: this.#env },
		);
		this.#child = child;
		await waitForOutput(child, "Ready to accept connections", "redis-server");
		child.stdout?.resume();
	}

	/** SHUTDOWN NOSAVE in RESP, as any client would send it; resolves once the process is gone. */
	async shutdownNoSave(): Promise<void> {
		const child = this.#child;
		if (!child || exited(child)) return;
		const gone = once(child, "exit");
		await new Promise<void>((resolve, reject) => {
			const socket = connect(this.port, "127.0.0.1", () => socket.write("*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n"));
			let answer = "";
			socket.on("data", (chunk: Buffer) => {
				answer += chunk.toString();
			});
			// On success Redis closes the connection without a reply; an error reply means it refused.
			socket.on("close", () =>
				answer.startsWith("-") ? reject(new Error(`redis refused SHUTDOWN: ${answer.trim()}`)) : resolve(),
			);
			socket.on("error", reject);
		});
		const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
		await gone;
		clearTimeout(timer);
	}

	async stop(): Promise<void> {
		await stopProcess(this.#child);
	}
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
	const output = options.output ?? "inherit";
	const log = options.log ?? (output === "ignore" ? () => {} : (line: string) => console.error(line));
	const policy = options.restartPolicy ?? defaultRestartPolicy;
	// Marks every process of this stack, so none can be left behind (see processesOfStack).
	const stackId = randomBytes(8).toString("hex");
	let redis: OwnedRedis | undefined;
	let redisUrl = options.redisUrl;
	if (!redisUrl) {
		redis = new OwnedRedis(await freePort(), { ...process.env, MINDMEET_STACK_ID: stackId }, output);
		await redis.start();
		redisUrl = `redis://127.0.0.1:${redis.port}`;
	}
	const apiPort = options.apiPort ?? 3000;
	const sfuPort = options.sfuPort ?? (await freePort());
	const rtcPort = options.rtcPort ?? 40000;
	const workers = options.sfuWorkers;
	const url = options.publicUrl ?? `http://localhost:${apiPort}`;
	const common: NodeJS.ProcessEnv = {
		...process.env,
		REDIS_URL: redisUrl,
		LOG_LEVEL: options.logLevel ?? process.env.LOG_LEVEL ?? "info",
		...options.env,
		MINDMEET_STACK_ID: stackId,
	};
	const sfu = new Supervised({
		name: "sfu",
		spawn: () =>
			service(
				"services/sfu/src/main.ts",
				{
					...common,
					SFU_NODE_ID: process.env.SFU_NODE_ID ?? "local",
					SFU_SIGNALING_HOST: "127.0.0.1",
					SFU_SIGNALING_PORT: String(sfuPort),
					SFU_RTC_PORT: String(rtcPort),
					...(options.sfuExtraAddresses ? { SFU_EXTRA_ADDRESSES: options.sfuExtraAddresses.join(",") } : {}),
					...(workers ? { SFU_WORKERS: String(workers) } : {}),
				},
				output,
			),
		healthUrl: `http://127.0.0.1:${sfuPort}/health`,
		policy,
		log,
		// A killed SFU's mediasoup workers notice their parent is gone on
		// their own, but may still hold the media ports for a moment.
		beforeRestart: () => killAndWait(stackId, ({ command }) => command === "mediasoup-worker"),
	});
	const api = new Supervised({
		name: "api",
		spawn: () =>
			service(
				"services/api/src/main.ts",
				{ ...common, PORT: String(apiPort), HOST: "127.0.0.1", PUBLIC_URL: url },
				output,
			),
		healthUrl: `http://127.0.0.1:${apiPort}/api/health`,
		policy,
		log,
		beforeRestart: async () => {},
	});

	let stopped: Promise<void> | undefined;
	const stop = () => {
		stopped ??= (async () => {
			await api.stop();
			await sfu.stop();
			await redis?.stop();
			await killAndWait(stackId, () => true);
		})();
		return stopped;
	};
	try {
		await sfu.start();
		await api.start();
	} catch (error) {
		await stop();
		throw error;
	}

	const supervised = (name: SupervisedService) => (name === "sfu" ? sfu : api);
	const current = (name: StackService) => (name === "redis" ? redis?.child : supervised(name).child);
	const live = (child: ChildProcess | undefined) => (child && !exited(child) ? child : undefined);
	const required = (child: ChildProcess | undefined, what: string) => {
		if (!child) throw new Error(`${what} is not running`);
		return child;
	};

	return {
		url,
		apiPort,
		sfuPort,
		rtcPorts: rtcPort === 0 ? [] : Array.from({ length: workers ?? 1 }, (_, index) => rtcPort + index),
		redisUrl,
		redisPort: redis?.port,
		processes: {
			get api() {
				return required(api.child, "the api");
			},
			get sfu() {
				return required(sfu.child, "the sfu");
			},
			get redis() {
				return redis?.child;
			},
		},
		pid: (name) => live(current(name))?.pid,
		kill(name, signal = "SIGKILL") {
			const child = live(current(name));
			if (!child?.pid) throw new Error(`${name} is not running: nothing to kill`);
			child.kill(signal);
			return child.pid;
		},
		whenHealthy: (name, { replacing, timeoutMs = 120_000 } = {}) => supervised(name).whenHealthy(replacing, timeoutMs),
		restarts: (name) => supervised(name).restarts,
		async restartRedis() {
			if (!redis) throw new Error("this stack uses a Redis it did not start (redisUrl): it cannot restart it");
			await redis.shutdownNoSave();
			await redis.start();
		},
		livingProcesses: () => {
			// redis-server rewrites its environment's memory for its process
			// title, so it is found by its ChildProcess rather than by the marker.
			const pids = new Set(processesOfStack(stackId).map(({ pid }) => pid));
			for (const name of ["redis", "sfu", "api"] as const) {
				const pid = live(current(name))?.pid;
				if (pid !== undefined) pids.add(pid);
			}
			return [...pids];
		},
		stop,
	};
}
