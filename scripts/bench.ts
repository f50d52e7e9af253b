/**
 * `npm run bench`: measures, never asserts. Each figure is taken side by
 * side with a peer doing the same work in the same run; the ratio is what to
 * read (absolute numbers drift on shared machines). Writes docs/BENCHMARKS.md
 * (`npm run bench <section>` rewrites only that section of it).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { launchChromium } from "@mindmeet/testing/browser";
import { headlessCleanup } from "@mindmeet/testing/headless-webrtc";
import { admissionBenchmark } from "./bench/admission.ts";
import { bundleBenchmark } from "./bench/bundle.ts";
import { chatBenchmark } from "./bench/chat.ts";
import { fanoutBenchmark } from "./bench/fanout.ts";
import { faultsBenchmark } from "./bench/faults.ts";
import { joinBenchmark } from "./bench/join.ts";
import type { BenchSection } from "./bench/measure.ts";
import { soakBenchmark } from "./bench/soak.ts";
import { freePort, repoRoot, startStack } from "./stack.ts";

const only = process.argv[2];
const sections: BenchSection[] = [];
// The fan-out section starts its own systems (and pins cores): alone, it needs neither the shared stack nor Chromium.
if (only !== "fanout") {
	const stack = await startStack({
		apiPort: await freePort(),
		rtcPort: 0,
		sfuWorkers: 1,
		output: "ignore",
		logLevel: "warn",
		// Every benchmark request comes from one address (rooms and knocks are limited per address).
		env: { KNOCK_RATE_LIMIT: "100000", ROOM_CREATE_RATE_LIMIT: "100000" },
	});
	const browser = await launchChromium();
	try {
		if (!only || only === "join") sections.push(await joinBenchmark(browser, stack));
		if (!only || only === "admission") sections.push(await admissionBenchmark(stack));
		if (!only || only === "chat") sections.push(await chatBenchmark(stack));
		if (!only || only === "bundle") sections.push(bundleBenchmark());
		// Both start stacks of their own (fixed media ports, 2 workers, shorter token lifetimes).
		if (!only || only === "faults") sections.push(await faultsBenchmark(browser));
		if (!only || only === "soak") sections.push(await soakBenchmark());
	} finally {
		await browser.close();
		await stack.stop();
	}
}
// Last: it pins processes to cores, and wants the machine to itself.
if (!only || only === "fanout") {
	sections.push(await fanoutBenchmark());
	headlessCleanup();
}

const runAt = new Date().toISOString();
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}, load average at the end ${loadavg()
	.map((load) => load.toFixed(1))
	.join(" / ")} (1 / 5 / 15 min)`;
const render = (section: BenchSection) => `## ${section.title}\n\n${section.markdown}\n`;
const path = join(repoRoot, "docs/BENCHMARKS.md");

if (!only) {
	const doc = `# Benchmarks

Written by \`npm run bench\` (scripts/bench.ts and scripts/bench/); the latest run replaces this file.
Machine: ${machine}, Debian's Chromium headless with fake camera and microphone, everything on loopback.
Run at ${runAt}.

${sections.map(render).join("\n")}`;
	writeFileSync(path, doc);
	console.log("written: docs/BENCHMARKS.md");
} else {
	// One section run alone replaces only that section, saying when; the others keep their full run's figures.
	const existing = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n";
	let doc = existing;
	for (const section of sections) {
		const fresh = `${render(section).trimEnd()}\n\n(This section re-run alone at ${runAt}, ${machine}.)\n`;
		const start = doc.indexOf(`\n## ${section.title}\n`);
		if (start < 0) {
			doc = `${doc.trimEnd()}\n\n${fresh}`;
			continue;
		}
		const next = doc.indexOf("\n## ", start + 1);
		doc = `${doc.slice(0, start + 1)}${fresh}${next < 0 ? "" : `\n${doc.slice(next + 1)}`}`;
	}
	writeFileSync(path, doc);
	console.log(`written: the ${only} section of docs/BENCHMARKS.md`);
}
