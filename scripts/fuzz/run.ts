/**
 * One fuzz run against a real stack (redis-server, the SFU, the API as
 * processes): the protoo fuzzer, then the HTTP fuzzer, with the processes'
 * pids, restarts and resident memory read before and after. Shared by
 * `npm run fuzz` (the full run) and test/fuzz.test.ts (a short one).
 */
import { rssMiB } from "../bench/measure.ts";
import { freePort, freePortRange, type Stack, startStack } from "../stack.ts";
import { fuzzHttp, type HttpFuzzReport } from "./http.ts";
import { fuzzProtoo, type ProtooFuzzReport } from "./protoo.ts";

export interface FuzzRunOptions {
	seed: number;
	protooMessages: number;
	protooConnections: number;
	httpRequests: number;
	log?: (line: string) => void;
}

export interface FuzzRunReport {
	seed: number;
	protoo: ProtooFuzzReport;
	http: HttpFuzzReport;
	memoryMiB: { api: [number, number]; sfu: [number, number] };
	/** Process exits, restarts and every failure of both fuzzers, in one list. */
	failures: string[];
	seconds: number;
}

const adminToken = "fuzz-admin-token-0123456789abcdef";

/** Settle a moment so memory reflects what is kept, not what is in flight. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 2_000));

export async function runFuzz(options: FuzzRunOptions): Promise<FuzzRunReport> {
	const log = options.log ?? (() => {});
	const started = performance.now();
	let stack: Stack | undefined;
	try {
		stack = await startStack({
			apiPort: await freePort(),
			rtcPort: await freePortRange(1),
			sfuWorkers: 1,
			// FUZZ_STACK_OUTPUT=inherit shows the services' own logs (to see why one crashed).
			output: process.env.FUZZ_STACK_OUTPUT === "inherit" ? "inherit" : "ignore",
			logLevel: "warn",
			env: {
				ADMIN_TOKEN: adminToken,
				// All fuzz traffic comes from one address: per-address limits would
				// refuse it before the code under test is reached (limits have their own tests).
				ROOM_CREATE_RATE_LIMIT: "100000",
				KNOCK_RATE_LIMIT: "100000",
				SIGN_IN_RATE_LIMIT: "100000",
				// Peers cut for flooding are replaced by fresh ones in the same room.
				ROOM_MAX_PEERS: "500",
			},
		});
		const pids = { api: stack.pid("api"), sfu: stack.pid("sfu") };
		const memory = (service: "api" | "sfu") => {
			const pid = stack?.pid(service);
			return pid === undefined ? Number.NaN : rssMiB(pid);
		};
		await settle();
		const before = { api: memory("api"), sfu: memory("sfu") };
		log(`seed ${options.seed}; API ${before.api.toFixed(0)} MiB, SFU ${before.sfu.toFixed(0)} MiB at start`);

		const protoo = await fuzzProtoo({
			baseUrl: stack.url,
			seed: options.seed,
			messages: options.protooMessages,
			connections: options.protooConnections,
			log,
		});
		const http = await fuzzHttp({
			baseUrl: stack.url,
			redisUrl: stack.redisUrl,
			adminToken,
			seed: options.seed + 1,
			requests: options.httpRequests,
			batchSize: 20,
			log,
		});
		await settle();
		const after = { api: memory("api"), sfu: memory("sfu") };

		const failures = [...protoo.failures, ...http.failures];
		for (const service of ["api", "sfu"] as const) {
			if (stack.pid(service) !== pids[service]) {
				failures.push(`the ${service} process exited (pid ${pids[service]} → ${stack.pid(service)})`);
			}
			if (stack.restarts(service) !== 0) failures.push(`the ${service} was restarted ${stack.restarts(service)} times`);
			// Gross growth only: the figures are reported, a tight bound would be a timing-like flake.
			if (after[service] > before[service] * 3) {
				failures.push(
					`the ${service}'s memory grew from ${before[service].toFixed(0)} to ${after[service].toFixed(0)} MiB`,
				);
			}
		}
		return {
			seed: options.seed,
			protoo,
			http,
			memoryMiB: { api: [before.api, after.api], sfu: [before.sfu, after.sfu] },
			failures,
			seconds: (performance.now() - started) / 1000,
		};
	} finally {
		await stack?.stop();
	}
}

/** The run as plain-text tables, for the terminal and docs/RELIABILITY.md. */
export function fuzzTables(report: FuzzRunReport): string {
	const rows = (record: Record<string, number>) =>
		Object.entries(record)
			.sort((a, b) => b[1] - a[1])
			.map(([key, value]) => `| ${key.replaceAll("|", "\\|")} | ${value} |`)
			.join("\n");
	const { protoo, http, memoryMiB } = report;
	return [
		`Seed ${report.seed}, ${report.seconds.toFixed(0)} s.`,
		"",
		"| Figure | Value |",
		"| --- | --- |",
		`| protoo frames sent | ${protoo.sent} |`,
		`| fresh admitted peers used | ${protoo.peersAdmitted} |`,
		`| control peer pings answered / missed | ${protoo.controlPings.ok} / ${protoo.controlPings.failed} |`,
		`| fresh peer joined after the run | ${protoo.freshPeerJoined ? "yes" : "no"} |`,
		`| HTTP requests sent | ${http.sent} (${http.routes} operations from /api/openapi.json) |`,
		`| all-refused batches compared with Redis | ${http.refusedBatchesCompared} |`,
		`| API resident memory before → after | ${memoryMiB.api[0].toFixed(0)} → ${memoryMiB.api[1].toFixed(0)} MiB |`,
		`| SFU resident memory (with worker) before → after | ${memoryMiB.sfu[0].toFixed(0)} → ${memoryMiB.sfu[1].toFixed(0)} MiB |`,
		`| failures | ${report.failures.length} |`,
		"",
		"protoo frames by kind:",
		"",
		"| Kind | Frames |",
		"| --- | --- |",
		rows(protoo.kinds),
		"",
		"protoo answers by outcome:",
		"",
		"| Outcome | Answers |",
		"| --- | --- |",
		rows(protoo.outcomes),
		"",
		"Fuzz connections closed by the server:",
		"",
		"| Close code and reason | Connections |",
		"| --- | --- |",
		rows(protoo.closes),
		"",
		...(Object.keys(protoo.lastFrameBeforeSfuLost).length === 0
			? []
			: [
					"Last frame sent on connections the proxy closed because it lost the SFU (what to suspect of a crash):",
					"",
					"| Frame | Connections |",
					"| --- | --- |",
					rows(protoo.lastFrameBeforeSfuLost),
					"",
				]),
		"HTTP responses by status:",
		"",
		"| Status | Responses |",
		"| --- | --- |",
		rows(http.statuses),
	].join("\n");
}
