/**
 * `npm start`: the whole service on this machine, Redis included unless
 * REDIS_URL points at one. Prints the URL to open; Ctrl+C stops everything.
 * An SFU or API process that crashes is started again (see stack.ts).
 */
import { existsSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { localMediaAddresses, repoRoot, startStack } from "./stack.ts";

if (!existsSync(join(repoRoot, "web/dist/index.html"))) {
	console.error("The web app is not built yet: run `npm run build` (./mindmeet start does it for you).");
	process.exit(1);
}

const port = Number(process.env.PORT ?? 3000);
// Media on 127.0.0.1 alone leaves Firefox without sound or picture (it never
// pairs with loopback candidates): the SFU also listens and announces on
// this machine's own addresses, unless SFU_EXTRA_ADDRESSES says which (an
// empty value: none). A wildcard SFU_LISTEN_IP already covers every address.
const listenIp = process.env.SFU_LISTEN_IP?.trim() || "127.0.0.1";
const extraAddresses =
	process.env.SFU_EXTRA_ADDRESSES === undefined
		? listenIp === "0.0.0.0" || listenIp === "::"
			? []
			: localMediaAddresses(networkInterfaces()).filter((address) => address !== listenIp)
		: process.env.SFU_EXTRA_ADDRESSES.split(",")
				.map((address) => address.trim())
				.filter((address) => address !== "");
const stack = await startStack({
	...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
	apiPort: port,
	...(process.env.PUBLIC_URL ? { publicUrl: process.env.PUBLIC_URL } : {}),
	rtcPort: Number(process.env.SFU_RTC_PORT ?? 40000),
	sfuExtraAddresses: extraAddresses,
	logLevel: process.env.LOG_LEVEL ?? "warn",
});

console.log(
	`\nMindmeet is running: ${stack.url}\n(Ctrl+C stops it${stack.processes.redis ? ", and the Redis it started" : ""})\n`,
);
console.log(
	extraAddresses.length > 0
		? `Media on ${listenIp} and ${extraAddresses.join(", ")} (SFU_EXTRA_ADDRESSES)\n`
		: `Media on ${listenIp} only${listenIp === "127.0.0.1" ? ": Firefox gets no sound or picture (set SFU_EXTRA_ADDRESSES to an address of this machine)" : ""}\n`,
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
