/**
 * Redis key layout: the contract between the API and the SFU, which share no
 * code besides this package. All keys live under one prefix so an operator
 * can point several deployments at one Redis.
 */
export const redisKeys = {
	/** JSON StoredRoom, with a TTL while nobody is in the call. */
	room: (roomId: string) => `mm:room:${roomId}`,
	/** Set of ids of rooms that exist, for admin listings. */
	rooms: "mm:rooms",
	/** Public JWK (JSON) of a token signing key, by key id; expires after the longest token it can sign. */
	tokenKey: (kid: string) => `mm:token-key:${kid}`,
	/** Hash nodeId → JSON SfuNodeStatus. */
	sfuNodes: "mm:sfu:nodes",
} as const;

export interface StoredRoom {
	id: string;
	mode: "video" | "audio";
	hostName: string;
	createdAt: number;
	/** SFU node the room is placed on. */
	sfuNode: string;
}

/** What an SFU node publishes about itself every few seconds. */
export interface SfuNodeStatus {
	id: string;
	/** ws:// URL the API can reach the node's protoo server on. */
	signalingUrl: string;
	/** Optional ws(s):// URL browsers reach directly; otherwise they go through the API's /sfu/:nodeId proxy. */
	publicUrl?: string;
	/** Peers currently connected on the node. */
	peers: number;
	rooms: number;
	workers: number;
	/** Epoch ms of the last heartbeat. */
	heartbeatAt: number;
}

/** A node whose heartbeat is older than this is treated as gone. */
export const sfuNodeStaleMs = 15_000;
