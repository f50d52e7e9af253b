/**
 * docker-compose.yml, checked offline with `docker-compose config` (Debian's
 * docker-compose 1.29; `docker compose` v2 reads the same file).
 *
 * Every run passes its own env file with --env-file and a scrubbed process
 * environment, so neither a `.env` next to docker-compose.yml nor the caller's
 * shell variables can change the outcome (compose gives shell variables
 * precedence over the env file, and --env-file replaces ./.env entirely).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";

const repoRoot = resolve(import.meta.dirname, "..");
const composeFile = join(repoRoot, "docker-compose.yml");

const completeEnv: Record<string, string> = {
	DOMAIN: "meet.example.com",
	PUBLIC_IP: "203.0.113.7",
	ADMIN_TOKEN: "0123456789abcdef0123456789abcdef",
	TURN_SECRET: "fedcba9876543210fedcba9876543210",
};

interface Result {
	status: number | null;
	stdout: string;
	stderr: string;
}

const workDir = mkdtempSync(join(tmpdir(), "mindmeet-compose-"));
let envCounter = 0;

function writeEnvFile(vars: Record<string, string>, dir = workDir): string {
	envCounter += 1;
	const file = join(dir, `compose-${envCounter}.env`);
	const lines = Object.entries(vars).map(([key, value]) => `${key}=${value}\n`);
	writeFileSync(file, lines.join(""));
	return file;
}

/** Runs docker-compose with only PATH/HOME/LANG from the caller's environment. */
function compose(args: string[], options: { cwd?: string } = {}): Result {
	const result = spawnSync("docker-compose", args, {
		cwd: options.cwd ?? repoRoot,
		encoding: "utf8",
		stdio: ["ignore", "pipe", "pipe"],
		env: {
			PATH: process.env.PATH ?? "/usr/bin:/bin",
			HOME: process.env.HOME ?? workDir,
			LANG: "C.UTF-8",
		},
		timeout: 60_000,
	});
	if (result.error) {
		if ((result.error as NodeJS.ErrnoException).code === "ENOENT") {
			assert.fail("docker-compose is not installed: apt-get install docker-compose");
		}
		throw result.error;
	}
	return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function config(vars: Record<string, string>, extraArgs: string[] = []): Result {
	return compose(["-f", composeFile, "--env-file", writeEnvFile(vars), ...extraArgs, "config"]);
}

function without(name: string): Record<string, string> {
	const vars = { ...completeEnv };
	delete vars[name];
	return vars;
}

interface ComposeService {
	command?: string | string[];
	restart?: string;
	volumes?: (string | { type?: string; source?: string; target?: string })[];
	environment?: Record<string, string | number | null> | string[];
	ports?: (string | { published?: number | string; target?: number | string; protocol?: string })[];
	profiles?: string[];
}
interface ComposeConfig {
	services: Record<string, ComposeService>;
	volumes?: Record<string, unknown>;
}

/**
 * Parses `config` output with the PyYAML that docker-compose itself runs on
 * (Debian's docker-compose is a Python script; python3-yaml is its dependency).
 */
function parseConfig(yaml: string): ComposeConfig {
	const script = "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)";
	const [interpreter = "python3", ...interpreterArgs] = composeInterpreter();
	const result = spawnSync(interpreter, [...interpreterArgs, "-c", script], { input: yaml, encoding: "utf8" });
	assert.equal(result.status, 0, `could not parse docker-compose config output:\n${result.stderr}`);
	return JSON.parse(result.stdout) as ComposeConfig;
}

/** The interpreter named by docker-compose's #! line, else python3. */
function composeInterpreter(): string[] {
	for (const dir of (process.env.PATH ?? "").split(":")) {
		const file = join(dir || ".", "docker-compose");
		if (!existsSync(file)) continue;
		const firstLine = readFileSync(file, { encoding: "latin1" }).slice(0, 256).split("\n")[0] ?? "";
		const words = firstLine.startsWith("#!") ? firstLine.slice(2).trim().split(/\s+/) : [];
		return words.some((word) => word.includes("python")) ? words : ["python3"];
	}
	return ["python3"];
}

function service(config: ComposeConfig, name: string): ComposeService {
	const found = config.services[name];
	assert.ok(found, `service ${name} missing; got ${Object.keys(config.services).join(", ")}`);
	return found;
}

/** Published ports as "number/protocol", from the short or the long port syntax. */
function publishedPorts(svc: ComposeService): Set<string> {
	const ports = new Set<string>();
	const add = (published: string, target: string, protocol: string) => {
		const [first, last = first] = published.split("-").map(Number);
		const [targetFirst] = target.split("-").map(Number);
		assert.equal(first, targetFirst, `host port ${published} is published on container port ${target}`);
		for (let port = first ?? 0; port <= (last ?? 0); port++) ports.add(`${port}/${protocol}`);
	};
	for (const port of svc.ports ?? []) {
		if (typeof port === "string") {
			const match = port.match(/^(?:[\d.]+:)?(\d+(?:-\d+)?):(\d+(?:-\d+)?)(?:\/(tcp|udp))?$/);
			assert.ok(match, `unexpected port syntax ${port}`);
			add(match[1] ?? "", match[2] ?? "", match[3] ?? "tcp");
		} else {
			add(String(port.published), String(port.target), port.protocol ?? "tcp");
		}
	}
	return ports;
}

/** One environment variable of a service (map or list syntax). */
function envValue(svc: ComposeService, name: string): string | undefined {
	const env = svc.environment;
	if (Array.isArray(env)) {
		const entry = env.find((item) => item.startsWith(`${name}=`));
		return entry?.slice(name.length + 1);
	}
	const value = env?.[name];
	return value === undefined || value === null ? undefined : String(value);
}

/** The explanation compose prints for a missing `${VAR:?explanation}`: the text after the last ": ". */
function missingReason(stderr: string): string {
	const lastLine = stderr.trim().split("\n").at(-1) ?? "";
	return lastLine.slice(lastLine.lastIndexOf(": ") + 2);
}

describe("docker-compose.yml", () => {
	// No skipping: without docker-compose every test fails with the install command.
	after(() => rmSync(workDir, { recursive: true, force: true }));

	test("a complete .env gives a valid configuration with redis, sfu, api and proxy", () => {
		const result = config(completeEnv);
		assert.equal(result.status, 0, `docker-compose config failed:\n${result.stderr}`);
		const services = Object.keys(parseConfig(result.stdout).services);
		for (const name of ["redis", "sfu", "api", "proxy"]) {
			assert.ok(services.includes(name), `service ${name} missing; got ${services.join(", ")}`);
		}
	});

	test("the SFU's media ports are published for UDP and TCP with the same numbers inside", () => {
		const sfu = service(parseConfig(config(completeEnv).stdout), "sfu");
		const ports = publishedPorts(sfu);
		for (let port = 40000; port <= 40003; port++) {
			assert.ok(ports.has(`${port}/udp`), `${port}/udp not published; got ${[...ports].join(" ")}`);
			assert.ok(ports.has(`${port}/tcp`), `${port}/tcp not published; got ${[...ports].join(" ")}`);
		}
		assert.equal(envValue(sfu, "SFU_RTC_PORT"), "40000");
		assert.equal(envValue(sfu, "SFU_WORKERS"), "2");
		assert.equal(envValue(sfu, "SFU_ANNOUNCED_ADDRESS"), completeEnv.PUBLIC_IP);
		assert.equal(envValue(sfu, "SFU_LISTEN_IP"), "0.0.0.0");
	});

	test("SFU_RTC_PORT and SFU_RTC_PORT_LAST move the published range and the SFU's first port together", () => {
		const result = config({ ...completeEnv, SFU_RTC_PORT: "41000", SFU_RTC_PORT_LAST: "41007", SFU_WORKERS: "8" });
		assert.equal(result.status, 0, result.stderr);
		const sfu = service(parseConfig(result.stdout), "sfu");
		const ports = publishedPorts(sfu);
		for (const port of ["41000/udp", "41007/udp", "41000/tcp", "41007/tcp"]) {
			assert.ok(ports.has(port), `${port} not published; got ${[...ports].join(" ")}`);
		}
		assert.ok(!ports.has("40000/udp"), "the default range must not stay published");
		assert.equal(envValue(sfu, "SFU_RTC_PORT"), "41000");
		assert.equal(envValue(sfu, "SFU_WORKERS"), "8");
	});

	test("the API gets its public URL and admin token from .env; the proxy serves 80 and 443", () => {
		const parsed = parseConfig(config(completeEnv).stdout);
		const api = service(parsed, "api");
		assert.equal(envValue(api, "PUBLIC_URL"), `https://${completeEnv.DOMAIN}`);
		assert.equal(envValue(api, "ADMIN_TOKEN"), completeEnv.ADMIN_TOKEN);
		assert.equal(envValue(api, "REDIS_URL"), "redis://redis:6379");
		assert.equal(envValue(service(parsed, "sfu"), "SFU_SIGNALING_URL"), "ws://sfu:4001");
		const proxyPorts = publishedPorts(service(parsed, "proxy"));
		for (const port of ["80/tcp", "443/tcp", "443/udp"]) {
			assert.ok(proxyPorts.has(port), `proxy does not publish ${port}; got ${[...proxyPorts].join(" ")}`);
		}
	});

	for (const name of ["DOMAIN", "PUBLIC_IP", "ADMIN_TOKEN"]) {
		test(`without ${name} the configuration is refused, naming ${name}`, () => {
			const result = config(without(name));
			assert.notEqual(result.status, 0, `docker-compose config accepted a .env without ${name}`);
			const reason = missingReason(result.stderr);
			assert.match(reason, new RegExp(`^${name} is required`), `unexpected error:\n${result.stderr}`);
		});
		test(`an empty ${name} is refused too`, () => {
			const result = config({ ...completeEnv, [name]: "" });
			assert.notEqual(result.status, 0);
			assert.match(missingReason(result.stderr), new RegExp(`^${name} is required`), result.stderr);
		});
	}

	test("the turn profile adds the coturn service with realm, secret and external IP from .env", () => {
		const result = config(completeEnv, ["--profile", "turn"]);
		assert.equal(result.status, 0, result.stderr);
		const turn = service(parseConfig(result.stdout), "turn");
		assert.deepEqual(turn.profiles, ["turn"]);
		assert.equal(envValue(turn, "TURN_REALM"), completeEnv.DOMAIN);
		assert.equal(envValue(turn, "TURN_SECRET"), completeEnv.TURN_SECRET);
		assert.equal(envValue(turn, "PUBLIC_IP"), completeEnv.PUBLIC_IP);
	});

	test("every long-running service comes back by itself after a crash: restart unless-stopped", () => {
		const parsed = parseConfig(config(completeEnv, ["--profile", "turn"]).stdout);
		const names = Object.keys(parsed.services);
		for (const name of ["redis", "sfu", "api", "proxy", "turn"]) assert.ok(names.includes(name), `${name} missing`);
		for (const name of names) {
			assert.equal(service(parsed, name).restart, "unless-stopped", `${name} has restart: unless-stopped`);
		}
	});

	test("Redis keeps an append-only file, fsynced every second, on a named volume", () => {
		const parsed = parseConfig(config(completeEnv).stdout);
		const redis = service(parsed, "redis");
		const command = Array.isArray(redis.command) ? redis.command : (redis.command ?? "").split(/\s+/);
		const option = (name: string) => {
			const at = command.indexOf(`--${name}`);
			assert.ok(at >= 0, `redis-server is started with --${name}: ${JSON.stringify(command)}`);
			return command[at + 1];
		};
		assert.equal(command[0], "redis-server");
		assert.equal(option("appendonly"), "yes");
		assert.equal(option("appendfsync"), "everysec");
		assert.equal(option("save"), "", "no RDB snapshots besides the append-only file");
		// The official image's working directory, where the append-only file goes.
		const data = (redis.volumes ?? []).find((volume) =>
			typeof volume === "string" ? volume.split(":")[1] === "/data" : volume.target === "/data",
		);
		assert.ok(data, `a volume is mounted on /data: ${JSON.stringify(redis.volumes)}`);
		const source = typeof data === "string" ? data.split(":")[0] : data.source;
		assert.ok(source && Object.keys(parsed.volumes ?? {}).includes(source), `/data is the named volume ${source}`);
	});

	test("a .env next to the compose file does not leak into a run with --env-file", () => {
		const dir = mkdtempSync(join(workDir, "project-"));
		copyFileSync(composeFile, join(dir, "docker-compose.yml"));
		writeFileSync(join(dir, ".env"), "DOMAIN=poisoned.invalid\nSFU_RTC_PORT=50000\nSFU_RTC_PORT_LAST=50001\n");
		const args = ["-f", join(dir, "docker-compose.yml"), "--env-file", writeEnvFile(completeEnv), "config"];
		const result = compose(args, { cwd: dir });
		assert.equal(result.status, 0, result.stderr);
		assert.ok(!result.stdout.includes("poisoned.invalid"), "values from ./.env were used");
		assert.ok(publishedPorts(service(parseConfig(result.stdout), "sfu")).has("40000/udp"));
	});
});
