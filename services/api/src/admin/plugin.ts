/**
 * Operator endpoints under /api/admin, behind `Authorization: Bearer
 * <ADMIN_TOKEN>`. The API owns no media: closing a room and kicking a peer are
 * orders queued on the room's SFU node's stream (SfuCommand), plus the Redis
 * state that makes them stick (keys deleted, peer revoked). A queued order
 * survives the node's connection being down; the endpoint waits a bounded time
 * for the node's outcome and answers it.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
	ApiError,
	type LobbyGuestEvent,
	type LobbyHostEvent,
	PeerRole,
	RoomMode,
	RoomParams,
	RoomPresence,
	redisChannels,
	redisKeys,
	roomScopedKeys,
	type SfuCommand,
	type SfuCommandOutcome,
	type StoredRoom,
	sfuCommandKeys,
	sfuCommandStreamMaxLen,
} from "@mindmeet/protocol";
import { parseRecord } from "@mindmeet/protocol/records";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { nanoid } from "nanoid";
import { HttpError, malformedParamsAreNotFound } from "../http-errors.ts";
import type { ApiRedis } from "../redis.ts";
import { bearerToken } from "../room-auth.ts";
import { findRoom, loadRoom, roomNotFound } from "../rooms/store.ts";

export interface AdminPluginOptions {
	redis: ApiRedis;
	/** Undefined: every admin route answers 401 (the admin API is disabled). */
	adminToken: string | undefined;
	/** How long kick and close wait for the SFU node's outcome before answering 504; default `adminOrderTimeoutMs`. */
	orderTimeoutMs?: number;
}

export const adminOrderTimeoutMs = 5_000;
/** How often the outcome key is looked at while waiting (admin orders are rare: polling is simpler than a subscription). */
const outcomePollMs = 50;
/** A node's stream outlives its last order by this long, so a decommissioned node's stream goes away. */
const commandStreamTtlSeconds = 86_400;

export const adminDisabledMessage = "admin API disabled: set ADMIN_TOKEN";

const RoomSummary = Type.Object({
	roomId: Type.String(),
	createdAt: Type.Integer({ description: "Epoch ms" }),
	hostName: Type.String(),
	mode: RoomMode,
	sfuNode: Type.String(),
	participants: Type.Integer({ description: "People in the call now" }),
});

const Presence = Type.Object({
	peerId: Type.String(),
	name: Type.String(),
	role: PeerRole,
	joinedAt: Type.Integer({ description: "Epoch ms" }),
	producers: Type.Array(
		Type.Object({
			id: Type.String(),
			kind: Type.Union([Type.Literal("audio"), Type.Literal("video")]),
			source: Type.Union([Type.Literal("mic"), Type.Literal("cam"), Type.Literal("screen")]),
			paused: Type.Boolean(),
		}),
	),
});

const RoomList = Type.Object({ rooms: Type.Array(RoomSummary) });
const RoomDetail = Type.Object({
	roomId: Type.String(),
	createdAt: Type.Integer({ description: "Epoch ms" }),
	hostName: Type.String({ description: "Name the room was created with" }),
	mode: RoomMode,
	sfuNode: Type.String(),
	hostPeerId: Type.Union([Type.String(), Type.Null()], { description: "Current host's peer id" }),
	participants: Type.Array(Presence),
	pendingKnocks: Type.Integer(),
});
const PeerParams = Type.Object({
	roomId: Type.String({ maxLength: 64 }),
	peerId: Type.String({ maxLength: 64 }),
});

type RoomSummary = Static<typeof RoomSummary>;
type RoomDetail = Static<typeof RoomDetail>;
type PeerParams = Static<typeof PeerParams>;

const authErrors = { 401: ApiError, 503: ApiError };
const orderErrors = { 404: ApiError, 502: ApiError, 504: ApiError };

function sha256(value: string): Buffer {
	return createHash("sha256").update(value).digest();
}

/** Equal-length digests compared in constant time: neither the token nor its length leaks through timing. */
function sameToken(presented: string, expected: string): boolean {
	return timingSafeEqual(sha256(presented), sha256(expected));
}

/** A presence entry as the SFU writes it; malformed entries are skipped rather than failing the listing. */
function parsePresence(json: string): RoomPresence | undefined {
	return parseRecord(RoomPresence, json);
}

/**
 * Close a room in one step: tell its SFU node, the host's lobby and every
 * waiting guest, then delete its keys and its waiting knocks. The queue is
 * read inside the script, so a knock that lands during the close is either
 * refused (the room is gone) or told.
 * KEYS: rooms set, queue, node's command stream, then the room-scoped keys.
 * ARGV: room id, knock key prefix, knock channel prefix, guest message,
 * order id, order JSON, order time, stream max length, stream TTL s, then channel/message pairs.
 */
const closeRoomScript = `
local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'id', ARGV[5], 'command', ARGV[6], 'at', ARGV[7])
redis.call('EXPIRE', KEYS[3], ARGV[9])
for i = 10, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
for _, id in ipairs(ids) do
	redis.call('PUBLISH', ARGV[3] .. id, ARGV[4])
	redis.call('DEL', ARGV[2] .. id)
end
for i = 4, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('SREM', KEYS[1], ARGV[1])
return #ids
`;

/**
 * Revoke a peer until the room ends (the revoked set follows the room's TTL) and queue the kick.
 * KEYS: room, revoked set, node's command stream.
 * ARGV: peer id, order id, order JSON, order time, stream max length, stream TTL s.
 */
const kickScript = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return 0 end
redis.call('SADD', KEYS[2], ARGV[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'id', ARGV[2], 'command', ARGV[3], 'at', ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[6])
return 1
`;

/** What an order is stored with on the stream (see sfuCommandKeys). */
function orderArguments(command: SfuCommand): { id: string; arguments: string[] } {
	const id = nanoid(21);
	return {
		id,
		arguments: [
			id,
			JSON.stringify(command),
			String(Date.now()),
			String(sfuCommandStreamMaxLen),
			String(commandStreamTtlSeconds),
		],
	};
}

function nodeUnreachable(sfuNode: string, seconds: number, already: string): HttpError {
	return new HttpError(
		504,
		`SFU node ${sfuNode} did not confirm within ${seconds} s (unreachable or restarting): ${already}; ` +
			"the order stays queued and is carried out when the node reconnects",
	);
}

/**
 * The admin routes' gate, for every plugin that serves /api/admin/* (this one,
 * accounts): an onRequest hook, so before the body or params are even looked
 * at, nobody without the token learns anything.
 */
export function adminAuthHook(adminToken: string | undefined) {
	return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
		void reply.header("www-authenticate", 'Bearer realm="mindmeet-admin"');
		if (adminToken === undefined) throw new HttpError(401, adminDisabledMessage);
		const presented = bearerToken(request.headers.authorization);
		if (presented === undefined || !sameToken(presented, adminToken)) {
			throw new HttpError(401, "the admin bearer token (ADMIN_TOKEN) is required");
		}
		reply.removeHeader("www-authenticate");
	};
}

export const adminPlugin: FastifyPluginAsync<AdminPluginOptions> = async (app, options) => {
	const { redis, adminToken } = options;
	const orderTimeoutMs = options.orderTimeoutMs ?? adminOrderTimeoutMs;
	const orderTimeoutSeconds = Math.round(orderTimeoutMs / 100) / 10;

	/** The node's outcome for order `id`, or undefined when none came within the timeout. */
	async function outcomeOf(id: string): Promise<SfuCommandOutcome | undefined> {
		const deadline = Date.now() + orderTimeoutMs;
		for (;;) {
			const outcome = await redis.get(sfuCommandKeys.outcome(id));
			if (outcome !== null) return outcome as SfuCommandOutcome;
			if (Date.now() >= deadline) return undefined;
			await sleep(outcomePollMs);
		}
	}

	app.addHook("onRequest", adminAuthHook(adminToken));

	malformedParamsAreNotFound(app, roomNotFound, { peerId: () => new HttpError(404, "peer not in the room") });

	const admin = { tags: ["admin"], security: [{ adminToken: [] }] };

	function summary(room: StoredRoom, participants: number): RoomSummary {
		const { id, createdAt, hostName, mode, sfuNode } = room;
		return { roomId: id, createdAt, hostName, mode, sfuNode, participants };
	}

	app.get<{ Reply: Static<typeof RoomList> }>(
		"/api/admin/rooms",
		{
			schema: {
				...admin,
				summary: "List rooms",
				description:
					"Every room that still exists, oldest first. Ids whose room has expired are dropped from the index.",
				response: { 200: RoomList, ...authErrors },
			},
		},
		async () => {
			const ids = await redis.sMembers(redisKeys.rooms);
			const rooms: RoomSummary[] = [];
			const stale: string[] = [];
			await Promise.all(
				ids.map(async (id) => {
					const room = await findRoom(redis, id);
					if (!room) {
						stale.push(id);
						return;
					}
					rooms.push(summary(room, await redis.hLen(redisKeys.roomPeers(id))));
				}),
			);
			if (stale.length > 0) await redis.sRem(redisKeys.rooms, stale);
			rooms.sort((a, b) => a.createdAt - b.createdAt || a.roomId.localeCompare(b.roomId));
			return { rooms };
		},
	);

	app.get<{ Params: RoomParams; Reply: RoomDetail }>(
		"/api/admin/rooms/:roomId",
		{
			schema: {
				...admin,
				summary: "One room with its participants",
				description: "Participants as the SFU publishes them (RoomPresence), and the number of knocks waiting.",
				params: RoomParams,
				response: { 200: RoomDetail, 404: ApiError, ...authErrors },
			},
		},
		async (request) => {
			const { roomId } = request.params;
			const room = await loadRoom(redis, roomId);
			const [peers, hostPeerId, pendingKnocks] = await Promise.all([
				redis.hGetAll(redisKeys.roomPeers(roomId)),
				redis.get(redisKeys.roomHost(roomId)),
				redis.zCard(redisKeys.roomKnocks(roomId)),
			]);
			const participants = Object.values(peers)
				.map(parsePresence)
				.filter((p): p is RoomPresence => p !== undefined)
				.sort((a, b) => a.joinedAt - b.joinedAt);
			return { ...summary(room, participants.length), hostPeerId, participants, pendingKnocks };
		},
	);

	app.delete<{ Params: RoomParams }>(
		"/api/admin/rooms/:roomId",
		{
			schema: {
				...admin,
				summary: "Close a room",
				description:
					"Tells the host's lobby and waiting guests (`room-closed`), deletes the room's state (the link stops " +
					"working) and orders the room's SFU node to close it (everyone is disconnected). Waits for the node's " +
					`outcome for up to ${orderTimeoutSeconds} s: 204 once it has closed the room (or had nobody connected in it), ` +
					"504 when the node did not answer in time (the order stays queued on the node's stream " +
					"and is carried out when it reconnects; the room's state is already gone).",
				params: RoomParams,
				response: { 204: Type.Null(), ...orderErrors, ...authErrors },
			},
		},
		async (request, reply) => {
			const { roomId } = request.params;
			const room = await loadRoom(redis, roomId);
			const command: SfuCommand = { type: "close-room", roomId };
			const order = orderArguments(command);
			const hostEvent: LobbyHostEvent = { type: "room-closed" };
			const guestEvent: LobbyGuestEvent = { type: "room-closed" };
			const told = await redis.eval(closeRoomScript, {
				keys: [
					redisKeys.rooms,
					redisKeys.roomKnocks(roomId),
					sfuCommandKeys.stream(room.sfuNode),
					...roomScopedKeys(roomId),
				],
				arguments: [
					roomId,
					redisKeys.knock(""),
					redisChannels.knock(""),
					JSON.stringify(guestEvent),
					...order.arguments,
					redisChannels.lobby(roomId),
					JSON.stringify(hostEvent),
				],
			});
			const log = { roomId, sfuNode: room.sfuNode, waitingGuests: told };
			const outcome = await outcomeOf(order.id);
			if (outcome === undefined) {
				request.log.warn(log, "admin: room closed in Redis; its node has not confirmed");
				throw nodeUnreachable(room.sfuNode, orderTimeoutSeconds, "the room's state is deleted");
			}
			request.log.info({ ...log, outcome }, "admin: room closed");
			// not-found: nobody was connected on the node, so deleting the state closed it.
			if (outcome === "closed" || outcome === "not-found") return reply.code(204).send();
			throw new HttpError(502, `SFU node ${room.sfuNode} could not close the room (${outcome}); its state is deleted`);
		},
	);

	app.delete<{ Params: PeerParams }>(
		"/api/admin/rooms/:roomId/peers/:peerId",
		{
			schema: {
				...admin,
				summary: "Kick a participant",
				description:
					"Revokes the peer's token until the room ends (it must knock again to return) and orders the SFU node to " +
					`remove it. Waits for the node's outcome for up to ${orderTimeoutSeconds} s: 204 once the peer is out, ` +
					"404 when the node does not have it in the call, 504 when the node did not answer in time (the order " +
					"stays queued and is carried out when it reconnects; the revocation already holds).",
				params: PeerParams,
				response: { 204: Type.Null(), ...orderErrors, ...authErrors },
			},
		},
		async (request, reply) => {
			const { roomId, peerId } = request.params;
			const room = await loadRoom(redis, roomId);
			if ((await redis.hExists(redisKeys.roomPeers(roomId), peerId)) !== 1) {
				throw new HttpError(404, "peer not in the room");
			}
			const command: SfuCommand = { type: "kick", roomId, peerId };
			const order = orderArguments(command);
			const kicked = await redis.eval(kickScript, {
				keys: [redisKeys.room(roomId), redisKeys.roomRevoked(roomId), sfuCommandKeys.stream(room.sfuNode)],
				arguments: [peerId, ...order.arguments],
			});
			if (kicked !== 1) throw roomNotFound();
			const log = { roomId, peerId, sfuNode: room.sfuNode };
			const outcome = await outcomeOf(order.id);
			if (outcome === undefined) {
				request.log.warn(log, "admin: peer revoked; its node has not confirmed the kick");
				throw nodeUnreachable(room.sfuNode, orderTimeoutSeconds, "the peer's token is already revoked");
			}
			request.log.info({ ...log, outcome }, "admin: peer kicked");
			if (outcome === "kicked") return reply.code(204).send();
			if (outcome === "not-found") {
				throw new HttpError(
					404,
					"peer not in the call on its SFU node (it may have just left); its token stays revoked",
				);
			}
			throw new HttpError(
				500,
				`SFU node ${room.sfuNode} could not kick the peer (${outcome}); its token stays revoked`,
			);
		},
	);
};
