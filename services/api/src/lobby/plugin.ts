/**
 * The lobby: a guest knocks, waits on a WebSocket, and gets a token only when
 * the room's current host admits it. Events go through Redis pub/sub, so the
 * guest's socket, the host's socket and the admit request may each be served
 * by a different API instance.
 */

import {
	ApiError,
	KnockParams,
	KnockRequest,
	KnockResponse,
	lobbyCloseCodes,
	lobbyRoomFullCode,
	RoomParams,
	roomMaxPeersDefault,
} from "@mindmeet/protocol";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync, FastifyReply } from "fastify";
import { limitPerClientAddress } from "../client-address.ts";
import type { EventHub } from "../event-hub.ts";
import { errorBody, HttpError, malformedParamsAreNotFound } from "../http-errors.ts";
import type { KnockMetrics } from "../metrics/metrics.ts";
import type { ApiRedis } from "../redis.ts";
import { bearerToken, type RoomAuthorizer } from "../room-auth.ts";
import { displayName, newPeerId, roomIdPattern, roomNotFound } from "../rooms/store.ts";
import type { MintToken } from "../tokens.ts";
import { RoomCapacity } from "./capacity.ts";
import { defaultKnocksPendingMax, type KnockRecord, KnockStore, knockIdPattern, secretMatches } from "./knocks.ts";
import { GuestWaitSession, HostLobbySession } from "./sockets.ts";

export interface LobbyPluginOptions {
	redis: ApiRedis;
	hub: EventHub;
	auth: RoomAuthorizer;
	mintToken: MintToken;
	/** Seconds an unanswered knock waits. */
	knockTimeout: number;
	/** Knocks per minute from one client address (an IPv4 address, or an IPv6 /64). */
	knockRateLimit: number;
	/** Knocks that may wait in one room at once; default `defaultKnocksPendingMax` (KNOCKS_PENDING_MAX). */
	knocksPendingMax?: number;
	guestTokenTtl: number;
	/** People one room takes (ROOM_MAX_PEERS, the SFU's cap too); default `roomMaxPeersDefault`. */
	roomMaxPeers?: number;
	isShuttingDown: () => boolean;
	/** Counts knocks and how they end (see metrics/metrics.ts). */
	metrics?: KnockMetrics;
}

const AdmitResponse = Type.Object({
	/** The admitted guest's peer id; its token goes to the guest's waiting socket only. */
	peerId: Type.String(),
});
const DenyResponse = Type.Object({});

const WaitQuery = Type.Object({
	secret: Type.Optional(Type.String({ description: "The knockSecret from the knock's creation" })),
});
const LobbyQuery = Type.Object({
	token: Type.Optional(Type.String({ description: "The current host's token" })),
});
const KnockSecretHeaders = Type.Object({
	"x-knock-secret": Type.Optional(Type.String({ description: "The knockSecret from the knock's creation" })),
});

/** How the WebSocket routes answer, for the document: the upgrade, or 426 to a plain GET. */
const webSocketResponses = {
	101: { description: "Switching Protocols: the WebSocket is open", type: "null" },
	426: ApiError,
};

const errors = { 400: ApiError, 404: ApiError, 413: ApiError, 415: ApiError, 503: ApiError };
const decisionErrors = { 401: ApiError, 403: ApiError, 404: ApiError, 409: ApiError, 503: ApiError };

function knockNotFound(): HttpError {
	return new HttpError(404, "knock not found");
}

/**
 * 409 with `code: "room-full"` (the protocol's lobbyRoomFullCode), so clients
 * can tell it from the other 409s (a knock already decided) and say why.
 * The error handler sends `code` along with the message.
 */
class RoomFullError extends HttpError {
	readonly code = lobbyRoomFullCode;
	constructor(message: string) {
		super(409, message);
	}
}

/** An expired knock is gone as far as anyone acting on it is concerned (404); any other end is a conflict. */
function alreadyEnded(knock: KnockRecord): HttpError {
	if (knock.status === "expired") return new HttpError(404, "knock has expired");
	return new HttpError(409, `knock was already ${knock.status}`);
}

/** A plain GET of a WebSocket route. */
function upgradeRequired(_request: unknown, reply: FastifyReply): FastifyReply {
	return reply.code(426).header("upgrade", "websocket").send(errorBody(426, "this endpoint is a WebSocket"));
}

export const lobbyPlugin: FastifyPluginAsync<LobbyPluginOptions> = async (app, options) => {
	const { redis, hub, auth, mintToken } = options;
	const knocksPendingMax = options.knocksPendingMax ?? defaultKnocksPendingMax;
	const roomMaxPeers = options.roomMaxPeers ?? roomMaxPeersDefault;
	const capacity = new RoomCapacity(redis, roomMaxPeers);
	const store = new KnockStore(redis, options.knockTimeout, knocksPendingMax, capacity, options.metrics);
	const socketDeps = { store, hub, auth, isShuttingDown: options.isShuttingDown };

	await limitPerClientAddress(app, "knocks");

	// Ids that fail the params schema (too long) are just unknown.
	malformedParamsAreNotFound(app, roomNotFound, { knockId: knockNotFound });

	app.post<{ Params: RoomParams; Body: KnockRequest; Reply: KnockResponse }>(
		"/api/rooms/:roomId/knocks",
		{
			config: { rateLimit: { max: options.knockRateLimit, timeWindow: 60_000 } },
			schema: {
				summary: "Knock: ask the host to be let in",
				description:
					"Queues the guest's name for the host. Wait for the answer on the `wait` WebSocket with the returned secret. " +
					"Rate-limited per client address, IPv6 by /64 (KNOCK_RATE_LIMIT per minute, 429 beyond). At most " +
					`${knocksPendingMax} knocks wait in one room at once (KNOCKS_PENDING_MAX); the next one gets 429. ` +
					`A full room (ROOM_MAX_PEERS, ${roomMaxPeers}, with one place kept for a host who is away and admitted ` +
					`guests on their way counted in) refuses the knock at once: 409 with code \`${lobbyRoomFullCode}\`.`,
				tags: ["lobby"],
				params: RoomParams,
				body: KnockRequest,
				response: { 201: KnockResponse, 409: ApiError, 429: ApiError, ...errors },
			},
		},
		async (request, reply) => {
			const name = displayName(request.body.name, "name");
			const { roomId } = request.params;
			// The store's script writes nothing unless the room exists: no separate existence check first.
			if (!roomIdPattern.test(roomId)) throw roomNotFound();
			// Knocking on a full room would only lead to an admission the SFU refuses: say so now.
			// (A room that does not exist is never full: it has nobody in it; the script then says 404.)
			if (await capacity.isFull(roomId)) {
				options.metrics?.knockRefused("room-full");
				throw new RoomFullError(`the room is full (${roomMaxPeers} people at most); ask again when someone leaves`);
			}
			const created = await store.create(roomId, name);
			if (created.result === "missing") throw roomNotFound();
			if (created.result === "full") {
				options.metrics?.knockRefused("queue-full");
				void reply.header("retry-after", "30");
				throw new HttpError(
					429,
					`too many people are already waiting to be let in to this room (${knocksPendingMax}); try again in a moment`,
				);
			}
			const { knock, secret } = created;
			request.log.info({ roomId, knockId: knock.id }, "knock");
			return reply.code(201).send({ knockId: knock.id, knockSecret: secret, expiresAt: knock.expiresAt });
		},
	);

	app.route<{ Params: KnockParams; Querystring: Static<typeof WaitQuery> }>({
		method: "GET",
		url: "/api/rooms/:roomId/knocks/:knockId/wait",
		schema: {
			summary: "WebSocket: the guest waits for the host's answer",
			description:
				"WebSocket. Messages are LobbyGuestEvent JSON: `waiting` first (while pending), then one of `admitted` " +
				"(with the guest's token), `denied`, `expired`, `room-closed`, after which the socket closes with 1000. " +
				"Closing it while the knock is pending withdraws the knock. Close codes: 4401 missing or wrong secret, " +
				"4404 unknown (or withdrawn) knock; 1013 storage unavailable (try again shortly).",
			tags: ["lobby"],
			params: Type.Object({ roomId: Type.String(), knockId: Type.String() }),
			querystring: WaitQuery,
			response: webSocketResponses,
		},
		handler: upgradeRequired,
		wsHandler: (socket, request) => {
			const { roomId, knockId } = request.params;
			if (!roomIdPattern.test(roomId) || !knockIdPattern.test(knockId)) {
				socket.close(lobbyCloseCodes.notFound, "unknown knock");
				return;
			}
			const log = request.log.child({ roomId, knockId });
			void new GuestWaitSession(socket, log, socketDeps, roomId, knockId).start(request.query.secret);
		},
	});

	app.delete<{ Params: KnockParams; Headers: Static<typeof KnockSecretHeaders> }>(
		"/api/rooms/:roomId/knocks/:knockId",
		{
			schema: {
				summary: "Withdraw a knock",
				description: "Only the knocking browser can: it sends the knock's secret in `x-knock-secret`.",
				tags: ["lobby"],
				params: KnockParams,
				headers: KnockSecretHeaders,
				security: [{ knockSecret: [] }],
				response: { 204: Type.Null(), 401: ApiError, 404: ApiError, 409: ApiError, 503: ApiError },
			},
		},
		async (request, reply) => {
			const { roomId, knockId } = request.params;
			const found = await store.read(roomId, knockId);
			if (!found) throw knockNotFound();
			if (!secretMatches(found.knock, request.headers["x-knock-secret"])) {
				throw new HttpError(401, "wrong or missing knock secret (x-knock-secret)");
			}
			if (found.knock.status !== "pending") throw alreadyEnded(found.knock);
			const outcome = await store.settle(roomId, knockId, "cancelled");
			if (outcome.result === "missing") throw knockNotFound();
			if (outcome.result === "conflict") throw alreadyEnded(outcome.knock);
			request.log.info({ roomId, knockId }, "knock withdrawn");
			return reply.code(204).send();
		},
	);

	/** Host-only decision on a pending knock. */
	const decisionRoute = (decision: "admit" | "deny") => ({
		schema: {
			summary: decision === "admit" ? "Admit a knocking guest" : "Deny a knocking guest",
			description:
				decision === "admit"
					? "Current host only. Mints the guest's token and hands it to the guest's waiting socket; answers the guest's peer id. " +
						`A full room refuses: 409 with code \`${lobbyRoomFullCode}\`, and the knock stays pending (admit it once ` +
						"someone leaves, or deny it)."
					: "Current host only. The guest's waiting socket is told `denied`; the guest may knock again.",
			tags: ["lobby"],
			params: KnockParams,
			security: [{ roomToken: [] }],
			response: { 200: decision === "admit" ? AdmitResponse : DenyResponse, ...decisionErrors },
		},
	});

	/**
	 * The host's authority and the knock, read in the same round trip; then the
	 * knock if it can still be decided (404/409 otherwise). A refused host is
	 * told so before anything about the knock.
	 */
	async function hostAndPendingKnock(roomId: string, knockId: string, authorization: string | undefined) {
		const [host, found] = await Promise.allSettled([
			auth.host(roomId, bearerToken(authorization)),
			store.read(roomId, knockId),
		]);
		if (host.status === "rejected") throw host.reason;
		if (found.status === "rejected") throw found.reason;
		const record = found.value;
		if (!record) throw knockNotFound();
		if (record.knock.status !== "pending") throw alreadyEnded(record.knock);
		if (Date.now() >= record.knock.expiresAt) {
			await store.settle(roomId, knockId, "expired");
			throw knockNotFound();
		}
		return record;
	}

	app.post<{ Params: KnockParams }>(
		"/api/rooms/:roomId/knocks/:knockId/admit",
		decisionRoute("admit"),
		async (request) => {
			const { roomId, knockId } = request.params;
			const record = await hostAndPendingKnock(roomId, knockId, request.headers.authorization);
			const knock = record.knock;
			const peerId = newPeerId();
			const token = await mintToken({
				room: roomId,
				peerId,
				name: knock.name,
				role: "guest",
				ttlSeconds: options.guestTokenTtl,
			});
			const outcome = await store.settle(roomId, knockId, "admitted", { peerId, token }, record);
			if (outcome.result === "missing") throw knockNotFound();
			if (outcome.result === "conflict") throw alreadyEnded(outcome.knock);
			if (outcome.result === "room-full") {
				request.log.info({ roomId, knockId }, "admission refused: the room is full");
				throw new RoomFullError(
					`the room is full (${roomMaxPeers} people at most, one place kept for the host while away, ` +
						"admitted guests on their way counted); the knock stays pending: admit it once someone leaves, or deny it",
				);
			}
			request.log.info({ roomId, knockId, peerId }, "knock admitted");
			return { peerId };
		},
	);

	app.post<{ Params: KnockParams }>(
		"/api/rooms/:roomId/knocks/:knockId/deny",
		decisionRoute("deny"),
		async (request) => {
			const { roomId, knockId } = request.params;
			const record = await hostAndPendingKnock(roomId, knockId, request.headers.authorization);
			const outcome = await store.settle(roomId, knockId, "denied", undefined, record);
			if (outcome.result === "missing") throw knockNotFound();
			if (outcome.result === "conflict") throw alreadyEnded(outcome.knock);
			request.log.info({ roomId, knockId }, "knock denied");
			return {};
		},
	);

	app.route<{ Params: RoomParams; Querystring: Static<typeof LobbyQuery> }>({
		method: "GET",
		url: "/api/rooms/:roomId/lobby",
		schema: {
			summary: "WebSocket: the host's queue of knocks",
			description:
				"WebSocket for the room's current host. Messages are LobbyHostEvent JSON: `knocks` (every pending knock, " +
				"oldest first) on connect, then `knock`, `knock-ended`, `host-changed`, `room-closed`. Close codes: " +
				"4401 missing, invalid or revoked token; 4403 not the current host (also after `host-changed` to someone " +
				"else); 4404 unknown room; 1000 after `room-closed`; 1013 storage unavailable (try again later with the " +
				"same token: never a refusal).",
			tags: ["lobby"],
			params: Type.Object({ roomId: Type.String() }),
			querystring: LobbyQuery,
			response: webSocketResponses,
		},
		handler: upgradeRequired,
		wsHandler: (socket, request) => {
			const { roomId } = request.params;
			if (!roomIdPattern.test(roomId)) {
				socket.close(lobbyCloseCodes.notFound, "room not found");
				return;
			}
			const log = request.log.child({ roomId });
			void new HostLobbySession(socket, log, socketDeps, roomId).start(request.query.token);
		},
	});
};
