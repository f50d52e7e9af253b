/**
 * Runs the whole service as real processes: Redis (unless one is given),
 * the SFU and the API. Used by `npm start` and by the end-to-end tests and
 * benchmarks, so what is tested is what is run.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

export interface StackOptions {
	/** Use this Redis; otherwise a local redis-server is started and stopped with the stack. */
	redisUrl?: string;
	apiPort?: number;
	sfuPort?: number;
	/** First media port; 0 lets each worker choose. */
	rtcPort?: number;
	sfuWorkers?: number;
	publicUrl?: string;
	logLevel?: string;
	/** Extra environment for both services (e.g. shorter lifetimes in tests). */
	env?: Record<string, string>;
	/** Where service output goes; default: inherit (visible in the terminal). */
	output?: "inherit" | "ignore" | "pipe";
}

export interface Stack {
	url: string;
	apiPort: number;
	redisUrl: string;
	processes: { api: ChildProcess; sfu: ChildProcess; redis: ChildProcess | undefined };
	stop(): Promise<void>;
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

/** Poll `url` until it answers 200; fail if `child` exits first or after about a minute. */
async function waitForHealth(child: ChildProcess, url: string, name: string): Promise<void> {
	for (let attempt = 0; attempt < 600; attempt++) {
		if (child.exitCode !== null || child.signalCode !== null) {
			const said = stderrTails.get(child)?.trim();
			throw new Error(
				`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready${said ? `:\n${said}` : ""}`,
			);
		}
		try {
			const response = await fetch(url);
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
	if (!child || child.exitCode !== null || child.signalCode !== null) return;
	child.kill("SIGTERM");
	const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
	await once(child, "exit");
	clearTimeout(timer);
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
	const output = options.output ?? "inherit";
	let redis: ChildProcess | undefined;
	let redisUrl = options.redisUrl;
	if (!redisUrl) {
		const port = await freePort();
		redis = spawn(
			redisServerBinary(),
			["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
			{ stdio: ["ignore", "pipe", "inherit"] },
		);
		await waitForOutput(redis, "Ready to accept connections", "redis-server");
		redis.stdout?.resume();
		redisUrl = `redis://127.0.0.1:${port}`;
	}
	const apiPort = options.apiPort ?? 3000;
	const sfuPort = options.sfuPort ?? (await freePort());
	const url = options.publicUrl ?? `http://localhost:${apiPort}`;
	const common: NodeJS.ProcessEnv = {
		...process.env,
		REDIS_URL: redisUrl,
		LOG_LEVEL: options.logLevel ?? process.env.LOG_LEVEL ?? "info",
		...options.env,
	};
	const sfu = service(
		"services/sfu/src/main.ts",
		{
			...common,
			SFU_NODE_ID: process.env.SFU_NODE_ID ?? "local",
			SFU_SIGNALING_HOST: "127.0.0.1",
			SFU_SIGNALING_PORT: String(sfuPort),
			SFU_RTC_PORT: String(options.rtcPort ?? 40000),
			...(options.sfuWorkers ? { SFU_WORKERS: String(options.sfuWorkers) } : {}),
		},
		output,
	);
	const stopAll = async () => {
		await stopProcess(api);
		await stopProcess(sfu);
		await stopProcess(redis);
	};
	let api: ChildProcess | undefined;
	try {
		await waitForHealth(sfu, `http://127.0.0.1:${sfuPort}/health`, "sfu");
		api = service(
			"services/api/src/main.ts",
			{ ...common, PORT: String(apiPort), HOST: "127.0.0.1", PUBLIC_URL: url },
			output,
		);
		await waitForHealth(api, `http://127.0.0.1:${apiPort}/api/health`, "api");
	} catch (error) {
		await stopAll();
		throw error;
	}
	return {
		url,
		apiPort,
		redisUrl,
		processes: { api, sfu, redis },
		stop: stopAll,
	};
}
