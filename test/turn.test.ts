/**
 * TURN lock-down with the real coturn (Debian's package), started by the test
 * with infra/turn-entrypoint.sh and infra/turnserver.conf: the very script and
 * config the compose `turn` profile runs. Only loopback traffic:
 *   127.0.0.1  coturn's listener and relay address
 *   127.0.0.2  stands for the SFU (PUBLIC_IP, the one allowed peer)
 *   127.0.0.3  any other address
 * coturn refuses loopback peers unless `allow-loopback-peers` is set; the
 * shipped config does not set it (so in production loopback is refused twice:
 * by that rule and by the deny-everything range), and this test adds it on the
 * command line, as the only change besides listening addresses and ports, so
 * that a loopback address can play the SFU. 127.0.0.3 is then refused by the
 * shipped denied-peer-ip range alone, which is what the test is about.
 *
 * turnutils_uclient (coturn's client) does the allocations; turnutils_peer
 * echoes what reaches a peer. Credentials are the TURN REST ones the API hands
 * out (services/api/src/ice): username "<expiry>:<peer>", HMAC-SHA1 of it.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { freePortRange } from "../scripts/stack.ts";

const repoRoot = resolve(import.meta.dirname, "..");
const sfuAddress = "127.0.0.2";
const otherAddress = "127.0.0.3";
const secret = randomBytes(16).toString("hex");

function installed(binary: string): boolean {
	return spawnSync("sh", ["-c", `command -v ${binary}`]).status === 0;
}

/** Credentials as services/api/src/ice/plugin.ts makes them. */
function credentials(peer: string, expiresInSeconds = 3600, key = secret): { username: string; password: string } {
	const username = `${Math.floor(Date.now() / 1000) + expiresInSeconds}:${peer}`;
	return { username, password: createHmac("sha1", key).update(username).digest("base64") };
}

interface Run {
	status: number | null;
	output: string;
}

/** One turnutils_uclient run against the test's coturn: 3 messages, 1 client. */
function uclient(port: number, args: string[], creds = credentials("peer-1")): Run {
	const result = spawnSync(
		"turnutils_uclient",
		["-u", creds.username, "-w", creds.password, "-p", String(port), "-n", "3", "-m", "1", ...args, "127.0.0.1"],
		{ encoding: "utf8", timeout: 20_000 },
	);
	return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The messages that came back through the relay and the echoing peer. */
function echoed(run: Run): number {
	const match = /tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/.exec(run.output.split("\n").reverse().join("\n"));
	return match ? Number(match[2]) : 0;
}

interface Coturn {
	port: number;
	child: ChildProcess;
	output: string[];
	stop(): Promise<void>;
}

async function startCoturn(options: { allowLoopbackPeers: boolean } = { allowLoopbackPeers: true }): Promise<Coturn> {
	const ports = await freePortRange(24);
	const port = ports;
	// relay ports: ports+4 .. ports+23
	const dir = mkdtempSync(join(tmpdir(), "mindmeet-turn-"));
	const child = spawn(
		"sh",
		[
			join(repoRoot, "infra/turn-entrypoint.sh"),
			// Loopback only: listener, relay sockets and their port range.
			"--listening-ip=127.0.0.1",
			`--listening-port=${port}`,
			"--relay-ip=127.0.0.1",
			`--min-port=${ports + 4}`,
			`--max-port=${ports + 23}`,
			// The SFU stand-in is a loopback address (see the header comment).
			...(options.allowLoopbackPeers ? ["--allow-loopback-peers"] : []),
			// Files of its own instead of the system's.
			`--pidfile=${join(dir, "turnserver.pid")}`,
			`--userdb=${join(dir, "turndb")}`,
		],
		{
			env: {
				PATH: process.env.PATH ?? "/usr/bin:/bin",
				TURN_SECRET: secret,
				TURN_REALM: "meet.example.test",
				PUBLIC_IP: sfuAddress,
				TURN_EXTERNAL_IP: "127.0.0.1",
				TURN_CONFIG: join(repoRoot, "infra/turnserver.conf"),
			},
			stdio: ["ignore", "pipe", "pipe"],
		},
	);
	const output: string[] = [];
	child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
	child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
	const stop = async () => {
		if (child.exitCode === null && child.signalCode === null) {
			child.kill("SIGTERM");
			await once(child, "exit");
		}
		rmSync(dir, { recursive: true, force: true });
	};
	// Ready once it answers a STUN binding request.
	for (let attempt = 0; ; attempt++) {
		if (child.exitCode !== null) throw new Error(`coturn exited (${child.exitCode}): ${output.join("")}`);
		const probe = spawnSync("turnutils_stunclient", ["-p", String(port), "127.0.0.1"], {
			encoding: "utf8",
			timeout: 5_000,
		});
		if (probe.status === 0 && /UDP reflexive addr/.test(probe.stdout)) break;
		if (attempt === 100) {
			await stop();
			throw new Error(`coturn did not answer STUN on ${port}: ${output.join("")}`);
		}
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
	return { port, child, output, stop };
}

/** turnutils_peer: a UDP echo server on `address`. */
async function startPeer(address: string): Promise<{ port: number; stop(): Promise<void> }> {
	const port = await freePortRange(1);
	const child = spawn("turnutils_peer", ["-L", address, "-p", String(port)], { stdio: "ignore" });
	await new Promise((resolve) => setTimeout(resolve, 200));
	if (child.exitCode !== null) throw new Error(`turnutils_peer on ${address}:${port} exited`);
	return {
		port,
		async stop() {
			if (child.exitCode === null && child.signalCode === null) {
				child.kill("SIGTERM");
				await once(child, "exit");
			}
		},
	};
}

describe("TURN relays only to the SFU (real coturn, the shipped config)", { timeout: 120_000 }, () => {
	let coturn: Coturn;
	let sfu: { port: number; stop(): Promise<void> };
	let sfuOtherPort: { port: number; stop(): Promise<void> };
	let other: { port: number; stop(): Promise<void> };

	before(async () => {
		for (const binary of ["turnserver", "turnutils_uclient", "turnutils_peer", "turnutils_stunclient"]) {
			// Not a skip: the suite fails and says how to fix it.
			assert.ok(installed(binary), `${binary} is missing: apt-get install coturn (infra/dev/bootstrap.sh test does)`);
		}
		coturn = await startCoturn();
		sfu = await startPeer(sfuAddress);
		sfuOtherPort = await startPeer(sfuAddress);
		other = await startPeer(otherAddress);
	});
	after(async () => {
		await coturn?.stop();
		await sfu?.stop();
		await sfuOtherPort?.stop();
		await other?.stop();
	});

	test("an allocation relaying to the SFU's address works: messages go there and come back", () => {
		for (const method of [[], ["-s"]]) {
			const run = uclient(coturn.port, ["-c", ...method, "-e", sfuAddress, "-r", String(sfu.port)]);
			assert.equal(run.status, 0, run.output);
			assert.equal(echoed(run), 3, `all three messages echoed back: ${run.output}`);
		}
	});

	test("a permission towards any other address is refused: 403 Forbidden IP, nothing relayed", () => {
		// Channel bind and plain CreatePermission (send indications) alike.
		const channel = uclient(coturn.port, ["-c", "-e", otherAddress, "-r", String(other.port)]);
		assert.notEqual(channel.status, 0);
		assert.match(channel.output, /error 403 \(Forbidden IP\)/);
		const send = uclient(coturn.port, ["-c", "-s", "-e", otherAddress, "-r", String(other.port)]);
		assert.notEqual(send.status, 0);
		assert.match(send.output, /create permission error 403 \(Forbidden IP\)/);
		assert.equal(echoed(send), 0);
	});

	test("the SFU's address in its IPv4-mapped IPv6 form is not relayed to", () => {
		const run = uclient(coturn.port, ["-c", "-s", "-e", `::ffff:${sfuAddress}`, "-r", String(sfu.port)]);
		assert.notEqual(run.status, 0);
		assert.match(run.output, /error 4\d\d/);
		assert.equal(echoed(run), 0);
	});

	test("TCP relay (RFC 6062) is refused: 442", () => {
		const run = uclient(coturn.port, ["-T", "-e", sfuAddress, "-r", String(sfu.port)]);
		assert.notEqual(run.status, 0);
		assert.match(run.output, /error 442 \(TCP Transport is not allowed/);
	});

	test("credentials: a wrong secret or an expired username gets no allocation", () => {
		const wrong = uclient(coturn.port, ["-c", "-e", sfuAddress, "-r", String(sfu.port)], credentials("p", 3600, "x"));
		assert.notEqual(wrong.status, 0);
		assert.match(wrong.output, /Cannot complete Allocation/);
		const expired = uclient(coturn.port, ["-c", "-e", sfuAddress, "-r", String(sfu.port)], credentials("p", -60));
		assert.notEqual(expired.status, 0);
		assert.match(expired.output, /Cannot complete Allocation/);
	});

	test("known limit, documented in infra/turnserver.conf: coturn cannot restrict the SFU address's ports", () => {
		// Another UDP port of the allowed address is reachable too; the host firewall rule shown in the
		// config (or an address of the SFU's own) is what confines relays to the media ports.
		const run = uclient(coturn.port, ["-c", "-e", sfuAddress, "-r", String(sfuOtherPort.port)]);
		assert.equal(run.status, 0, run.output);
		assert.equal(echoed(run), 3);
	});
});

describe("the shipped turnserver.conf", () => {
	// On loopback, 127.0.0.3 would be refused even by a config that denied only private ranges; these
	// settings are what makes every public address refused too, so they are checked as written.
	const lines = readFileSync(join(repoRoot, "infra/turnserver.conf"), "utf8")
		.split("\n")
		.map((line) => line.trim())
		.filter((line) => line !== "" && !line.startsWith("#"));

	test("denies every IPv4 and IPv6 peer, relays no TCP, no multicast, no loopback, allows nothing by itself", () => {
		assert.ok(lines.includes("denied-peer-ip=0.0.0.0-255.255.255.255"));
		assert.ok(lines.includes("denied-peer-ip=::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
		assert.ok(lines.includes("no-tcp-relay"));
		assert.ok(lines.includes("no-multicast-peers"));
		assert.ok(lines.includes("use-auth-secret"));
		for (const loosening of ["allow-loopback-peers", "allowed-peer-ip", "lt-cred-mech", "no-auth"]) {
			assert.ok(!lines.some((line) => line.startsWith(loosening)), `${loosening} is not in the file`);
		}
		const script = readFileSync(join(repoRoot, "infra/turn-entrypoint.sh"), "utf8");
		assert.equal(script.match(/--allowed-peer-ip=/g)?.length, 1, "the script admits one address");
		assert.match(script, /--allowed-peer-ip="\$PUBLIC_IP"/);
	});
});

describe("coturn's own loopback rule (why the test adds allow-loopback-peers)", { timeout: 60_000 }, () => {
	test("with the shipped config alone, even the allowed address is refused when it is a loopback one", async () => {
		// Started without --allow-loopback-peers: exactly the shipped settings, listening on loopback.
		const coturn = await startCoturn({ allowLoopbackPeers: false });
		const sfu = await startPeer(sfuAddress);
		try {
			const run = uclient(coturn.port, ["-c", "-s", "-e", sfuAddress, "-r", String(sfu.port)]);
			assert.notEqual(run.status, 0);
			assert.match(run.output, /error 403 \(Forbidden IP\)/);
		} finally {
			await sfu.stop();
			await coturn.stop();
		}
	});
});
