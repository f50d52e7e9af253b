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
export interface KnockInfo {
	id: string;
	name: string;
	createdAt: number;
	expiresAt: number;
}

/** Why a knock left the host's queue. */
export type KnockEnd = "admitted" | "denied" | "cancelled" | "expired";

/** Messages on the host's lobby WebSocket (`GET /api/rooms/:roomId/lobby?token=<host token>`). */
export type LobbyHostEvent =
	/** Sent first on connect: every pending knock, oldest first. */
	| { type: "knocks"; knocks: KnockInfo[] }
	| { type: "knock"; knock: KnockInfo }
	| { type: "knock-ended"; knockId: string; end: KnockEnd }
	/** The host role moved; sockets of anyone else are closed after this. */
	| { type: "host-changed"; peerId: string }
	| { type: "room-closed" };

/** Messages on the guest's waiting WebSocket (`GET /api/rooms/:roomId/knocks/:knockId/wait?secret=…`). */
export type LobbyGuestEvent =
	| { type: "waiting"; expiresAt: number }
	| { type: "admitted"; token: string; peerId: string }
	| { type: "denied" }
	| { type: "expired" }
	| { type: "room-closed" };

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
