/**
 * A real redis-server for one test run, on a free port, with persistence off.
 * Tests never mock Redis: they get one of these.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { freePort } from "./ports.ts";

export interface RedisServer {
	url: string;
	port: number;
	/** Stop and start it again on the same port (for restart tests). */
	restart(): Promise<void>;
	stop(): Promise<void>;
}

function redisServerBinary(): string {
	try {
		return execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim();
	} catch {
		throw new Error(
			"redis-server is not installed: apt-get install redis-server (the test harness needs a real Redis)",
		);
	}
}

async function spawnRedis(binary: string, port: number): Promise<ChildProcess> {
	const child = spawn(
		binary,
		["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
		{ stdio: ["ignore", "pipe", "pipe"] },
	);
	let output = "";
	await new Promise<void>((resolve, reject) => {
		const onData = (chunk: Buffer) => {
			output += chunk.toString();
			if (output.includes("Ready to accept connections")) {
				child.stdout?.off("data", onData);
				resolve();
			}
		};
		child.stdout?.on("data", onData);
		child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`)));
	});
	child.stdout?.resume();
	child.stderr?.resume();
	return child;
}

export async function startRedis(): Promise<RedisServer> {
	const binary = redisServerBinary();
	const port = await freePort();
	let child = await spawnRedis(binary, port);
	const stop = async () => {
		if (child.exitCode !== null || child.signalCode !== null) return;
		child.kill("SIGTERM");
		await once(child, "exit");
	};
	return {
		url: `redis://127.0.0.1:${port}`,
		port,
		stop,
		async restart() {
			await stop();
			child = await spawnRedis(binary, port);
		},
	};
}
