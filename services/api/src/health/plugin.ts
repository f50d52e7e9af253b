/** Liveness for probes and operators: is the API up, can it reach Redis. */
import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { describeError } from "../redis.ts";

export interface HealthPluginOptions {
	redis: { ping(): Promise<string> };
}

const Health = Type.Object({
	ok: Type.Boolean(),
	redis: Type.Union([Type.Literal("up"), Type.Literal("down")]),
});

export const healthPlugin: FastifyPluginAsync<HealthPluginOptions> = async (app, { redis }) => {
	const schema = {
		summary: "Is the API up, can it reach Redis",
		tags: ["meta"],
		response: { 200: Health, 503: Health },
	};
	app.get("/api/health", { schema }, async (request, reply) => {
		try {
			await redis.ping();
			return { ok: true, redis: "up" };
		} catch (error) {
			request.log.warn({ error: describeError(error) }, "health: redis ping failed");
			return reply.code(503).send({ ok: false, redis: "down" });
		}
	});
};
