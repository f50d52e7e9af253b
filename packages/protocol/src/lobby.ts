/**
 * The lobby: a guest knocks over HTTP, then waits on a WebSocket for the
 * host's answer; the host hears knocks on its own WebSocket. Both sockets
 * are served by the API and fed by Redis pub/sub, so any API instance can
 * serve either side.
 */
import { type Static, Type } from "@sinclair/typebox";
import { DisplayName } from "./api.ts";

export const KnockRequest = Type.Object({ name: DisplayName }, { additionalProperties: false });
export type KnockRequest = Static<typeof KnockRequest>;

export const KnockResponse = Type.Object({
	knockId: Type.String(),
	/** Only the knocking browser has it: it waits on and cancels the knock with it. */
	knockSecret: Type.String(),
	/** Epoch ms when an unanswered knock expires. */
	expiresAt: Type.Integer(),
});
export type KnockResponse = Static<typeof KnockResponse>;

export const KnockParams = Type.Object({
	roomId: Type.String({ maxLength: 64 }),
	knockId: Type.String({ maxLength: 64 }),
});
export type KnockParams = Static<typeof KnockParams>;

/** What the host sees of a knock. */
export const KnockInfo = Type.Object({
	id: Type.String({ minLength: 1 }),
	name: Type.String({ minLength: 1 }),
	createdAt: Type.Number(),
	expiresAt: Type.Number(),
});
export type KnockInfo = Static<typeof KnockInfo>;

/** Why a knock left the host's queue. */
export const KnockEnd = Type.Union([
	Type.Literal("admitted"),
	Type.Literal("denied"),
	Type.Literal("cancelled"),
	Type.Literal("expired"),
]);
export type KnockEnd = Static<typeof KnockEnd>;

/**
 * Messages on the host's lobby WebSocket (`GET /api/rooms/:roomId/lobby?token=<host token>`),
 * and on the room's lobby channel in Redis (all but `knocks`), which the API validates with this schema.
 */
export const LobbyHostEvent = Type.Union([
	/** Sent first on connect: every pending knock, oldest first. */
	Type.Object({ type: Type.Literal("knocks"), knocks: Type.Array(KnockInfo) }),
	Type.Object({ type: Type.Literal("knock"), knock: KnockInfo }),
	Type.Object({ type: Type.Literal("knock-ended"), knockId: Type.String({ minLength: 1 }), end: KnockEnd }),
	/** The host role moved; sockets of anyone else are closed after this. */
	Type.Object({ type: Type.Literal("host-changed"), peerId: Type.String({ minLength: 1 }) }),
	Type.Object({ type: Type.Literal("room-closed") }),
]);
export type LobbyHostEvent = Static<typeof LobbyHostEvent>;

/**
 * Messages on the guest's waiting WebSocket (`GET /api/rooms/:roomId/knocks/:knockId/wait?secret=…`),
 * and on the knock's channel in Redis (all but `waiting`), which the API validates with this schema.
 */
export const LobbyGuestEvent = Type.Union([
	Type.Object({ type: Type.Literal("waiting"), expiresAt: Type.Number() }),
	Type.Object({
		type: Type.Literal("admitted"),
		token: Type.String({ minLength: 1 }),
		peerId: Type.String({ minLength: 1 }),
	}),
	Type.Object({ type: Type.Literal("denied") }),
	Type.Object({ type: Type.Literal("expired") }),
	Type.Object({ type: Type.Literal("room-closed") }),
]);
export type LobbyGuestEvent = Static<typeof LobbyGuestEvent>;

/** WebSocket close codes the API uses on lobby sockets. */
export const lobbyCloseCodes = {
	/** Normal end: the knock was answered or the room closed (after the last event). */
	done: 1000,
	unauthorized: 4401,
	forbidden: 4403,
	notFound: 4404,
} as const;

/**
 * The `code` of the API's 409 answer when the room has no place for one more
 * person (ROOM_MAX_PEERS, with one place kept for a host who is away and
 * admitted guests on their way counted in): a new knock is refused at once;
 * an admit is refused and the knock stays pending, so the host can admit it
 * once someone leaves, or deny it.
 */
export const lobbyRoomFullCode = "room-full";
