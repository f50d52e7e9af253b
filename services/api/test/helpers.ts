/**
 * Shared set-up for the API tests: a real redis-server, the production Redis
 * client, the app built with `buildApi` from a config parsed by `loadApiConfig`.
 */

import { redisKeys, type SfuNodeStatus } from "@mindmeet/protocol";
import { type RedisServer, startRedis } from "@mindmeet/testing/redis";
import type { FastifyInstance } from "fastify";
import { type Logger, pino } from "pino";
import { buildApi } from "../src/app.ts";
import { type ApiConfig, loadApiConfig } from "../src/config.ts";
import { type ApiRedisClient, createApiRedis } from "../src/redis.ts";

export const publicUrl = "https://meet.example.test";

export interface TestApi {
	app: FastifyInstance;
	config: ApiConfig;
	redis: ApiRedisClient;
	redisServer: RedisServer;
	close(): Promise<void>;
}

export async function startTestApi(env: Record<string, string> = {}, logger?: Logger): Promise<TestApi> {
	const redisServer = await startRedis();
	const config = loadApiConfig({
		REDIS_URL: redisServer.url,
		PORT: "0",
		HOST: "127.0.0.1",
		PUBLIC_URL: publicUrl,
		LOG_LEVEL: "silent",
		...env,
	});
	const log = logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
	const redis = createApiRedis(config.redisUrl, log);
	await redis.connect();
	const app = await buildApi({ config, redis, logger: log });
	return {
		app,
		config,
		redis,
		redisServer,
		async close() {
			await app.close();
			redis.destroy();
			await redisServer.stop();
		},
	};
}

/** Register an SFU node the way a node does: a JSON SfuNodeStatus in the registry hash. */
export async function registerNode(
	redis: ApiRedisClient,
	node: Partial<SfuNodeStatus> & { id: string },
): Promise<SfuNodeStatus> {
	const status: SfuNodeStatus = {
		signalingUrl: `ws://127.0.0.1:1/${node.id}`,
		peers: 0,
		rooms: 0,
		workers: 1,
		heartbeatAt: Date.now(),
		...node,
	};
	await redis.hSet(redisKeys.sfuNodes, status.id, JSON.stringify(status));
	return status;
}

export async function clearNodes(redis: ApiRedisClient): Promise<void> {
	await redis.del(redisKeys.sfuNodes);
}
