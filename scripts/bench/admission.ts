/**
 * The admission path over HTTP against the real API and Redis: create a
 * room, knock, admit (a guest token is signed and published). Side by side
 * with a bare Fastify route answered by an identical process, driven by the
 * same client in the same run, as the ceiling.
 */
import { spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { createClient } from "redis";
import { freePort, repoRoot, type Stack } from "../stack.ts";
import { type BenchSection, cpuMs, markdownTable } from "./measure.ts";

interface Reply {
	status: number;
	body: string;
}

function call(agent: Agent, base: URL, method: string, path: string, body?: unknown, token?: string): Promise<Reply> {
	return new Promise((resolve, reject) => {
		const payload = body === undefined ? undefined : JSON.stringify(body);
		const req = request(
			{
				agent,
				host: base.hostname,
				port: base.port,
				method,
				path,
				headers: {
					...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}),
					...(token ? { authorization: `Bearer ${token}` } : {}),
				},
			},
			(res) => {
				let text = "";
				res.setEncoding("utf8");
				res.on("data", (chunk: string) => {
					text += chunk;
				});
				res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
			},
		);
		req.on("error", reject);
		req.end(payload);
	});
}

/** Run `total` jobs with `concurrency` in flight; returns elapsed seconds. */
async function drive(total: number, concurrency: number, job: () => Promise<void>): Promise<number> {
	let started = 0;
	const begin = process.hrtime.bigint();
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			while (started < total) {
				started += 1;
				await job();
			}
		}),
	);
	return Number(process.hrtime.bigint() - begin) / 1e9;
}

async function admissionOnce(agent: Agent, base: URL): Promise<void> {
	const created = await call(agent, base, "POST", "/api/rooms", { hostName: "Host", mode: "video" });
	if (created.status !== 201) throw new Error(`create: ${created.status} ${created.body}`);
	const { roomId, hostToken } = JSON.parse(created.body) as { roomId: string; hostToken: string };
	const knocked = await call(agent, base, "POST", `/api/rooms/${roomId}/knocks`, { name: "Guest" });
	if (knocked.status !== 201) throw new Error(`knock: ${knocked.status} ${knocked.body}`);
	const { knockId } = JSON.parse(knocked.body) as { knockId: string };
	const admitted = await call(
		agent,
		base,
		"POST",
		`/api/rooms/${roomId}/knocks/${knockId}/admit`,
		undefined,
		hostToken,
	);
	if (admitted.status !== 200) throw new Error(`admit: ${admitted.status} ${admitted.body}`);
}

interface RedisCounters {
	/** Commands executed, those run inside scripts included. */
	commands: number;
	/** Reads the server processed: with one request in flight, one per round trip. */
	reads: number;
}

/** Reads the server's counters over one connection of its own (its INFO calls count one command and one read each). */
async function redisCounters(url: string) {
	const client = createClient({ url });
	await client.connect();
	return {
		async read(): Promise<RedisCounters> {
			const info = await client.info("stats");
			const field = (name: string) => Number(info.match(new RegExp(`${name}:(\\d+)`))?.[1] ?? Number.NaN);
			return { commands: field("total_commands_processed"), reads: field("total_reads_processed") };
		},
		close: () => client.quit(),
	};
}

/** A bare Fastify server in its own process: the same framework, one route, nothing behind it. */
async function startCeiling(): Promise<{ url: URL; stop: () => void }> {
	const port = await freePort();
	const child = spawn(
		process.execPath,
		[
			"--input-type=module",
			"-e",
			`import Fastify from "fastify"; const app = Fastify({ logger: false });
			 app.get("/trivial", async () => ({ ok: true }));
			 await app.listen({ port: ${port}, host: "127.0.0.1" }); console.log("ready");`,
		],
		{ cwd: `${repoRoot}/services/api`, stdio: ["ignore", "pipe", "inherit"] },
	);
	await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
	return { url: new URL(`http://127.0.0.1:${port}`), stop: () => child.kill() };
}

export async function admissionBenchmark(stack: Stack): Promise<BenchSection> {
	const admissions = Number(process.env.BENCH_ADMISSIONS ?? 5000);
	// Unmeasured first: measured in chunks of 1,000, the API's CPU per admission
	// falls from ~850 µs to ~300 µs over the first 4,000 while V8 optimises the
	// hot paths (the client's likewise), then stays there.
	const warmUp = Number(process.env.BENCH_ADMISSIONS_WARM_UP ?? 4000);
	const concurrency = 32;
	const base = new URL(stack.url);
	const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
	await drive(warmUp, concurrency, () => admissionOnce(agent, base));

	const counters = await redisCounters(stack.redisUrl);
	// Round trips: one admission at a time, so no two requests share a read
	// on the server (under load node-redis batches commands of concurrent requests).
	const sequential = 300;
	const sampleBefore = await counters.read();
	await drive(sequential, 1, () => admissionOnce(agent, base));
	const sampleAfter = await counters.read();
	// One INFO is ours; the SFU heartbeat adds about one command per 5 s.
	const roundTripsPerAdmission = (sampleAfter.reads - sampleBefore.reads - 1) / sequential;

	const pids = { api: stack.processes.api.pid ?? 0, redis: stack.processes.redis?.pid ?? 0, client: process.pid };
	const cpuBefore = { api: cpuMs(pids.api), redis: pids.redis ? cpuMs(pids.redis) : 0, client: cpuMs(pids.client) };
	const before = await counters.read();
	const seconds = await drive(admissions, concurrency, () => admissionOnce(agent, base));
	const afterRun = await counters.read();
	await counters.close();
	const cpuPerAdmission = (name: keyof typeof pids) =>
		(((name === "redis" && !pids.redis ? 0 : cpuMs(pids[name])) - cpuBefore[name]) * 1000) / admissions;
	const cpu = { api: cpuPerAdmission("api"), redis: cpuPerAdmission("redis"), client: cpuPerAdmission("client") };
	const perSecond = admissions / seconds;
	const commandsPerAdmission = (afterRun.commands - before.commands - 1) / admissions;

	const ceiling = await startCeiling();
	const ceilingAgent = new Agent({ keepAlive: true, maxSockets: concurrency });
	const trivial = async () => {
		const reply = await call(ceilingAgent, ceiling.url, "GET", "/trivial");
		if (reply.status !== 200) throw new Error(`trivial: ${reply.status}`);
	};
	await drive(warmUp * 3, concurrency, trivial);
	const trivialRequests = admissions * 3;
	const trivialSeconds = await drive(trivialRequests, concurrency, trivial);
	ceiling.stop();
	agent.destroy();
	ceilingAgent.destroy();

	const admissionRequestsPerSecond = (admissions * 3) / seconds;
	const trivialPerSecond = trivialRequests / trivialSeconds;
	const table = markdownTable(
		["figure", "Mindmeet admission path", "peer: bare Fastify route", "ratio"],
		[
			[
				"HTTP requests/s",
				admissionRequestsPerSecond.toFixed(0),
				trivialPerSecond.toFixed(0),
				(admissionRequestsPerSecond / trivialPerSecond).toFixed(2),
			],
			[
				"admissions/s (3 requests each)",
				perSecond.toFixed(0),
				(trivialPerSecond / 3).toFixed(0),
				(perSecond / (trivialPerSecond / 3)).toFixed(2),
			],
			["Redis round trips per admission (one admission at a time)", roundTripsPerAdmission.toFixed(1), "0", "—"],
			["Redis commands per admission (inside scripts included)", commandsPerAdmission.toFixed(1), "0", "—"],
			[
				"CPU µs per admission: API / Redis / load client",
				`${cpu.api.toFixed(0)} / ${cpu.redis.toFixed(0)} / ${cpu.client.toFixed(0)}`,
				"—",
				"—",
			],
		],
	);
	console.log(`\n${table}\n`);
	return {
		title: "Admission path (create room, knock, admit)",
		markdown: `${admissions} admissions after ${warmUp} unmeasured ones (V8 warm-up), ${concurrency} in flight,
keep-alive HTTP/1.1 from the benchmark process to the API process (real Redis behind it). One
admission is three requests: \`POST /api/rooms\` (node picked, id reserved with SET NX, host token
signed), \`POST …/knocks\` (knock stored, queued, published) and \`POST …/admit\` (host token checked,
revocation and host read, decision taken atomically, guest token signed and published). The peer
is a bare Fastify process with one route, driven by the same client, as the ceiling for this
machine and client. Target: ≥ 2,000 admissions/s.

Round trips are \`total_reads_processed\` from \`INFO stats\` over ${sequential} admissions made one at a
time; commands are \`total_commands_processed\` over the measured run. The host's token was signed
by this API process, which remembers the tokens it signs, so the admit does not verify its
Ed25519 signature again (~110 µs here); a token signed elsewhere is verified once, then remembered
the same way. The knock rate limit is raised for this run (every request comes from one address).

${table}`,
	};
}
