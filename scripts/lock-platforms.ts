/**
 * Adds lock entries for @biomejs/biome's binaries for other platforms.
 *
 * The registry this project is developed against serves only the Linux
 * builds, so `npm install` here writes a lock without the others, and
 * `npm ci` then refuses that lock as incomplete (on every machine). Run
 * `node scripts/lock-platforms.ts` after any `npm install` that rewrote
 * package-lock.json; the test command checks the entries are there.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./stack.ts";

type LockEntry = Record<string, unknown> & { version?: string };

const platforms: Record<string, [os: string, cpu: string, libc?: string]> = {
	"android-arm64": ["android", "arm64"],
	"android-x64": ["android", "x64"],
	"darwin-arm64": ["darwin", "arm64"],
	"darwin-x64": ["darwin", "x64"],
	"linux-arm64-musl": ["linux", "arm64", "musl"],
	"linux-x64-musl": ["linux", "x64", "musl"],
	"win32-arm64": ["win32", "arm64"],
	"win32-x64": ["win32", "x64"],
};

export function missingPlatformEntries(lock: { packages: Record<string, LockEntry> }): string[] {
	return Object.keys(platforms)
		.map((platform) => `node_modules/@biomejs/cli-${platform}`)
		.filter((key) => !lock.packages[key]);
}

if (import.meta.main) {
	const file = join(repoRoot, "package-lock.json");
	const lock = JSON.parse(readFileSync(file, "utf8")) as { packages: Record<string, LockEntry> };
	const version = lock.packages["node_modules/@biomejs/biome"]?.version;
	if (!version) throw new Error("@biomejs/biome is not in package-lock.json");
	for (const [platform, [os, cpu, libc]] of Object.entries(platforms)) {
		const key = `node_modules/@biomejs/cli-${platform}`;
		lock.packages[key] ??= {
			version,
			cpu: [cpu],
			dev: true,
			license: "MIT OR Apache-2.0",
			optional: true,
			os: [os],
			engines: { node: ">=14.21.3" },
			...(libc ? { libc: [libc] } : {}),
		};
	}
	const sorted = Object.fromEntries(
		Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
	);
	writeFileSync(file, `${JSON.stringify({ ...lock, packages: sorted }, null, "\t")}\n`);
	console.log("package-lock.json: biome platform entries present");
}
