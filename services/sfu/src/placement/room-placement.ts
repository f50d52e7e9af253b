/**
 * One room, one node. The room's Redis record names the node it is placed on
 * (`StoredRoom.sfuNode`): that is the room's lock. The API writes it when it
 * creates the room and changes it only with a compare-and-set, and only when
 * the named node's heartbeat has gone stale (services/api/src/sfu-nodes.ts
 * placeRoom). The lock is a lease: a node that was slow or cut off from Redis
 * long enough may find, once it is back, that its room now lives elsewhere.
 *
 * So this node serves a room only while the record names it:
 * - at the door, a connection for a room whose record names another node is
 *   turned away as "unavailable" (HTTP 503, the client keeps its credentials
 *   and retries; through the API's proxy the retry goes where the record says),
 *   never by opening a second copy of the room here;
 * - on each heartbeat, a room open here whose record names another node is
 *   given up: its connections are dropped as a crash would drop them (the
 *   clients reconnect, through the proxy, to the room's node) and this node
 *   stops writing the room's keys, which are the other node's now.
 *
 * No record (Redis lost it, or the room ended) or no answer from Redis is not
 * a verdict: the room's open and the re-assertion of lost rooms decide those,
 * and a room open here keeps serving while Redis is away.
 */
import { redisKeys, StoredRoom } from "@mindmeet/protocol";
import { parseRecord } from "@mindmeet/protocol/records";
import type { Logger } from "pino";

/** The one Redis command this needs; a node-redis client satisfies it. */
export interface PlacementStore {
	get(key: string): Promise<string | null>;
}

export class RoomPlacement {
	readonly #store: PlacementStore;
	readonly #nodeId: string;
	readonly #logger: Logger;

	constructor(options: { store: PlacementStore; nodeId: string; logger: Logger }) {
		this.#store = options.store;
		this.#nodeId = options.nodeId;
		this.#logger = options.logger;
	}

	/**
	 * The node the room's record names when that is not this node; undefined
	 * when it names this node or cannot tell (no record, an unreadable record,
	 * Redis unreachable).
	 */
	async elsewhere(roomId: string): Promise<string | undefined> {
		let json: string | null;
		try {
			json = await this.#store.get(redisKeys.room(roomId));
		} catch (error) {
			this.#logger.debug({ room: roomId, err: error }, "could not read the room's placement; not a verdict");
			return undefined;
		}
		const node = recordedNode(json);
		return node !== undefined && node !== this.#nodeId ? node : undefined;
	}
}

/** The `sfuNode` of a StoredRoom JSON; undefined when there is none or the record is not a StoredRoom. */
export function recordedNode(json: string | null | undefined): string | undefined {
	return parseRecord(StoredRoom, json)?.sfuNode;
}
