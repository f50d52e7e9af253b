/**
 * Rooms: create a room (placed on the least-loaded live SFU node) and read its
 * public facts. Guests get in through the lobby (../lobby), never from here.
 */
import {
	ApiError,
	CreateRoomRequest,
	CreateRoomResponse,
	RoomInfo,
	RoomParams,
	redisKeys,
	roomIdAlphabet,
	roomIdLength,
	type StoredRoom,
} from "@mindmeet/protocol";
import type { FastifyPluginAsync } from "fastify";
import { customAlphabet } from "nanoid";
import type { HostGate } from "../accounts/gate.ts";
import { limitPerClientAddress } from "../client-address.ts";
import { HttpError, malformedParamsAreNotFound } from "../http-errors.ts";
import type { RoomMetrics } from "../metrics/metrics.ts";
import type { ApiRedis } from "../redis.ts";
import { bearerToken } from "../room-auth.ts";
import { pickLeastLoadedNode, placeRoom, readNode, readRtpCapabilities } from "../sfu-nodes.ts";
import type { MintToken } from "../tokens.ts";
import { displayName, loadRoom, newPeerId, roomNotFound } from "./store.ts";

export interface RoomsPluginOptions {
	redis: ApiRedis;
	/** Signs media tokens (see tokens.ts). */
	mintToken: MintToken;
	/** Origin links are built from, without a trailing slash. */
	publicUrl: string;
	hostTokenTtl: number;
	/** Lifetime of a room nobody enters, seconds (the SFU manages it once people are in). */
	roomTtl: number;
	/** Who may create rooms (ROOM_CREATION) and checks their sign-in. */
	gate: HostGate;
	/** Rooms per minute from one client address (IPv6: one /64). */
	createRateLimit: number;
	/** Counts rooms created (see metrics/metrics.ts). */
	metrics?: RoomMetrics;
	/** SFU_NODE_STALE_SECONDS in ms; default the protocol's sfuNodeStaleMs. */
	sfuNodeStaleMs?: number;
}

const newRoomId = customAlphabet(roomIdAlphabet, roomIdLength);
const maxIdAttempts = 5;

/**
 * Reserve a room id and record who may act as host, in one step: a room never
 * exists without its host key (the lobby authorises admissions against it),
 * and both share the room's TTL like every room-scoped key.
 * KEYS: room, roomHost, rooms. ARGV: room JSON, host peer id, TTL seconds, room id.
 */
const createRoomScript = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[3]) then
	redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
	redis.call('SADD', KEYS[3], ARGV[4])
	return 1
end
return 0
`;

const errorResponses = { 400: ApiError, 404: ApiError, 413: ApiError, 415: ApiError, 503: ApiError };

export const roomsPlugin: FastifyPluginAsync<RoomsPluginOptions> = async (app, options) => {
	const { redis, mintToken, gate } = options;

	await limitPerClientAddress(app, "rooms created");

	// A room id that fails the params schema (too long) is just an unknown room.
	malformedParamsAreNotFound(app, roomNotFound);

	app.post<{ Body: CreateRoomRequest; Reply: CreateRoomResponse }>(
		"/api/rooms",
		{
			config: { rateLimit: { max: options.createRateLimit, timeWindow: 60_000 } },
			schema: {
				summary: "Create a room",
				description:
					"Places the room on the least-loaded live SFU node and returns its link and the host's token. A room nobody enters expires after ROOM_TTL seconds. " +
					"Unless ROOM_CREATION=open, needs `Authorization: Bearer <sign-in token>` from POST /api/session (401 without a valid one). " +
					"Rate-limited per client address (ROOM_CREATE_RATE_LIMIT per minute, IPv6 per /64; 429 beyond).",
				tags: ["rooms"],
				body: CreateRoomRequest,
				response: { 201: CreateRoomResponse, 401: ApiError, 429: ApiError, ...errorResponses },
			},
		},
		async (request, reply) => {
			const { account } = await gate.authorizeCreate(bearerToken(request.headers.authorization));
			const hostName = displayName(request.body.hostName, "hostName");
			const node = await pickLeastLoadedNode(redis, Date.now(), options.sfuNodeStaleMs);
			if (!node) throw new HttpError(503, "no media server is available, try again shortly");

			const peerId = newPeerId();
			let roomId: string | undefined;
			for (let attempt = 0; attempt < maxIdAttempts && roomId === undefined; attempt++) {
				const candidate = newRoomId();
				const room: StoredRoom = {
					id: candidate,
					mode: request.body.mode,
					hostName,
					createdAt: Date.now(),
					sfuNode: node.id,
					hostPeerId: peerId,
				};
				const reserved = await redis.eval(createRoomScript, {
					keys: [redisKeys.room(candidate), redisKeys.roomHost(candidate), redisKeys.rooms],
					arguments: [JSON.stringify(room), peerId, String(options.roomTtl), candidate],
				});
				if (reserved === 1) roomId = candidate;
			}
			if (roomId === undefined) {
				request.log.error({ attempts: maxIdAttempts }, "could not find a free room id");
				throw new HttpError(503, "could not allocate a room id, try again");
			}

			const token = await mintToken({
				room: roomId,
				peerId,
				name: hostName,
				role: "host",
				ttlSeconds: options.hostTokenTtl,
			});
			request.log.info({ roomId, sfuNode: node.id, mode: request.body.mode, account }, "room created");
			options.metrics?.roomCreated();
			return reply.code(201).send({ roomId, link: `${options.publicUrl}/r/${roomId}`, hostToken: token, peerId });
		},
	);

	app.get<{ Params: RoomParams; Reply: RoomInfo }>(
		"/api/rooms/:roomId",
		{
			schema: {
				summary: "Public facts about a room",
				description:
					"Mode and where the browser opens the SFU's signaling WebSocket: the room's node while it is live, otherwise " +
					"the least-loaded live node (the room is moved there). 404 for unknown or ended rooms.",
				tags: ["rooms"],
				params: RoomParams,
				response: { 200: RoomInfo, ...errorResponses },
			},
		},
		async (request) => {
			const room = await loadRoom(redis, request.params.roomId);
			// A room whose node died is placed again on a live one, the same way the signaling proxy does, so the
			// browser is sent where its media will be.
			const placement = await placeRoom(redis, room.id, room.sfuNode, Date.now(), options.sfuNodeStaleMs);
			if (placement.node && placement.movedFrom !== undefined) {
				request.log.info({ roomId: room.id, from: placement.movedFrom, to: placement.node.id }, "room re-placed");
			}
			// No live node right now: still the recorded node's address, so the page loads and its socket retries
			// (the proxy answers 1013 until a node is live, then re-places the room).
			const node = placement.node ?? (await readNode(redis, room.sfuNode));
			const nodeId = placement.node?.id ?? room.sfuNode;
			// So the guest's browser loads its media device while it waits to be let in (none: it asks the SFU later).
			const routerRtpCapabilities = await readRtpCapabilities(redis, nodeId);
			return {
				roomId: room.id,
				mode: room.mode,
				sfuUrl: node?.publicUrl ?? `/sfu/${encodeURIComponent(nodeId)}`,
				...(routerRtpCapabilities ? { routerRtpCapabilities } : {}),
			};
		},
	);
};
