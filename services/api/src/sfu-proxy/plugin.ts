/**
 * The browser's protoo WebSocket goes through the API, so the site has one
 * origin (one TLS certificate, one port) whatever the number of SFU nodes:
 * `GET /sfu/:nodeId?roomId=…&token=…` is piped, message for message, to the
 * signaling URL of the node the room is on, with the same query string. The
 * SFU checks the token; this is only a pipe. The query string carries the
 * token: it is never logged.
 *
 * The room decides the node, not the URL: a room whose node died is placed
 * again on a live node (sfu-nodes.ts placeRoom) when its people reconnect, and
 * they are piped there even though their URL still names the old node.
 *
 * Close codes the browser can see from the proxy itself (everything else comes
 * from the SFU: 4000 refused is final, as are kicked/roomClosed notifications):
 * 1008 too many messages before the node answered; 1009 a browser message over
 * limits.signalingMessageMaxBytes; 1011 the node is unreachable or the
 * connection to it was lost; 1012 the room was placed on another node while
 * this connection was piped to the old one (reconnect: the retry goes to the
 * new one); 1013 storage unavailable or no live node (try again later); 4404
 * the URL names an unknown node for an unknown room. None of them is final:
 * the client keeps its credentials and retries.
 *
 * One room, one node: on every ping sweep the room record of each piped
 * connection is read again (once per room), and a connection piped to a node
 * the record no longer names is cut. A node that lost its lease without
 * dying (cut off from Redis, but not from this API) keeps its people
 * otherwise, while newcomers go to the room's new node.
 */
import { limits } from "@mindmeet/protocol";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import WebSocket, { type RawData } from "ws";
import { errorBody } from "../http-errors.ts";
import { type ApiRedis, describeError, isStorageUnavailable } from "../redis.ts";
import { findRoom } from "../rooms/store.ts";
import { placeRoom, readNode } from "../sfu-nodes.ts";

export interface SfuProxyPluginOptions {
	redis: ApiRedis;
	/**
	 * How often each browser socket (and its upstream) is pinged, ms. A socket
	 * that has not answered the previous ping by the next one is cut, so a
	 * browser whose network vanished leaves the call (the SFU sees its upstream
	 * close) instead of staying in it as a ghost.
	 */
	pingIntervalMs: number;
	/** SFU_NODE_STALE_SECONDS in ms: a node silent this long loses its rooms to a live one. Default sfuNodeStaleMs. */
	sfuNodeStaleMs?: number;
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

/** The `roomId` of the browser's query string, if any. */
function roomIdOf(rawUrl: string | undefined): string | undefined {
	const q = rawUrl?.indexOf("?") ?? -1;
	if (!rawUrl || q === -1) return undefined;
	return new URLSearchParams(rawUrl.slice(q + 1)).get("roomId") ?? undefined;
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

/** One proxied connection, as the liveness sweep sees it. */
interface Pipe {
	browser: WebSocket;
	upstream: () => WebSocket | undefined;
	/** A pong (or any message) arrived since the last ping. */
	browserAlive: boolean;
	upstreamAlive: boolean;
	onBrowserDead: () => void;
	onUpstreamDead: () => void;
	/** The room and the node it is piped to, once the upstream is chosen. */
	placement?: { roomId: string; nodeId: string };
	/** The room is placed on another node now: cut this connection so the client reconnects there. */
	onMoved: (nodeId: string) => void;
}

/**
 * Where the browser's connection goes: the room's live node (re-placing the
 * room when its node is dead), or, for a room this API does not know, the node
 * the URL names (its SFU then refuses room-not-found, which the client treats
 * as final). `close` when the browser must be told to come back later.
 */
async function resolveNode(
	redis: ApiRedis,
	nodeId: string,
	roomId: string | undefined,
	staleMs: number | undefined,
): Promise<{ signalingUrl: string; nodeId: string; movedFrom?: string } | { close: number; reason: string }> {
	const room = roomId === undefined ? undefined : await findRoom(redis, roomId);
	if (room) {
		const placement = await placeRoom(redis, room.id, room.sfuNode, Date.now(), staleMs);
		if (!placement.node) return { close: 1013, reason: "no media server is available, try again shortly" };
		return {
			signalingUrl: placement.node.signalingUrl,
			nodeId: placement.node.id,
			...(placement.movedFrom !== undefined ? { movedFrom: placement.movedFrom } : {}),
		};
	}
	const node = await readNode(redis, nodeId);
	if (!node) return { close: 4404, reason: "unknown media server" };
	return { signalingUrl: node.signalingUrl, nodeId: node.id };
}

export const sfuProxyPlugin: FastifyPluginAsync<SfuProxyPluginOptions> = async (
	app,
	{ redis, pingIntervalMs, sfuNodeStaleMs },
) => {
	const upstreams = new Set<WebSocket>();
	const pipes = new Set<Pipe>();

	let checking = false;
	/** Cut the pipes whose room is now placed on another node than the one they go to (see the file comment). */
	const checkPlacements = async () => {
		if (checking) return;
		checking = true;
		try {
			const byRoom = new Map<string, Pipe[]>();
			for (const pipe of pipes) {
				if (!pipe.placement) continue;
				const list = byRoom.get(pipe.placement.roomId) ?? [];
				list.push(pipe);
				byRoom.set(pipe.placement.roomId, list);
			}
			await Promise.all(
				[...byRoom].map(async ([roomId, piped]) => {
					// No record (ended, or Redis lost it) or no answer is no verdict: leave the pipes alone.
					const room = await findRoom(redis, roomId).catch(() => undefined);
					if (!room) return;
					for (const pipe of piped) if (pipe.placement?.nodeId !== room.sfuNode) pipe.onMoved(room.sfuNode);
				}),
			);
		} finally {
			checking = false;
		}
	};

	// One sweep for every connection of this instance: cut what did not answer the last ping, ping the rest.
	const sweep = setInterval(() => {
		for (const pipe of pipes) {
			if (pipe.browser.readyState === WebSocket.OPEN) {
				if (!pipe.browserAlive) {
					pipe.onBrowserDead();
					continue;
				}
				pipe.browserAlive = false;
				pipe.browser.ping();
			}
			const upstream = pipe.upstream();
			if (upstream?.readyState === WebSocket.OPEN) {
				if (!pipe.upstreamAlive) {
					pipe.onUpstreamDead();
					continue;
				}
				pipe.upstreamAlive = false;
				upstream.ping();
			}
		}
		void checkPlacements();
	}, pingIntervalMs);
	sweep.unref();

	app.addHook("onClose", async () => {
		clearInterval(sweep);
		for (const upstream of upstreams) upstream.terminate();
	});

	app.route<{ Params: { nodeId: string } }>({
		method: "GET",
		url: "/sfu/:nodeId",
		schema: {
			summary: "WebSocket: the SFU's protoo signaling, proxied",
			description:
				"WebSocket with the `protoo` subprotocol, piped to the signaling endpoint of the node the room is on " +
				"(`roomId` in the query; a room whose node is gone is moved to a live node) with the same query string " +
				"(`roomId`, `token`). Close codes from the SFU are passed on (4000 refused: final). From the proxy, none " +
				"final: 1008 too many early messages, 1009 message too big, 1011 node unreachable or lost, 1013 storage or " +
				"no live node (try again later), 4404 unknown node for an unknown room. Sockets that miss a ping are cut.",
			tags: ["signaling"],
		},
		preValidation: requireProtoo,
		// A plain GET (no upgrade) is an unknown route like any other.
		handler: (_request, reply) => reply.callNotFound(),
		wsHandler: (browser, request) => {
			const { nodeId } = request.params;
			const roomId = roomIdOf(request.raw.url);
			let log = request.log.child({ sfuNode: nodeId.slice(0, maxNodeIdLength) });
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

			const pipe: Pipe = {
				browser,
				upstream: () => upstream,
				browserAlive: true,
				upstreamAlive: true,
				onBrowserDead: () => {
					log.info("sfu proxy: browser missed a ping, cutting it");
					// No closing handshake with a peer that is not there; the close handler closes the upstream.
					browser.terminate();
				},
				onUpstreamDead: () => {
					log.warn("sfu proxy: media server missed a ping, cutting it");
					upstream?.terminate();
				},
				onMoved: (placedOn) => {
					if (!pipe.placement) return;
					log.info({ roomId: pipe.placement.roomId, placedOn }, "sfu proxy: the room moved to another node, cutting");
					pipe.placement = undefined;
					closeBrowser(1012, "the room moved to another media server, reconnect");
					closeUpstream(1001);
				},
			};
			pipes.add(pipe);
			browser.on("pong", () => {
				pipe.browserAlive = true;
			});

			// Listen before any await: the browser may speak as soon as the upgrade completes.
			browser.on("message", (data, isBinary) => {
				pipe.browserAlive = true;
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
				pipes.delete(pipe);
				log.info({ code, upstreamOpened }, "sfu proxy: browser socket closed");
				pending.length = 0;
				closeUpstream(code === 1000 || code === 1001 || (code >= 3000 && code <= 4999) ? code : 1001);
			});

			const connect = async () => {
				if (nodeId.length > maxNodeIdLength) return closeBrowser(4404, "unknown media server");
				let target: Awaited<ReturnType<typeof resolveNode>>;
				try {
					target = await resolveNode(redis, nodeId, roomId, sfuNodeStaleMs);
				} catch (error) {
					log.warn({ error: describeError(error) }, "sfu proxy: node lookup failed");
					return closeBrowser(isStorageUnavailable(error) ? 1013 : 1011, "storage unavailable, try again shortly");
				}
				if (browserClosed) return;
				if ("close" in target) {
					log.info({ code: target.close, roomId }, `sfu proxy: ${target.reason}`);
					return closeBrowser(target.close, target.reason);
				}
				if (target.nodeId !== nodeId) {
					log = log.child({ roomId, pipedTo: target.nodeId });
					log.info({ movedFrom: target.movedFrom }, "sfu proxy: the room is on another node, piping there");
				}

				let socket: WebSocket;
				try {
					socket = new WebSocket(upstreamUrl(target.signalingUrl, request.raw.url), "protoo", {
						// Server messages have their own, larger bound (the join answer carries a chat page);
						// the browser's side stays at the client→server limit (the WebSocket server's maxPayload).
						maxPayload: limits.serverMessageMaxBytes,
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
				if (roomId !== undefined) pipe.placement = { roomId, nodeId: target.nodeId };

				socket.on("open", () => {
					upstreamOpened = true;
					log.info({ buffered: pending.length }, "sfu proxy: connected to media server");
					for (const message of pending.splice(0)) socket.send(message.data, { binary: message.isBinary });
				});
				socket.on("pong", () => {
					pipe.upstreamAlive = true;
				});
				socket.on("message", (data, isBinary) => {
					pipe.upstreamAlive = true;
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
