/**
 * The browser's protoo WebSocket goes through the API, so the site has one
 * origin (one TLS certificate, one port) whatever the number of SFU nodes:
 * `GET /sfu/:nodeId?token=…` is piped, message for message, to that node's
 * signaling URL with the same query string. The SFU checks the token; this is
 * only a pipe. The query string carries the token: it is never logged.
 */
import { limits } from "@mindmeet/protocol";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import WebSocket, { type RawData } from "ws";
import { errorBody } from "../http-errors.ts";
import { type ApiRedis, describeError, isStorageUnavailable } from "../redis.ts";
import { readNode } from "../sfu-nodes.ts";

export interface SfuProxyPluginOptions {
	redis: ApiRedis;
}

/** Browser messages held while the upstream connection opens. */
export const maxPendingMessages = 64;
const upstreamHandshakeTimeoutMs = 10_000;
const maxNodeIdLength = 128;

interface PendingMessage {
	data: RawData;
	isBinary: boolean;
}

/** Close codes an application may send and the browser should see as-is. */
function isForwardableCode(code: number): boolean {
	return code === 1000 || (code >= 3000 && code <= 4999);
}

/** `signalingUrl` with the browser's query string (the token) appended. */
function upstreamUrl(signalingUrl: string, rawUrl: string | undefined): string {
	const q = rawUrl?.indexOf("?") ?? -1;
	if (!rawUrl || q === -1 || q === rawUrl.length - 1) return signalingUrl;
	const query = rawUrl.slice(q + 1);
	return `${signalingUrl}${signalingUrl.includes("?") ? "&" : "?"}${query}`;
}

/** protoo-client always asks for the `protoo` subprotocol; refuse anything else before upgrading. */
async function requireProtoo(request: FastifyRequest, reply: FastifyReply): Promise<void> {
	if (!request.ws) return;
	const offered = String(request.headers["sec-websocket-protocol"] ?? "")
		.split(",")
		.map((p) => p.trim());
	if (!offered.includes("protoo")) {
		await reply.code(400).send(errorBody(400, "the protoo WebSocket subprotocol is required"));
	}
}

export const sfuProxyPlugin: FastifyPluginAsync<SfuProxyPluginOptions> = async (app, { redis }) => {
	const upstreams = new Set<WebSocket>();
	app.addHook("onClose", async () => {
		for (const upstream of upstreams) upstream.terminate();
	});

	app.route<{ Params: { nodeId: string } }>({
		method: "GET",
		url: "/sfu/:nodeId",
		schema: {
			summary: "WebSocket: the SFU's protoo signaling, proxied",
			description:
				"WebSocket with the `protoo` subprotocol, piped to the SFU node's signaling endpoint with the same query " +
				"string (`roomId`, `token`). Close codes come from the SFU (4000 refused); 4404 unknown node, 1011 node unreachable.",
			tags: ["signaling"],
		},
		preValidation: requireProtoo,
		// A plain GET (no upgrade) is an unknown route like any other.
		handler: (_request, reply) => reply.callNotFound(),
		wsHandler: (browser, request) => {
			const { nodeId } = request.params;
			const log = request.log.child({ sfuNode: nodeId.slice(0, maxNodeIdLength) });
			const pending: PendingMessage[] = [];
			let upstream: WebSocket | undefined;
			let upstreamOpened = false;
			let browserClosed = false;

			const closeBrowser = (code: number, reason: string) => {
				if (browser.readyState === WebSocket.OPEN || browser.readyState === WebSocket.CONNECTING) {
					browser.close(code, reason);
				}
			};
			const closeUpstream = (code: number) => {
				if (!upstream) return;
				if (upstream.readyState === WebSocket.OPEN) upstream.close(code);
				else if (upstream.readyState === WebSocket.CONNECTING) upstream.terminate();
			};

			// Listen before any await: the browser may speak as soon as the upgrade completes.
			browser.on("message", (data, isBinary) => {
				if (browser.readyState !== WebSocket.OPEN) return;
				if (upstream && upstream.readyState === WebSocket.OPEN) {
					upstream.send(data, { binary: isBinary });
				} else if (pending.length >= maxPendingMessages) {
					log.warn({ pending: pending.length }, "sfu proxy: browser sent too much before the media server answered");
					closeBrowser(1008, "too many messages before the media server answered");
					closeUpstream(1001);
				} else {
					pending.push({ data, isBinary });
				}
			});
			browser.on("close", (code) => {
				browserClosed = true;
				log.info({ code, upstreamOpened }, "sfu proxy: browser socket closed");
				pending.length = 0;
				closeUpstream(code === 1000 || code === 1001 || (code >= 3000 && code <= 4999) ? code : 1001);
			});

			const connect = async () => {
				if (nodeId.length > maxNodeIdLength) return closeBrowser(4404, "unknown media server");
				let node: Awaited<ReturnType<typeof readNode>>;
				try {
					node = await readNode(redis, nodeId);
				} catch (error) {
					log.warn({ error: describeError(error) }, "sfu proxy: node lookup failed");
					return closeBrowser(isStorageUnavailable(error) ? 1013 : 1011, "storage unavailable, try again shortly");
				}
				if (browserClosed) return;
				if (!node) {
					log.info("sfu proxy: unknown media server");
					return closeBrowser(4404, "unknown media server");
				}

				let socket: WebSocket;
				try {
					socket = new WebSocket(upstreamUrl(node.signalingUrl, request.raw.url), "protoo", {
						maxPayload: limits.signalingMessageMaxBytes,
						handshakeTimeout: upstreamHandshakeTimeoutMs,
						perMessageDeflate: false,
					});
				} catch (error) {
					// A malformed signalingUrl in the registry; the error text would contain the URL (and the token).
					log.error(
						{ type: error instanceof Error ? error.constructor.name : typeof error },
						"sfu proxy: bad node URL",
					);
					return closeBrowser(1011, "media server unreachable");
				}
				upstream = socket;
				upstreams.add(socket);

				socket.on("open", () => {
					upstreamOpened = true;
					log.info({ buffered: pending.length }, "sfu proxy: connected to media server");
					for (const message of pending.splice(0)) socket.send(message.data, { binary: message.isBinary });
				});
				socket.on("message", (data, isBinary) => {
					if (browser.readyState === WebSocket.OPEN) browser.send(data, { binary: isBinary });
				});
				socket.on("error", (error) => {
					// ws error messages never include the URL; log the class and code only.
					log.warn(
						{ error: { type: error.constructor.name, code: (error as { code?: unknown }).code } },
						"sfu proxy: upstream error",
					);
				});
				socket.on("close", (code, reasonBuffer) => {
					upstreams.delete(socket);
					log.debug({ code, upstreamOpened }, "sfu proxy: upstream closed");
					if (browserClosed) return;
					if (!upstreamOpened) {
						log.warn("sfu proxy: media server unreachable");
						return closeBrowser(1011, "media server unreachable");
					}
					const reason = reasonBuffer.toString();
					if (isForwardableCode(code)) closeBrowser(code, reason);
					else closeBrowser(1011, "media server connection lost");
				});
			};
			connect().catch((error: unknown) => {
				log.error({ error: describeError(error) }, "sfu proxy failed");
				closeBrowser(1011, "media server unreachable");
				closeUpstream(1001);
			});
		},
	});
};
