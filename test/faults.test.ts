/**
 * The fault helpers of @mindmeet/testing/faults, against real things: real
 * sockets cut by real nftables rules, a real SFU whose mediasoup worker is
 * killed. The helpers themselves must be trustworthy, or the fault tests
 * built on them prove nothing.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { connect, createServer, type Server } from "node:net";
import { after, before, describe, test } from "node:test";
import {
	cutNetwork,
	cutNetworkFor,
	isRunning,
	killMediasoupWorkers,
	mediasoupWorkerPids,
	nftTables,
	waitForReplacementWorkers,
} from "@mindmeet/testing/faults";
import { freePort, freePortRange, type Stack, startStack } from "../scripts/stack.ts";

/** Whether a TCP connection to `port` opens within `withinMs` (a cut port never answers the SYN). */
async function tcpConnects(port: number, withinMs = 1_500): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = connect(port, "127.0.0.1");
		const timer = setTimeout(() => {
			socket.destroy();
			resolve(false);
		}, withinMs);
		socket.once("connect", () => {
			clearTimeout(timer);
			socket.destroy();
			resolve(true);
		});
		socket.once("error", () => {
			clearTimeout(timer);
			resolve(false);
		});
	});
}

/** Whether a datagram sent to `port` (where `receiver` listens) arrives within `withinMs`. */
async function udpArrives(port: number, receiver: ReturnType<typeof createSocket>, withinMs = 1_000): Promise<boolean> {
	const sender = createSocket("udp4");
	try {
		const arrived = new Promise<boolean>((resolve) => {
			const timer = setTimeout(() => {
				receiver.off("message", onMessage);
				resolve(false);
			}, withinMs);
			const onMessage = () => {
				clearTimeout(timer);
				receiver.off("message", onMessage);
				resolve(true);
			};
			receiver.on("message", onMessage);
		});
		sender.send("ping", port, "127.0.0.1");
		return await arrived;
	} finally {
		sender.close();
	}
}

const ourTables = () => nftTables().filter((table) => table.startsWith("mindmeet_fault_"));

describe("network cuts with nftables", () => {
	let server: Server;
	let tcpPort: number;
	let udpPort: number;
	const udp = createSocket("udp4");

	before(async () => {
		tcpPort = await freePort();
		server = createServer((socket) => socket.destroy()).listen(tcpPort, "127.0.0.1");
		await once(server, "listening");
		udpPort = await freePortRange(1);
		udp.bind(udpPort, "127.0.0.1");
		await once(udp, "listening");
	});

	after(() => {
		server.close();
		udp.close();
	});

	test("a cut drops TCP and UDP on the given ports only; restore lets them through and removes the table", async () => {
		const other = await freePort();
		const otherServer = createServer((socket) => socket.destroy()).listen(other, "127.0.0.1");
		await once(otherServer, "listening");
		try {
			assert.ok(await tcpConnects(tcpPort), "reachable before the cut");
			assert.ok(await udpArrives(udpPort, udp), "datagrams arrive before the cut");
			const cut = cutNetwork({ tcp: [tcpPort], udp: [udpPort] });
			try {
				assert.ok(ourTables().includes(cut.table), "the cut has its own table");
				assert.equal(await tcpConnects(tcpPort), false, "no TCP connection during the cut");
				assert.equal(await udpArrives(udpPort, udp), false, "no datagram during the cut");
				assert.ok(await tcpConnects(other), "another port is not affected");
			} finally {
				cut.restore();
			}
			assert.ok(!ourTables().includes(cut.table), "the table is gone");
			cut.restore(); // twice is fine
			assert.ok(await tcpConnects(tcpPort), "reachable after restore");
			assert.ok(await udpArrives(udpPort, udp), "datagrams arrive after restore");
		} finally {
			otherServer.close();
		}
	});

	test("cutNetworkFor restores even when what runs during the cut throws", async () => {
		let table = "";
		await assert.rejects(
			cutNetworkFor({ tcp: [tcpPort] }, 100, async () => {
				table = ourTables().at(-1) ?? "";
				assert.equal(await tcpConnects(tcpPort), false);
				throw new Error("the check failed");
			}),
			/the check failed/,
		);
		assert.ok(table, "a table existed during the cut");
		assert.ok(!ourTables().includes(table), "and is gone after the failure");
		assert.ok(await tcpConnects(tcpPort));
	});

	test("a process that exits with a cut in place removes it; one that was SIGKILLed has it removed by the next cut", async () => {
		const script = (end: string) =>
			`import { cutNetwork } from "@mindmeet/testing/faults";
			const cut = cutNetwork({ tcp: [${tcpPort}] });
			console.log(cut.table);
			${end}`;
		const run = async (end: string) => {
			const child = spawn(process.execPath, ["--input-type=module", "-e", script(end)], {
				cwd: import.meta.dirname,
				stdio: ["ignore", "pipe", "inherit"],
			});
			let table = "";
			child.stdout.on("data", (chunk: Buffer) => {
				table += chunk.toString();
			});
			return { child, table: () => table.trim() };
		};

		const exiting = await run("process.exitCode = 3;");
		await once(exiting.child, "exit");
		assert.equal(exiting.child.exitCode, 3);
		assert.ok(exiting.table().startsWith("mindmeet_fault_"), `the child made a cut: ${exiting.table()}`);
		assert.ok(!ourTables().includes(exiting.table()), "removed at exit");

		const throwing = await run('throw new Error("boom");');
		await once(throwing.child, "exit");
		assert.ok(!ourTables().includes(throwing.table()), "removed after an uncaught error");

		const terminated = await run("setInterval(() => {}, 1000);");
		while (!terminated.table()) await new Promise((resolve) => setTimeout(resolve, 50));
		terminated.child.kill("SIGTERM");
		await once(terminated.child, "exit");
		assert.equal(terminated.child.signalCode, "SIGTERM", "it still ends by the signal");
		assert.ok(!ourTables().includes(terminated.table()), "removed on SIGTERM");

		const killed = await run("setInterval(() => {}, 1000);");
		while (!killed.table()) await new Promise((resolve) => setTimeout(resolve, 50));
		killed.child.kill("SIGKILL");
		await once(killed.child, "exit");
		assert.ok(ourTables().includes(killed.table()), "a SIGKILLed process cannot clean up");
		const next = cutNetwork({ udp: [udpPort] });
		next.restore();
		assert.ok(!ourTables().includes(killed.table()), "the next cut removed the stale table");
		assert.ok(await tcpConnects(tcpPort));
	});

	test("bad input is refused with a clear error and cuts nothing", () => {
		const before = ourTables();
		assert.throws(() => cutNetwork({}), /no port to cut/);
		assert.throws(() => cutNetwork({ tcp: [70_000] }), /not a port/);
		assert.throws(() => cutNetwork({ udp: [1.5] }), /not a port/);
		assert.deepEqual(ourTables(), before);
	});
});

describe("killing mediasoup workers", { timeout: 120_000 }, () => {
	let stack: Stack;

	before(async () => {
		stack = await startStack({
			apiPort: await freePort(),
			rtcPort: await freePortRange(2),
			sfuWorkers: 2,
			output: "ignore",
			logLevel: "warn",
		});
	});

	after(async () => {
		await stack?.stop();
	});

	test("SIGKILL of one worker: the SFU process stays and replaces it; killing all of them works too", async () => {
		const sfu = stack.pid("sfu");
		assert.ok(sfu);
		const workers = mediasoupWorkerPids(sfu);
		assert.equal(workers.length, 2);
		const [killed] = await killMediasoupWorkers(sfu, { index: 0 });
		assert.ok(killed && !isRunning(killed), "the worker is gone");
		const replaced = await waitForReplacementWorkers(sfu, 2, [killed]);
		assert.equal(replaced.length, 2);
		assert.equal(stack.pid("sfu"), sfu, "the SFU process itself is untouched");

		const all = await killMediasoupWorkers(sfu);
		assert.deepEqual(
			[...all].sort((a, b) => a - b),
			[...replaced].sort((a, b) => a - b),
		);
		await waitForReplacementWorkers(sfu, 2, all);
		assert.equal(stack.restarts("sfu"), 0);
	});

	test("a pid without workers is an error, not a silent success", async () => {
		await assert.rejects(killMediasoupWorkers(process.pid), /no mediasoup-worker under pid/);
		const sfu = stack.pid("sfu") ?? 0;
		await assert.rejects(killMediasoupWorkers(sfu, { index: 5 }), /at index 5/);
	});
});
