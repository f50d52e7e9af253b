/**
 * Health for probes and operators: can the API serve a call right now? That
 * takes Redis (rooms, lobby, tokens' public keys) and at least one live SFU
 * node (a room needs somewhere for its media); either missing is a 503, with
 * the body saying which. Compose starts the SFU before the API, and a node
 * registers itself as it starts, so a fresh stack is healthy once both are up.
 */
import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import type { ApiRedis } from "../redis.ts";
import { probeBackends } from "../sfu-nodes.ts";

export interface HealthPluginOptions {
	redis: Pick<ApiRedis, "ping" | "hGetAll">;
}

const Health = Type.Object({
	ok: Type.Boolean({ description: "Redis is up and at least one SFU node is live" }),
	redis: Type.Union([Type.Literal("up"), Type.Literal("down")]),
	sfu: Type.Union(
		[
			Type.Object({
				live: Type.Integer({ description: "SFU nodes with a recent heartbeat" }),
				nodes: Type.Array(Type.String(), { description: "Their ids" }),
			}),
			Type.Null(),
		],
		{ description: "Live SFU nodes as the heartbeats in Redis show them; null when Redis is down (unknown)" },
	),
});

export const healthPlugin: FastifyPluginAsync<HealthPluginOptions> = async (app, { redis }) => {
	const schema = {
		summary: "Can the API serve a call: Redis reachable, an SFU node live",
		description: "200 when both hold; 503 with the same body when either does not.",
		tags: ["meta"],
		response: { 200: Health, 503: Health },
	};
	app.get("/api/health", { schema }, async (request, reply) => {
		const probe = await probeBackends(redis);
		const sfu = probe.nodes ? { live: probe.nodes.length, nodes: probe.nodes.map((node) => node.id) } : null;
		const ok = probe.redis === "up" && (sfu?.live ?? 0) > 0;
		if (!ok) request.log.warn({ redis: probe.redis, sfuLive: sfu?.live ?? null }, "health: not ready");
		return reply.code(ok ? 200 : 503).send({ ok, redis: probe.redis, sfu });
	});
};
