/**
 * The local stack's supervision (scripts/stack.ts), with the real
 * processes: redis-server, the SFU with its mediasoup worker, the API. A
 * service killed with SIGKILL comes back healthy on the same port; stopping
 * leaves no process behind (orphaned mediasoup workers included), and never
 * restarts anything on the way out.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { isRunning, mediasoupWorkerPids } from "@mindmeet/testing/faults";
import {
	defaultRestartPolicy,
	freePort,
	freePortRange,
	restartDelay,
	type Stack,
	type StackOptions,
	startStack,
} from "../scripts/stack.ts";

// Orphaned processes may linger as zombies where pid 1 does not reap them: those count as gone.
const alive = isRunning;

async function start(lines: string[], options: StackOptions = {}): Promise<Stack> {
	return startStack({
		apiPort: await freePort(),
		rtcPort: await freePortRange(1),
		sfuWorkers: 1,
		output: "ignore",
		logLevel: "warn",
		log: (line) => lines.push(line),
		...options,
	});
}

async function healthStatus(url: string): Promise<number> {
	try {
		return (await fetch(url, { signal: AbortSignal.timeout(5_000) })).status;
	} catch {
		return 0;
	}
}

/** One RESP command to a Redis on `port`; the raw reply. */
async function redisCommand(port: number, ...words: string[]): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = connect(port, "127.0.0.1", () =>
			socket.write(`*${words.length}\r\n${words.map((word) => `$${Buffer.byteLength(word)}\r\n${word}\r\n`).join("")}`),
		);
		socket.once("data", (chunk: Buffer) => {
			resolve(chunk.toString());
			socket.end();
		});
		socket.once("error", reject);
	});
}

describe("restart back-off", () => {
	test("starts at 0.5 s, doubles up to 5 s, and starts over once a process stayed up", () => {
		const delays: number[] = [];
		let next: number | undefined;
		for (let crash = 0; crash < 7; crash++) {
			const { delayMs, nextDelayMs } = restartDelay(defaultRestartPolicy, next, 1_000);
			delays.push(delayMs);
			next = nextDelayMs;
		}
		assert.deepEqual(delays, [500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000]);
		const afterLongRun = restartDelay(defaultRestartPolicy, next, defaultRestartPolicy.resetAfterMs);
		assert.equal(afterLongRun.delayMs, 500);
		assert.equal(afterLongRun.nextDelayMs, 1_000);
	});
});

describe("stack supervision", { timeout: 300_000 }, () => {
	test("SIGKILL of the SFU and of the API: each comes back healthy on the same port; stop leaves nothing", async () => {
		const lines: string[] = [];
		const stack = await start(lines);
		try {
			const sfuUrl = `http://127.0.0.1:${stack.sfuPort}/health`;
			const apiUrl = `http://127.0.0.1:${stack.apiPort}/api/health`;
			const firstSfu = stack.pid("sfu");
			assert.ok(firstSfu, "the SFU runs");
			const firstWorkers = mediasoupWorkerPids(firstSfu);
			assert.equal(firstWorkers.length, 1, "one mediasoup worker");
			assert.deepEqual(stack.rtcPorts.length, 1);

			assert.equal(stack.kill("sfu", "SIGKILL"), firstSfu);
			const secondSfu = await stack.whenHealthy("sfu", { replacing: firstSfu });
			assert.notEqual(secondSfu, firstSfu);
			assert.equal(stack.pid("sfu"), secondSfu);
			assert.equal(stack.processes.sfu.pid, secondSfu);
			assert.equal(await healthStatus(sfuUrl), 200, "the new SFU answers on the same port");
			assert.equal(stack.restarts("sfu"), 1);
			assert.ok(!alive(firstSfu), "the killed SFU is gone");
			for (const pid of firstWorkers) assert.ok(!alive(pid), `the killed SFU's worker ${pid} is gone`);
			assert.equal(mediasoupWorkerPids(secondSfu).length, 1, "the new SFU has its worker (on the same media port)");
			assert.ok(
				lines.some((line) => /sfu \(pid \d+\) exited unexpectedly \(signal SIGKILL\); restarting/.test(line)),
				`a line says the SFU is restarted: ${JSON.stringify(lines)}`,
			);

			const firstApi = stack.kill("api", "SIGKILL");
			const secondApi = await stack.whenHealthy("api", { replacing: firstApi });
			assert.notEqual(secondApi, firstApi);
			assert.equal(await healthStatus(apiUrl), 200, "the new API answers on the same port");
			assert.equal(stack.restarts("api"), 1);
			assert.ok(lines.some((line) => /api \(pid \d+\) exited unexpectedly/.test(line)));
			// The API still reaches the restarted SFU: a room can be created.
			const created = await fetch(`${stack.url}/api/rooms`, {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({ hostName: "Ana", mode: "video" }),
			});
			assert.ok(created.ok, `creating a room after both restarts answers ${created.status}`);

			const everything = stack.livingProcesses();
			assert.ok(everything.includes(secondSfu) && everything.includes(secondApi));
			assert.equal(everything.length, 4, "redis, sfu, its worker and api");
		} finally {
			await stack.stop();
		}
		assert.deepEqual(stack.livingProcesses(), [], "nothing of the stack is left");
		assert.equal(await healthStatus(`http://127.0.0.1:${stack.apiPort}/api/health`), 0, "the API port is closed");
	});

	test("a service killed while the stack stops is not restarted", async () => {
		const lines: string[] = [];
		// A long back-off: stop() arrives while the restart is pending.
		const stack = await start(lines, {
			restartPolicy: { initialDelayMs: 3_000, maxDelayMs: 3_000, resetAfterMs: 60_000 },
		});
		const sfu = stack.kill("sfu", "SIGKILL");
		const waiting = stack.whenHealthy("sfu", { replacing: sfu }).then(
			(pid) => `healthy as ${pid}`,
			(error: Error) => error.message,
		);
		while (!lines.some((line) => line.includes("sfu"))) await new Promise((resolve) => setTimeout(resolve, 50));
		await stack.stop();
		assert.match(await waiting, /stopped/);
		await new Promise((resolve) => setTimeout(resolve, 3_500));
		assert.deepEqual(stack.livingProcesses(), [], "no process was started after stop()");
		assert.equal(stack.restarts("sfu"), 0);
		assert.equal(stack.pid("sfu"), undefined);
	});

	test("restartRedis: SHUTDOWN NOSAVE loses every key, a new redis-server answers on the same port", async () => {
		const stack = await start([]);
		try {
			const port = stack.redisPort;
			assert.ok(port, "the stack owns its Redis");
			const before = stack.pid("redis");
			assert.equal(await redisCommand(port, "SET", "mindmeet:test", "kept?"), "+OK\r\n");
			await stack.restartRedis();
			assert.notEqual(stack.pid("redis"), before);
			assert.ok(before && !alive(before), "the old redis-server is gone");
			assert.equal(await redisCommand(port, "GET", "mindmeet:test"), "$-1\r\n", "nothing was saved");
			// The API reconnects to the new Redis by itself.
			let status = 0;
			for (let attempt = 0; attempt < 100 && status !== 200; attempt++) {
				status = await healthStatus(`http://127.0.0.1:${stack.apiPort}/api/health`);
				if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
			}
			assert.equal(status, 200, "the API is healthy with the new Redis");
		} finally {
			await stack.stop();
		}
		assert.deepEqual(stack.livingProcesses(), []);
	});

	test("kill and restartRedis say clearly what cannot be done", async () => {
		const redisStack = await start([]);
		const shared = await start([], { redisUrl: redisStack.redisUrl });
		try {
			await assert.rejects(shared.restartRedis(), /did not start/);
			assert.throws(() => shared.kill("redis"), /redis is not running/);
		} finally {
			await shared.stop();
			await redisStack.stop();
		}
	});
});
