/**
 * The API as a Fastify instance: give it its config and a connected Redis
 * client, get back an app ready to `listen()` or `inject()`. Every feature is
 * a plugin with its own routes and schemas; dependencies go in as options.
 */

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import fastifySwagger from "@fastify/swagger";
import fastifyWebsocket from "@fastify/websocket";
import { limits } from "@mindmeet/protocol";
import { redisPublicKeyStore, TokenSigner, TokenVerifier } from "@mindmeet/protocol/token-keys";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger, LoggerOptions } from "pino";
import { HostGate } from "./accounts/gate.ts";
import { accountsPlugin } from "./accounts/plugin.ts";
import { adminPlugin } from "./admin/plugin.ts";
import type { ApiConfig } from "./config.ts";
import { EventHub } from "./event-hub.ts";
import { healthPlugin } from "./health/plugin.ts";
import { apiErrorHandler, formatSchemaErrors, malformedUrlHandler, notFoundHandler, pathOf } from "./http-errors.ts";
import { icePlugin } from "./ice/plugin.ts";
import { lobbyPlugin } from "./lobby/plugin.ts";
import { ApiMetrics } from "./metrics/metrics.ts";
import { metricsPlugin } from "./metrics/plugin.ts";
import { openApiDocument, openApiPlugin } from "./openapi.ts";
import { type ApiRedis, describeError, logAvailability } from "./redis.ts";
import { renewalPlugin } from "./renewal/plugin.ts";
import { RoomAuthorizer } from "./room-auth.ts";
import { roomsPlugin } from "./rooms/plugin.ts";
import { securityHeaders, securityHeadersPlugin } from "./security-headers.ts";
import { sfuProxyPlugin } from "./sfu-proxy/plugin.ts";
import { tokenIssuer, tokenMinter } from "./tokens.ts";
import { webPlugin } from "./web/plugin.ts";

export type { ApiConfig } from "./config.ts";
export { loadApiConfig } from "./config.ts";
export type { ApiRedis } from "./redis.ts";
export { createApiRedis } from "./redis.ts";

export interface ApiDeps {
	config: ApiConfig;
	/** A connected node-redis client (`createApiRedis()` in production). */
	redis: ApiRedis;
	/** A pino logger, pino options, or false for none. Default: pino at `config.logLevel`. */
	logger?: Logger | LoggerOptions | false;
}

/** How often the signing key's public half is republished so it never lapses while we sign. */
const republishKeyMs = 60 * 60 * 1000;

/** Request logs carry method, path (never the query string: it may hold a token) and status, never headers. */
const serializers = {
	req: (request: FastifyRequest) => ({ method: request.method, path: pathOf(request.url) }),
	res: (reply: FastifyReply) => ({ statusCode: reply.statusCode }),
};

function isLogger(value: unknown): value is Logger {
	return typeof value === "object" && value !== null && typeof (value as Logger).child === "function";
}

function loggerOptions(deps: ApiDeps): { logger: LoggerOptions | false } | { loggerInstance: Logger } {
	const { logger } = deps;
	if (logger === false) return { logger: false };
	if (isLogger(logger)) return { loggerInstance: logger.child({}, { serializers }) };
	return {
		logger: {
			level: deps.config.logLevel,
			...logger,
			serializers: { ...logger?.serializers, ...serializers },
		},
	};
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
	const { config, redis } = deps;
	const signer = await TokenSigner.create(redisPublicKeyStore(redis), config.hostTokenTtl);

	const app = Fastify<Server, IncomingMessage, ServerResponse, FastifyBaseLogger>({
		...loggerOptions(deps),
		bodyLimit: limits.httpBodyMaxBytes,
		// Long ids must reach the route (and its schema → 404), not stop at the router with 414.
		routerOptions: { maxParamLength: 1024 },
		// Reject what does not match a schema instead of quietly fixing it up.
		ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false, useDefaults: false } },
		schemaErrorFormatter: formatSchemaErrors,
		// Bad percent-encoding and the like: Fastify's own answer echoes the whole URL, query (token) included.
		// Answered before routing, so no hook runs: the security headers are added here.
		frameworkErrors: (error, request, reply) => {
			reply.headers(securityHeaders(config.publicUrl));
			malformedUrlHandler(error, request, reply);
		},
		return503OnClosing: true,
		forceCloseConnections: true,
		// The client address (the knock rate limit's key) comes from X-Forwarded-For only behind a trusted proxy.
		trustProxy: config.trustProxy,
	});

	const republishKey = () => {
		signer.publish().catch((error: unknown) => {
			app.log.warn({ error: describeError(error) }, "could not republish the token signing key");
		});
	};
	// Redis keeps nothing across a restart here, and a token whose public key is
	// not in Redis cannot be verified by the SFU: publish again on every
	// reconnection, and now and then so the key's TTL never lapses.
	redis.on("ready", republishKey);
	const republish = setInterval(republishKey, republishKeyMs);
	republish.unref();
	app.addHook("onClose", async () => clearInterval(republish));

	// First, on the root: every answer after this (pages, assets, JSON, errors, 404s) carries the headers.
	await app.register(securityHeadersPlugin, { publicUrl: config.publicUrl });

	app.setErrorHandler(apiErrorHandler);
	// JSON only: any other body type is 415, not a string handed to the schema.
	app.removeContentTypeParser("text/plain");
	app.setNotFoundHandler(notFoundHandler);

	// Added before @fastify/websocket's own preClose (which closes every socket), so lobby sockets
	// closed by a shutdown are not mistaken for guests leaving.
	let shuttingDown = false;
	app.addHook("preClose", async () => {
		shuttingDown = true;
	});

	// Before any route, so that every route is in the document.
	await app.register(fastifySwagger, { openapi: openApiDocument, hideUntagged: true });

	// On the root too, before the other plugins: its hook counts every answer, errors and 404s included.
	const metrics = new ApiMetrics(redis);
	await app.register(metricsPlugin, { metrics, adminToken: config.adminToken });

	// One subscriber connection for every lobby socket of this instance.
	const subscriber = redis.duplicate();
	logAvailability(subscriber, app.log, "redis subscriber");
	const hub = new EventHub(subscriber, app.log);
	app.addHook("onClose", async () => hub.close());
	const verifier = new TokenVerifier(redisPublicKeyStore(redis));
	const auth = new RoomAuthorizer(redis, verifier);
	const issueToken = tokenIssuer(signer, verifier);
	const mintToken = tokenMinter(issueToken);

	await app.register(fastifyWebsocket, {
		options: {
			maxPayload: limits.signalingMessageMaxBytes,
			handleProtocols: (protocols) => (protocols.has("protoo") ? "protoo" : false),
		},
	});

	await app.register(healthPlugin, { redis });
	const gate = await HostGate.create(config.roomCreation, redis, config.hostSessionTtl);
	await app.register(accountsPlugin, { gate, signInRateLimit: config.signInRateLimit, adminToken: config.adminToken });
	await app.register(roomsPlugin, {
		gate,
		createRateLimit: config.roomCreateRateLimit,
		redis,
		mintToken,
		publicUrl: config.publicUrl,
		hostTokenTtl: config.hostTokenTtl,
		roomTtl: config.roomTtl,
		metrics,
		sfuNodeStaleMs: config.sfuNodeStaleMs,
	});
	await app.register(lobbyPlugin, {
		redis,
		hub,
		auth,
		mintToken,
		knockTimeout: config.knockTimeout,
		knockRateLimit: config.knockRateLimit,
		knocksPendingMax: config.knocksPendingMax,
		roomMaxPeers: config.roomMaxPeers,
		guestTokenTtl: config.guestTokenTtl,
		isShuttingDown: () => shuttingDown,
		metrics,
	});
	await app.register(renewalPlugin, {
		auth,
		issueToken,
		hostTokenTtl: config.hostTokenTtl,
		guestTokenTtl: config.guestTokenTtl,
		renewalsPerMinute: config.tokenRenewalsPerMinute,
	});
	await app.register(icePlugin, { auth, turn: config.turn });
	await app.register(adminPlugin, { redis, adminToken: config.adminToken });
	await app.register(sfuProxyPlugin, {
		redis,
		pingIntervalMs: config.signalingPingInterval * 1000,
		sfuNodeStaleMs: config.sfuNodeStaleMs,
	});
	await app.register(openApiPlugin);
	await app.register(webPlugin, { webDist: config.webDist });

	try {
		await subscriber.connect();
		await app.ready();
	} catch (error) {
		clearInterval(republish);
		hub.close();
		throw error;
	}
	return app;
}
