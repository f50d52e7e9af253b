import { pino } from "pino";
import { createClient } from "redis";
import { loadSfuConfig, type SfuConfig } from "./config.ts";
import { startSfu } from "./sfu.ts";
import { WorkerUnavailableError } from "./workers/worker-pool.ts";

let config: SfuConfig;
try {
	config = loadSfuConfig(process.env);
} catch (error) {
	console.error(`sfu: ${(error as Error).message}`);
	process.exit(1);
}

const logger = pino({ name: "sfu", level: config.logLevel });
const redis = createClient({
	url: config.redisUrl,
	disableOfflineQueue: true,
	socket: { reconnectStrategy: (retries) => Math.min(retries * 200, 3000) },
});
redis.on("error", (error: Error) => logger.warn({ err: error.message }, "redis error"));
await redis.connect();

try {
	const sfu = await startSfu(config, { redis, logger });
	const shutdown = async (signal: string) => {
		logger.info({ signal }, "shutting down");
		// Closing waits on Redis for the node's deregistration; if Redis is gone
		// that must not keep the process alive.
		setTimeout(() => process.exit(0), 5000).unref();
		await sfu.close();
		await redis.quit().catch(() => {});
		process.exit(0);
	};
	process.once("SIGINT", () => void shutdown("SIGINT"));
	process.once("SIGTERM", () => void shutdown("SIGTERM"));
} catch (error) {
	if (error instanceof WorkerUnavailableError) {
		logger.fatal(error.message);
		console.error(`sfu: ${error.message}`);
		process.exit(1);
	}
	throw error;
}
