/**
 * What a browser downloads on first load (index.html, the entry script and
 * the stylesheet, gzipped; chunks loaded later, like the QR code, are
 * listed apart), next to a page that imports only our libraries (Solid,
 * mediasoup-client, protoo-client) and does nothing: the floor.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { repoRoot } from "../stack.ts";
import { type BenchSection, markdownTable } from "./measure.ts";

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const gzipped = (file: string) => gzipSync(readFileSync(file), { level: 9 }).length;

/** Gzipped bytes of index.html plus every script and stylesheet it references, and of the other chunks. */
function firstLoad(dist: string): { first: number; later: number } {
	const html = readFileSync(join(dist, "index.html"), "utf8");
	const referenced = new Set(
		[...html.matchAll(/(?:src|href)="\/?(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1] ?? ""),
	);
	let first = gzipped(join(dist, "index.html"));
	let later = 0;
	for (const name of readdirSync(join(dist, "assets"))) {
		if (!/\.(js|css)$/.test(name)) continue;
		const size = gzipped(join(dist, "assets", name));
		if (referenced.has(`assets/${name}`)) first += size;
		else later += size;
	}
	return { first, later };
}

export function bundleBenchmark(): BenchSection {
	execFileSync("npm", ["run", "build", "--silent"], { cwd: repoRoot, stdio: "ignore" });
	const ours = firstLoad(join(repoRoot, "web/dist"));

	const floorDir = join(repoRoot, "web/.bench-floor");
	rmSync(floorDir, { recursive: true, force: true });
	mkdirSync(floorDir, { recursive: true });
	writeFileSync(
		join(floorDir, "index.html"),
		'<!doctype html><html><body><div id="app"></div><script type="module" src="./main.ts"></script></body></html>',
	);
	writeFileSync(
		join(floorDir, "main.ts"),
		`import { render } from "solid-js/web";
		 import { createSignal } from "solid-js";
		 import { Device } from "mediasoup-client";
		 import { Peer, WebSocketTransport } from "protoo-client";
		 const [value] = createSignal(0);
		 render(() => String(value()), document.getElementById("app")!);
		 Object.assign(window, { Device, Peer, WebSocketTransport });`,
	);
	execFileSync(join(repoRoot, "node_modules/.bin/vite"), ["build", "--logLevel", "silent", "--outDir", "dist"], {
		cwd: floorDir,
		stdio: "ignore",
	});
	const floor = firstLoad(join(floorDir, "dist"));
	rmSync(floorDir, { recursive: true, force: true });

	const table = markdownTable(
		["figure", "Mindmeet web app", "peer: Solid + mediasoup-client + protoo-client, nothing else", "ratio"],
		[
			["first load, gzipped", kb(ours.first), kb(floor.first), (ours.first / floor.first).toFixed(2)],
			["loaded later (lazy chunks), gzipped", kb(ours.later), kb(floor.later), "—"],
		],
	);
	console.log(`\n${table}\n`);
	return {
		title: "Web bundle",
		markdown: `Production build (Vite). First load = index.html plus every script and stylesheet it
references, gzip level 9; chunks fetched later (the QR code library, when the invite
panel first shows a code) are listed apart. The peer is the same build of a page that
only imports the three libraries every Mindmeet page needs. Target: ≤ 200 KB first load.

${table}`,
	};
}
