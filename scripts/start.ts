/**
 * `npm start`: the whole service on this machine, Redis included unless
 * REDIS_URL points at one. Prints the URL to open; Ctrl+C stops everything.
 * An SFU or API process that crashes is started again (see stack.ts).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, startStack } from "./stack.ts";

if (!existsSync(join(repoRoot, "web/dist/index.html"))) {
	console.error("The web app is not built yet: run `npm run build` (./mindmeet start does it for you).");
	process.exit(1);
}

const port = Number(process.env.PORT ?? 3000);
const stack = await startStack({
	...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
	apiPort: port,
	...(process.env.PUBLIC_URL ? { publicUrl: process.env.PUBLIC_URL } : {}),
	rtcPort: Number(process.env.SFU_RTC_PORT ?? 40000),
	logLevel: process.env.LOG_LEVEL ?? "warn",
});

console.log(
	`\nMindmeet is running: ${stack.url}\n(Ctrl+C stops it${stack.processes.redis ? ", and the Redis it started" : ""})\n`,
);

// A crashed SFU or API is restarted by the stack itself (it logs a line when
// it does); only Ctrl+C or a SIGTERM stops everything.
let stopping = false;
const stop = async () => {
	if (stopping) return;
	stopping = true;
	await stack.stop();
	process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
