/**
 * Rooms: create a room (placed on the least-loaded live SFU node), read its
 * public facts, and — for now — let a guest join directly.
 */
import {
	ApiError,
	CreateRoomRequest,
	CreateRoomResponse,
	JoinRoomRequest,
	JoinRoomResponse,
	limits,
	normalizeName,
	RoomInfo,
	RoomParams,
	redisKeys,
	roomIdAlphabet,
	roomIdLength,
	type StoredRoom,
} from "@mindmeet/protocol";
import type { FastifyError, FastifyPluginAsync } from "fastify";
import { customAlphabet, nanoid } from "nanoid";
import { HttpError } from "../http-errors.ts";
import type { ApiRedis } from "../redis.ts";
import { pickLeastLoadedNode, readNode } from "../sfu-nodes.ts";
import type { MintToken } from "../tokens.ts";

export interface RoomsPluginOptions {
	redis: ApiRedis;
	/** Signs media tokens (see tokens.ts). */
	mintToken: MintToken;
	/** Origin links are built from, without a trailing slash. */
	publicUrl: string;
	guestTokenTtl: number;
	hostTokenTtl: number;
	roomTtl: number;
}

const newRoomId = customAlphabet(roomIdAlphabet, roomIdLength);
const newPeerId = () => nanoid(12);
const roomIdPattern = new RegExp(`^[${roomIdAlphabet}]{${roomIdLength}}$`);
const maxIdAttempts = 5;

/** Trim and check a display name; `field` names it in the error. */
function displayName(raw: string, field: string): string {
	const name = normalizeName(raw);
	if (name.length === 0) throw new HttpError(400, `${field} must not be empty or only spaces`);
	if ([...name].length > limits.nameMaxLength) {
		throw new HttpError(400, `${field} must be at most ${limits.nameMaxLength} characters`);
	}
	return name;
}

function roomNotFound(): HttpError {
	return new HttpError(404, "room not found");
}

function parseStoredRoom(json: string | null): StoredRoom | undefined {
	if (!json) return undefined;
	try {
		const value = JSON.parse(json) as Partial<StoredRoom> | null;
		if (
			typeof value?.id === "string" &&
			(value.mode === "video" || value.mode === "audio") &&
			typeof value.sfuNode === "string" &&
			typeof value.hostName === "string" &&
			typeof value.createdAt === "number"
		) {
			return value as StoredRoom;
		}
	} catch {
		// falls through: a record we cannot read is a room we cannot serve
	}
	return undefined;
}

const errorResponses = { 400: ApiError, 404: ApiError, 413: ApiError, 415: ApiError, 503: ApiError };

export const roomsPlugin: FastifyPluginAsync<RoomsPluginOptions> = async (app, options) => {
	const { redis, mintToken } = options;

	/** The room, or 404 without saying whether the id was malformed or simply unknown. */
	async function loadRoom(roomId: string): Promise<StoredRoom> {
		if (!roomIdPattern.test(roomId)) throw roomNotFound();
		const room = parseStoredRoom(await redis.get(redisKeys.room(roomId)));
		if (!room) throw roomNotFound();
		return room;
	}

	// A room id that fails the params schema (too long) is just an unknown room.
	app.setErrorHandler((error: FastifyError, _request, _reply) => {
		if (error.validationContext === "params") throw roomNotFound();
		throw error;
	});

	app.post<{ Body: CreateRoomRequest; Reply: CreateRoomResponse }>(
		"/api/rooms",
		{
			schema: {
				body: CreateRoomRequest,
				response: { 201: CreateRoomResponse, ...errorResponses },
			},
		},
		async (request, reply) => {
			const hostName = displayName(request.body.hostName, "hostName");
			const node = await pickLeastLoadedNode(redis);
			if (!node) throw new HttpError(503, "no media server is available, try again shortly");

			let roomId: string | undefined;
			for (let attempt = 0; attempt < maxIdAttempts && roomId === undefined; attempt++) {
				const candidate = newRoomId();
				const room: StoredRoom = {
					id: candidate,
					mode: request.body.mode,
					hostName,
					createdAt: Date.now(),
					sfuNode: node.id,
				};
				const reserved = await redis.set(redisKeys.room(candidate), JSON.stringify(room), {
					condition: "NX",
					expiration: { type: "EX", value: options.roomTtl },
				});
				if (reserved !== null) roomId = candidate;
			}
			if (roomId === undefined) {
				request.log.error({ attempts: maxIdAttempts }, "could not find a free room id");
				throw new HttpError(503, "could not allocate a room id, try again");
			}
			await redis.sAdd(redisKeys.rooms, roomId);

			const peerId = newPeerId();
			const token = await mintToken({
				room: roomId,
				peerId,
				name: hostName,
				role: "host",
				ttlSeconds: options.hostTokenTtl,
			});
			request.log.info({ roomId, sfuNode: node.id, mode: request.body.mode }, "room created");
			return reply.code(201).send({ roomId, link: `${options.publicUrl}/r/${roomId}`, hostToken: token, peerId });
		},
	);

	app.get<{ Params: RoomParams; Reply: RoomInfo }>(
		"/api/rooms/:roomId",
		{
			schema: {
				params: RoomParams,
				response: { 200: RoomInfo, ...errorResponses },
			},
		},
		async (request) => {
			const room = await loadRoom(request.params.roomId);
			const node = await readNode(redis, room.sfuNode);
			return {
				roomId: room.id,
				mode: room.mode,
				sfuUrl: node?.publicUrl ?? `/sfu/${encodeURIComponent(room.sfuNode)}`,
			};
		},
	);

	// TEMPORARY: a guest joins directly. The lobby (knock → host admits) replaces this route.
	app.post<{ Params: RoomParams; Body: JoinRoomRequest; Reply: JoinRoomResponse }>(
		"/api/rooms/:roomId/join",
		{
			schema: {
				params: RoomParams,
				body: JoinRoomRequest,
				response: { 200: JoinRoomResponse, ...errorResponses },
			},
		},
		async (request) => {
			const name = displayName(request.body.name, "name");
			const room = await loadRoom(request.params.roomId);
			const peerId = newPeerId();
			const token = await mintToken({
				room: room.id,
				peerId,
				name,
				role: "guest",
				ttlSeconds: options.guestTokenTtl,
			});
			request.log.info({ roomId: room.id }, "guest joined directly");
			return { token, peerId };
		},
	);
};
