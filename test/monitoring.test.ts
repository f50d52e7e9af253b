/**
 * The `monitoring` profile, run for real as far as this machine allows:
 * Debian's promtool checks infra/prometheus.yml and the alert rules (and
 * the rules' unit tests in test/prometheus-alerts.test.yml); Debian's
 * Prometheus, started by the same entrypoint script the compose service
 * runs, scrapes the real API and SFU processes with the committed scrape
 * configuration (only the compose host names and the interval swapped for
 * the test's) and finds every target up, Redis up, the node live and the
 * rules loaded; with a wrong token the API target is down with a 401. And
 * `docker-compose config` shows the profile's service as the file means it.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, type Stack, startStack } from "../scripts/stack.ts";

const repoRoot = resolve(import.meta.dirname, "..");
const infra = join(repoRoot, "infra");
const adminToken = "monitoring-admin-token-0123456789abcdef";
const workDir = mkdtempSync(join(tmpdir(), "mindmeet-monitoring-"));

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
	const result = spawnSync(command, args, { cwd: repoRoot, encoding: "utf8", env, timeout: 60_000 });
	if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
		assert.fail(`${command} is not installed: apt-get install ${command === "promtool" ? "prometheus" : command}`);
	}
	return result;
}

after(() => rmSync(workDir, { recursive: true, force: true }));

describe("promtool", () => {
	test("infra/prometheus.yml is a valid configuration", () => {
		// --syntax-only: the token file only exists once the entrypoint has written it (checked below, for real).
		const result = run("promtool", ["check", "config", "--syntax-only", join(infra, "prometheus.yml")]);
		assert.equal(result.status, 0, result.stdout + result.stderr);
	});

	test("infra/prometheus-alerts.yml is valid, and its alerts fire as test/prometheus-alerts.test.yml says", () => {
		const check = run("promtool", ["check", "rules", join(infra, "prometheus-alerts.yml")]);
		assert.equal(check.status, 0, check.stdout + check.stderr);
		assert.match(check.stdout, /SUCCESS: 7 rules found/);
		const unit = run("promtool", ["test", "rules", join(repoRoot, "test", "prometheus-alerts.test.yml")]);
		assert.equal(unit.status, 0, unit.stdout + unit.stderr);
	});

	test("no token or password is committed in the Prometheus files", () => {
		for (const file of ["prometheus.yml", "prometheus-alerts.yml", "prometheus-entrypoint.sh"]) {
			const text = readFileSync(join(infra, file), "utf8");
			assert.doesNotMatch(text, /bearer_token:|credentials:\s*\S|password:/i, file);
		}
	});
});

describe("docker-compose: the monitoring profile", () => {
	const env = {
		DOMAIN: "meet.example.com",
		PUBLIC_IP: "203.0.113.7",
		ADMIN_TOKEN: adminToken,
	};

	function config(profile: string[]): Record<string, unknown> {
		const envFile = join(workDir, `compose-${profile.length}.env`);
		writeFileSync(
			envFile,
			Object.entries(env)
				.map(([key, value]) => `${key}=${value}\n`)
				.join(""),
		);
		// Parsed with the PyYAML docker-compose itself runs on (Debian's is a Python script), as test/compose.test.ts does.
		const yaml = run(
			"docker-compose",
			["-f", join(repoRoot, "docker-compose.yml"), "--env-file", envFile, ...profile, "config"],
			{ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: workDir, LANG: "C.UTF-8" },
		);
		assert.equal(yaml.status, 0, yaml.stderr);
		const parsed = spawnSync(
			"python3",
			["-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"],
			{ input: yaml.stdout, encoding: "utf8" },
		);
		assert.equal(parsed.status, 0, parsed.stderr);
		return JSON.parse(parsed.stdout) as Record<string, unknown>;
	}

	interface Service {
		profiles?: string[];
		volumes?: (string | { source?: string; target?: string; read_only?: boolean })[];
		ports?: (string | { published?: string | number; target?: number; host_ip?: string })[];
		expose?: (string | number)[];
		environment?: Record<string, string>;
		entrypoint?: string[];
		command?: string[];
	}

	test("Prometheus, in the monitoring profile only, with the committed config, rules and entrypoint", () => {
		const services = config(["--profile", "monitoring"]).services as Record<string, Service>;
		const prometheus = services.prometheus;
		assert.ok(prometheus, "the prometheus service");
		// `docker compose up` without --profile monitoring leaves it out.
		assert.deepEqual(prometheus.profiles, ["monitoring"]);
		const mounts = (prometheus.volumes ?? []).map((volume) =>
			typeof volume === "string" ? volume : `${volume.source}:${volume.target}`,
		);
		for (const [file, target] of [
			["prometheus.yml", "/etc/prometheus/prometheus.yml"],
			["prometheus-alerts.yml", "/etc/prometheus/prometheus-alerts.yml"],
			["prometheus-entrypoint.sh", "/etc/prometheus/entrypoint.sh"],
		] as const) {
			assert.ok(
				mounts.some((mount) => mount.startsWith(`${join(infra, file)}:${target}`)),
				`${file} mounted at ${target}: ${mounts.join(", ")}`,
			);
		}
		assert.deepEqual(prometheus.entrypoint, ["/bin/sh", "/etc/prometheus/entrypoint.sh"]);
		assert.ok(prometheus.command?.includes("--config.file=/etc/prometheus/prometheus.yml"));
		assert.equal(prometheus.environment?.ADMIN_TOKEN, adminToken, "the token comes from .env");
		// The UI has no authentication: the host's loopback only.
		const ports = (prometheus.ports ?? []).map((port) =>
			typeof port === "string" ? port : `${port.host_ip ?? ""}:${port.published}:${port.target}`,
		);
		assert.ok(ports.length > 0 && ports.every((port) => port.startsWith("127.0.0.1:")), ports.join(", "));
	});

	test("the SFU's internal port (4001: signaling, /health, /metrics) is exposed on the network, not published", () => {
		const services = config(["--profile", "monitoring"]).services as Record<string, Service>;
		const sfu = services.sfu;
		assert.ok(sfu);
		assert.ok((sfu.expose ?? []).map(String).includes("4001"), `expose: ${JSON.stringify(sfu.expose)}`);
		for (const port of sfu.ports ?? []) {
			const published = typeof port === "string" ? port : `${port.published}:${port.target}`;
			assert.doesNotMatch(published, /(^|:)4001(\/|:|$)/, `4001 must not be published: ${published}`);
		}
		const scrape = readFileSync(join(infra, "prometheus.yml"), "utf8");
		assert.match(scrape, /targets: \["sfu:4001"\]/);
		assert.match(scrape, /targets: \["api:3000"\]/);
	});
});

describe("Prometheus scraping the real API and SFU", { timeout: 300_000 }, () => {
	let stack: Stack;
	const running: ChildProcess[] = [];

	before(async () => {
		if (!process.env.MEDIASOUP_WORKER_BIN) {
			throw new Error("MEDIASOUP_WORKER_BIN is not set: build the mediasoup worker and export MEDIASOUP_WORKER_BIN=…");
		}
		stack = await startStack({
			apiPort: await freePort(),
			rtcPort: 0,
			sfuWorkers: 1,
			output: "ignore",
			logLevel: "warn",
			env: { ADMIN_TOKEN: adminToken },
		});
	});
	after(async () => {
		for (const child of running) {
			if (child.exitCode === null && child.signalCode === null) {
				child.kill("SIGTERM");
				await once(child, "exit");
			}
		}
		await stack?.stop();
	});

	/** The committed configuration with the compose names swapped for this stack's addresses. */
	function renderConfig(dir: string, tokenFile: string): string {
		const committed = readFileSync(join(infra, "prometheus.yml"), "utf8");
		const rendered = committed
			.replace('"api:3000"', `"127.0.0.1:${stack.apiPort}"`)
			.replace('"sfu:4001"', `"127.0.0.1:${stack.sfuPort}"`)
			.replace("credentials_file: /tmp/mindmeet/admin-token", `credentials_file: ${tokenFile}`)
			.replace("scrape_interval: 15s", "scrape_interval: 1s")
			.replace("evaluation_interval: 15s", "evaluation_interval: 1s");
		for (const expected of [String(stack.apiPort), String(stack.sfuPort), tokenFile, "scrape_interval: 1s"]) {
			assert.ok(rendered.includes(expected), `the committed config changed shape: ${expected} not substituted`);
		}
		copyFileSync(join(infra, "prometheus-alerts.yml"), join(dir, "prometheus-alerts.yml"));
		const file = join(dir, "prometheus.yml");
		writeFileSync(file, rendered);
		return file;
	}

	/** Start Debian's prometheus through infra/prometheus-entrypoint.sh; returns its base URL. */
	async function startPrometheus(name: string, token: string): Promise<{ url: string; tokenFile: string }> {
		const dir = join(workDir, name);
		const tokenFile = join(dir, "secret", "admin-token");
		mkdirSync(dir, { recursive: true });
		const configFile = renderConfig(dir, tokenFile);
		const port = await freePort();
		const child = spawn(
			"sh",
			[
				join(infra, "prometheus-entrypoint.sh"),
				`--config.file=${configFile}`,
				`--storage.tsdb.path=${join(dir, "data")}`,
				`--web.listen-address=127.0.0.1:${port}`,
			],
			{
				env: { PATH: process.env.PATH, ADMIN_TOKEN: token, PROMETHEUS_ADMIN_TOKEN_FILE: tokenFile },
				stdio: ["ignore", "ignore", "pipe"],
			},
		);
		running.push(child);
		let stderr = "";
		child.stderr?.on("data", (chunk: Buffer) => {
			stderr = (stderr + chunk.toString()).slice(-4000);
		});
		const url = `http://127.0.0.1:${port}`;
		for (let attempt = 0; attempt < 300; attempt++) {
			if (child.exitCode !== null) assert.fail(`prometheus exited (${child.exitCode}): ${stderr}`);
			try {
				if ((await fetch(`${url}/-/ready`)).ok) return { url, tokenFile };
			} catch {
				// not listening yet
			}
			await sleep(100);
		}
		assert.fail(`prometheus never became ready: ${stderr}`);
	}

	interface Target {
		labels: { job: string };
		health: string;
		lastError: string;
	}

	async function targets(url: string): Promise<Target[]> {
		const body = (await (await fetch(`${url}/api/v1/targets`)).json()) as { data: { activeTargets: Target[] } };
		return body.data.activeTargets;
	}

	async function query(
		url: string,
		promql: string,
	): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
		const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
		const body = (await response.json()) as {
			data: { result: { metric: Record<string, string>; value: [number, string] }[] };
		};
		return body.data.result;
	}

	/** Poll until `check` holds (a bounded number of tries; Prometheus scrapes every second here). */
	async function until<T>(what: string, read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
		let last: T | undefined;
		for (let attempt = 0; attempt < 120; attempt++) {
			last = await read();
			if (check(last)) return last;
			await sleep(250);
		}
		assert.fail(`never happened: ${what}; last: ${JSON.stringify(last)}`);
	}

	test("with the admin token from the entrypoint: both targets up, Redis up on both, the node live, the rules loaded", async () => {
		const { url, tokenFile } = await startPrometheus("good", adminToken);
		assert.equal(readFileSync(tokenFile, "utf8"), adminToken);
		assert.equal(statSync(tokenFile).mode & 0o777, 0o600, "the token file is readable by its owner only");

		const up = await until(
			"both Mindmeet targets are up",
			() => targets(url),
			(list) =>
				["mindmeet-api", "mindmeet-sfu"].every((job) =>
					list.some((target) => target.labels.job === job && target.health === "up"),
				),
		);
		assert.deepEqual(
			up.filter((target) => target.labels.job.startsWith("mindmeet-")).map((target) => target.lastError),
			["", ""],
		);
		const redis = await until(
			"mindmeet_redis_up from both",
			() => query(url, "mindmeet_redis_up"),
			(result) => result.length === 2,
		);
		assert.deepEqual(redis.map((sample) => sample.value[1]).sort(), ["1", "1"]);
		const nodes = await query(url, "mindmeet_sfu_nodes_live");
		assert.deepEqual(
			nodes.map((sample) => sample.value[1]),
			["1"],
		);
		const workers = await query(url, "mindmeet_sfu_workers_alive");
		assert.deepEqual(
			workers.map((sample) => sample.value[1]),
			["1"],
		);

		const rules = (await (await fetch(`${url}/api/v1/rules`)).json()) as {
			data: { groups: { rules: { name: string; health: string }[] }[] };
		};
		const loaded = rules.data.groups.flatMap((group) => group.rules);
		assert.deepEqual(loaded.map((rule) => rule.name).sort(), [
			"MindmeetJoinSlow",
			"MindmeetNoSfuNode",
			"MindmeetPacketLossHigh",
			"MindmeetRedisDown",
			"MindmeetSfuNoWorker",
			"MindmeetSfuWorkerCpuHigh",
			"MindmeetTargetDown",
		]);
		// Evaluated against the real series without an error (health "unknown" until the first evaluation).
		await until(
			"every rule evaluated fine",
			async () => {
				const again = (await (await fetch(`${url}/api/v1/rules`)).json()) as typeof rules;
				return again.data.groups.flatMap((group) => group.rules);
			},
			(list) => list.every((rule) => rule.health === "ok"),
		);
	});

	test("with a wrong token the API target is down with a 401, while the SFU target stays up", async () => {
		const { url } = await startPrometheus("wrong", "not-the-admin-token-0123456789");
		const list = await until(
			"the API target reports its 401",
			() => targets(url),
			(found) =>
				found.some((target) => target.labels.job === "mindmeet-api" && /401/.test(target.lastError)) &&
				found.some((target) => target.labels.job === "mindmeet-sfu" && target.health === "up"),
		);
		const api = list.find((target) => target.labels.job === "mindmeet-api");
		assert.equal(api?.health, "down");
	});
});
