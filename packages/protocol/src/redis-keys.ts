/**
 * Redis key layout: the contract between the API and the SFU, which share no
 * code besides this package. All keys live under one prefix so an operator
 * can point several deployments at one Redis.
 *
 * Every JSON record is declared as a TypeBox schema: readers validate what
 * they read with it (`parseRecord` from "@mindmeet/protocol/records"), since
 * Redis is shared and outlives versions of the code. The schemas allow
 * unknown extra fields, so a newer or older process may add some.
 */
import { type Static, Type } from "@sinclair/typebox";
import { PeerRole, RoomMode } from "./api.ts";
import { MediaSource } from "./signaling.ts";

export const redisKeys = {
	/**
	 * JSON StoredRoom. Its TTL is the room's lifetime: set at creation (a room
	 * nobody enters expires), kept short and refreshed by the SFU while people
	 * are in the call, and set to the grace period when the last one leaves.
	 * Every other `mm:room:<id>:*` key follows the same TTL (see roomScopedKeys).
	 */
	room: (roomId: string) => `mm:room:${roomId}`,
	/** Peer id of the current host (string). Changes on handover; the API authorises host actions against it. */
	roomHost: (roomId: string) => `mm:room:${roomId}:host`,
	/** Hash peerId → JSON RoomPresence: who is in the call now, maintained by the SFU. */
	roomPeers: (roomId: string) => `mm:room:${roomId}:peers`,
	/** Set of peer ids that were kicked: their tokens are refused until the room ends. */
	roomRevoked: (roomId: string) => `mm:room:${roomId}:revoked`,
	/** Sorted set of pending knock ids, scored by knock time (the host's queue). */
	roomKnocks: (roomId: string) => `mm:room:${roomId}:knocks`,
	/** List of JSON ChatMessage, newest last, bounded. */
	roomChat: (roomId: string) => `mm:room:${roomId}:chat`,
	/** JSON StoredKnock, with a TTL of the knock timeout. */
	knock: (knockId: string) => `mm:knock:${knockId}`,
	/** Set of ids of rooms that exist, for admin listings. */
	rooms: "mm:rooms",
	/** Public JWK (JSON) of a token signing key, by key id; expires after the longest token it can sign. */
	tokenKey: (kid: string) => `mm:token-key:${kid}`,
	/** Hash nodeId → JSON SfuNodeStatus. */
	sfuNodes: "mm:sfu:nodes",
	/** JSON StoredAccount (a host who may create rooms in `accounts` mode), by account name. */
	account: (name: string) => `mm:account:${name}`,
	/** Set of account names, for admin listings. */
	accounts: "mm:accounts",
	/** JSON StoredHostSession, by sha-256 hex of the host's sign-in token; expires with the session. */
	hostSession: (tokenHash: string) => `mm:host-session:${tokenHash}`,
} as const;

/** Every key that lives and dies with a room (the knock records expire on their own). */
export function roomScopedKeys(roomId: string): string[] {
	return [
		redisKeys.room(roomId),
		redisKeys.roomHost(roomId),
		redisKeys.roomPeers(roomId),
		redisKeys.roomRevoked(roomId),
		redisKeys.roomKnocks(roomId),
		redisKeys.roomChat(roomId),
	];
}

/** Redis pub/sub channels. Messages are JSON. */
export const redisChannels = {
	/** LobbyHostEvent for whoever is host of the room (API WebSockets listen). */
	lobby: (roomId: string) => `mm:events:lobby:${roomId}`,
	/** LobbyGuestEvent for the guest who knocked (API WebSockets listen). */
	knock: (knockId: string) => `mm:events:knock:${knockId}`,
	/** SfuCommand for one SFU node (the node listens). */
	sfuNode: (nodeId: string) => `mm:events:sfu:${nodeId}`,
} as const;

/** Ids in orders: what the API checked before queueing them (room ids, peer ids of at most 64 characters). */
const CommandId = Type.String({ minLength: 1, maxLength: 64 });

/** Orders the API gives an SFU node (admin actions). */
export const SfuCommand = Type.Union([
	Type.Object({ type: Type.Literal("kick"), roomId: CommandId, peerId: CommandId }),
	Type.Object({ type: Type.Literal("close-room"), roomId: CommandId }),
]);
export type SfuCommand = Static<typeof SfuCommand>;

/**
 * Admin orders travel on a Redis stream per node instead of pub/sub, so an
 * order given while the node's connection is down waits for it. The API adds
 * entries with fields `id` (the order's id), `command` (JSON SfuCommand) and
 * `at` (epoch ms); the node reads them in consumer group `sfuCommandGroup`,
 * writes the outcome under `sfuCommandOutcome(id)` and acknowledges.
 */
export const sfuCommandKeys = {
	/** Stream of orders for one node, trimmed to about `sfuCommandStreamMaxLen` entries. */
	stream: (nodeId: string) => `mm:sfu:commands:${nodeId}`,
	/** SfuCommandOutcome (string) of one order, kept `sfuCommandOutcomeTtlSeconds`; the API polls it. */
	outcome: (commandId: string) => `mm:sfu:command:${commandId}:outcome`,
} as const;
export const sfuCommandGroup = "sfu";
export const sfuCommandStreamMaxLen = 1000;
export const sfuCommandOutcomeTtlSeconds = 600;
/** An order older than this when a node finally reads it is dropped (outcome "expired"): nobody waits for it any more. */
export const sfuCommandMaxAgeMs = 10 * 60_000;
/**
 * kicked/closed: done; not-found: the node has no such open room or peer;
 * expired: read too late, not carried out; failed: the node tried and failed (see its log).
 */
export type SfuCommandOutcome = "kicked" | "closed" | "not-found" | "expired" | "failed";

/** Ids, names and other strings the writers never leave empty. */
const NonEmpty = Type.String({ minLength: 1 });
/** Counts the SFU publishes. */
const Count = Type.Integer({ minimum: 0 });

/** One person in the call, as the SFU publishes it for the API and admins. */
export const RoomPresence = Type.Object({
	peerId: NonEmpty,
	name: Type.String(),
	role: PeerRole,
	/** Epoch ms when the peer joined the call. */
	joinedAt: Type.Number(),
	producers: Type.Array(
		Type.Object({
			id: NonEmpty,
			kind: Type.Union([Type.Literal("audio"), Type.Literal("video")]),
			source: MediaSource,
			paused: Type.Boolean(),
		}),
	),
});
export type RoomPresence = Static<typeof RoomPresence>;

export const StoredKnock = Type.Object({
	id: NonEmpty,
	roomId: NonEmpty,
	name: NonEmpty,
	/** Epoch ms. */
	createdAt: Type.Number(),
	expiresAt: Type.Number(),
	status: Type.Union([
		Type.Literal("pending"),
		Type.Literal("admitted"),
		Type.Literal("denied"),
		Type.Literal("cancelled"),
		Type.Literal("expired"),
	]),
	/** sha-256 hex of the secret the knocking browser holds; only it may wait on or cancel the knock. */
	secretHash: NonEmpty,
});
export type StoredKnock = Static<typeof StoredKnock>;

export const StoredRoom = Type.Object({
	id: NonEmpty,
	mode: RoomMode,
	hostName: NonEmpty,
	createdAt: Type.Number(),
	/** SFU node the room is placed on. */
	sfuNode: NonEmpty,
	/**
	 * Peer id the room was created for (the first host). Absent in records
	 * written before it existed: those are still served, the host key is what
	 * authorises.
	 */
	hostPeerId: Type.Optional(NonEmpty),
});
export type StoredRoom = Static<typeof StoredRoom>;

/** What an SFU node publishes about itself every few seconds. */
export const SfuNodeStatus = Type.Object({
	id: NonEmpty,
	/** ws:// URL the API can reach the node's protoo server on. */
	signalingUrl: NonEmpty,
	/** Optional ws(s):// URL browsers reach directly; otherwise they go through the API's /sfu/:nodeId proxy. */
	publicUrl: Type.Optional(NonEmpty),
	/** Peers currently connected on the node. */
	peers: Count,
	rooms: Count,
	workers: Count,
	/** Epoch ms of the last heartbeat. */
	heartbeatAt: Type.Number(),
});
export type SfuNodeStatus = Static<typeof SfuNodeStatus>;

/** A node whose heartbeat is older than this is treated as gone. */
export const sfuNodeStaleMs = 15_000;

/** A host account. Only the scrypt hash of its password is stored. */
export const StoredAccount = Type.Object({
	name: NonEmpty,
	/** `scrypt$<N>$<r>$<p>$<salt b64url>$<hash b64url>`: the parameters travel with the hash. */
	passwordHash: NonEmpty,
	/** Epoch ms. */
	createdAt: Type.Number(),
	/** Random; changes when the password is reset, which ends every session signed in with the old one. */
	epoch: NonEmpty,
});
export type StoredAccount = Static<typeof StoredAccount>;

/** A host's sign-in, valid only while the mode (and, for accounts, the account's epoch) still matches. */
export const StoredHostSession = Type.Object({
	mode: Type.Union([Type.Literal("password"), Type.Literal("accounts")]),
	/** Account name (accounts mode). */
	name: Type.Optional(NonEmpty),
	/** The account's epoch, or the team password's fingerprint, at sign-in. */
	epoch: NonEmpty,
	/** Epoch ms. */
	expiresAt: Type.Number(),
});
export type StoredHostSession = Static<typeof StoredHostSession>;

/**
 * Guests the host admitted who may not be in the call yet: a sorted set of
 * peer ids scored by admission time (epoch ms), written and read by the API
 * only, so a place given away counts as taken until its guest arrives (their
 * id shows in `redisKeys.roomPeers`) or `admittedHoldMs` has passed. Outside
 * the `mm:room:<id>:*` keys on purpose: it expires on its own, like the
 * knock records, instead of following the room's TTL.
 */
export const roomAdmittedKey = (roomId: string) => `mm:admitted:${roomId}`;
/** How long an admitted guest's place is held for them before they are in the call. */
export const admittedHoldMs = 30_000;
