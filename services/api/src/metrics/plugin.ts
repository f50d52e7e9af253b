/**
 * `GET /metrics`: Prometheus text. Behind the admin bearer token when
 * ADMIN_TOKEN is set (the same gate as /api/admin/*); open when it is not,
 * which only a development setup allows (production refuses to start
 * without a token). Registered on the root and not encapsulated, so its
 * onResponse hook counts every route's answers.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { adminAuthHook } from "../admin/plugin.ts";
import type { ApiMetrics } from "./metrics.ts";

export interface MetricsPluginOptions {
	metrics: ApiMetrics;
	adminToken: string | undefined;
}

export function metricsPlugin(app: FastifyInstance, options: MetricsPluginOptions, done: () => void): void {
	const { metrics, adminToken } = options;
	app.addHook("onResponse", async (request: FastifyRequest, reply: FastifyReply) => {
		metrics.httpRequest(request.method, request.routeOptions.url, reply.statusCode);
	});
	app.get(
		"/metrics",
		{
			schema: {
				summary: "Prometheus metrics",
				description:
					"Prometheus text format (docs/METRICS.md lists the metrics). Requires the admin bearer token when " +
					"ADMIN_TOKEN is set; 401 without it.",
				tags: ["admin"],
				security: [{ adminToken: [] }],
			},
			// Without a token configured the admin gate refuses everyone; here that means "no gate".
			...(adminToken === undefined ? {} : { onRequest: adminAuthHook(adminToken) }),
		},
		async (_request, reply) => {
			const text = await metrics.text();
			return reply.header("content-type", metrics.contentType).header("cache-control", "no-store").send(text);
		},
	);
	done();
}
// What fastify-plugin sets: skip encapsulation so the onResponse hook applies to the whole app.
Object.assign(metricsPlugin, {
	[Symbol.for("skip-override")]: true,
	[Symbol.for("fastify.display-name")]: "metrics",
});
