/**
 * Start the API: `node services/api/src/main.ts` (or `npm start --workspace services/api`).
 * Reads PORT, HOST, REDIS_URL (required), PUBLIC_URL, WEB_DIST, GUEST_TOKEN_TTL,
 * HOST_TOKEN_TTL, ROOM_TTL, KNOCK_TIMEOUT, KNOCK_RATE_LIMIT, TRUST_PROXY,
 * ADMIN_TOKEN (required when NODE_ENV=production), TURN_URLS, TURN_SECRET,
 * SIGNALING_PING_INTERVAL, SFU_NODE_STALE_SECONDS, TOKEN_RENEWALS_PER_MINUTE, LOG_LEVEL, NODE_ENV — defaults and meaning in config.ts.
 */
import { pino } from "pino";
import { buildApi } from "./app.ts";
import { type ApiConfig, loadApiConfig } from "./config.ts";
import { createApiRedis, describeError } from "./redis.ts";

let config: ApiConfig;
try {
	config = loadApiConfig(process.env);
} catch (error) {
	console.error(`mindmeet api: configuration error: ${error instanceof Error ? error.message : String(error)}`);
	process.exit(1);
}

const logger = pino({ level: config.logLevel, base: { service: "api" } });
const redis = createApiRedis(config.redisUrl, logger);

// connect() keeps retrying (reconnect strategy) until Redis answers.
logger.info("connecting to redis");
await redis.connect();

const app = await buildApi({ config, redis, logger });

let closing = false;
async function shutdown(signal: string): Promise<void> {
	if (closing) return;
	closing = true;
	logger.info({ signal }, "shutting down");
	const timer = setTimeout(() => {
		logger.error("shutdown took too long, exiting");
		process.exit(1);
	}, 10_000);
	timer.unref();
	try {
		await app.close();
	} catch (error) {
		logger.error({ error: describeError(error) }, "error while closing the HTTP server");
	}
	try {
		await redis.close();
	} catch {
		redis.destroy();
	}
	logger.info("stopped");
}
process.once("SIGINT", () => void shutdown("SIGINT"));
process.once("SIGTERM", () => void shutdown("SIGTERM"));

try {
	await app.listen({
		host: config.host,
		port: config.port,
		listenTextResolver: (address) => `listening at ${address}, public URL ${config.publicUrl}`,
	});
} catch (error) {
	logger.fatal({ error: describeError(error) }, "could not listen");
	await app.close().catch(() => {});
	redis.destroy();
	process.exit(1);
}
