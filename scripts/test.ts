/**
 * `npm test`: format and lint check, type check, web build, then every test
 * file (unit, integration, end-to-end) with node's test runner, one file at
 * a time because they start real servers and browsers. Ends with a plain
 * `N passed, N failed` line.
 */
import { spawn } from "node:child_process";
import { globSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./stack.ts";

const bin = (name: string) => join(repoRoot, "node_modules/.bin", name);

function run(command: string, args: string[], onOutput?: (text: string) => void): Promise<number> {
	return new Promise((resolve) => {
		const child = spawn(command, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
		child.stdout.on("data", (chunk: Buffer) => {
			process.stdout.write(chunk);
			onOutput?.(chunk.toString());
		});
		child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
	});
}

const steps: [string, string, string[]][] = [
	["format and lint (biome)", bin("biome"), ["check", "."]],
	["type check (tsc -b)", bin("tsc"), ["-b"]],
	["web build (vite)", "npm", ["run", "build", "--silent"]],
];

const failedSteps: string[] = [];
for (const [name, command, args] of steps) {
	console.log(`\n== ${name}`);
	if ((await run(command, args)) !== 0) failedSteps.push(name);
}

const pattern = process.argv[2];
const files = globSync(
	["packages/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "web/test/**/*.test.ts", "test/**/*.test.ts"],
	{
		cwd: repoRoot,
	},
)
	.filter((file) => !pattern || file.includes(pattern))
	.sort();

// node's --test-timeout bounds each test FILE as a whole (the file runs in its
// own process as one test). 10 minutes for every file but the deploy test
// (the heaviest browser files took over 5 minutes on a loaded machine),
// whose cold run builds container images (about 15 minutes; see
// test/deploy/compose.test.ts): it gets its own run with a longer bound.
const slowFiles = files.filter((file) => file.startsWith("test/deploy/"));
const runs: [string[], number][] = [
	[files.filter((file) => !slowFiles.includes(file)), 600_000],
	[slowFiles, 2_400_000],
];

console.log(`\n== tests (${files.length} files)`);
let passed = 0;
let failed = 0;
for (const [runFiles, timeout] of runs) {
	if (runFiles.length === 0) continue;
	let output = "";
	const testExit = await run(
		process.execPath,
		// --test-force-exit: a test file whose tests all finished must not hang the run on a leftover handle.
		[
			"--test",
			"--test-concurrency=1",
			"--test-force-exit",
			`--test-timeout=${timeout}`,
			"--test-reporter=spec",
			...runFiles,
		],
		(text) => {
			output = (output + text).slice(-4000);
		},
	);
	const count = (label: string) => Number(output.match(new RegExp(`ℹ ${label} (\\d+)`))?.[1] ?? 0);
	const runFailed = count("fail") + count("cancelled");
	passed += count("pass");
	failed += testExit !== 0 && runFailed === 0 ? 1 : runFailed;
}
if (failedSteps.length > 0) {
	console.log(`\nfailed steps: ${failedSteps.join(", ")}`);
	failed += failedSteps.length;
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
