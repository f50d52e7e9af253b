/**
 * What the SFU writes to Redis about one open room: presence for admins, the
 * current host, revocations, chat history, and the lifetime of every
 * room-scoped key.
 *
 * Writes are best-effort: a call in progress must not fail because Redis is
 * briefly away, so errors are logged and swallowed. The one exception is the
 * revocation a kick waits for, which still only logs (the kick goes ahead).
 */
import {
	type ChatMessage,
	type LobbyHostEvent,
	limits,
	type RoomPresence,
	redisChannels,
	redisKeys,
	roomScopedKeys,
} from "@mindmeet/protocol";
import type { Logger } from "pino";
import { parseStoredChatMessage } from "./chat.ts";

/** The Redis commands a room writes with; a node-redis client satisfies it. */
export interface RoomRecordStore {
	set(key: string, value: string, options: { expiration: "KEEPTTL" }): Promise<unknown>;
	hSet(key: string, field: string, value: string): Promise<unknown>;
	hDel(key: string, field: string): Promise<unknown>;
	sAdd(key: string, member: string): Promise<unknown>;
	pExpire(key: string, milliseconds: number): Promise<unknown>;
	publish(channel: string, message: string): Promise<unknown>;
	lRange(key: string, start: number, stop: number): Promise<string[]>;
	eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/**
 * Append, keep only the newest entries, and set the TTL in one step: a list
 * that RPUSH just created has no TTL, and must never be left that way.
 */
const appendChatScript = `
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

export interface RoomLifetimes {
	/** TTL of the room's keys while anyone is in it. */
	occupiedTtlMs: number;
	/** TTL of the room's keys after the last peer left. */
	graceMs: number;
}

export class RoomRecords {
	readonly #store: RoomRecordStore;
	readonly #roomId: string;
	readonly #lifetimes: RoomLifetimes;
	readonly #logger: Logger;

	constructor(options: { store: RoomRecordStore; roomId: string; lifetimes: RoomLifetimes; logger: Logger }) {
		this.#store = options.store;
		this.#roomId = options.roomId;
		this.#lifetimes = options.lifetimes;
		this.#logger = options.logger;
	}

	/** Someone is in the room: keep everything stored for it alive for another occupied TTL. */
	occupied(): Promise<void> {
		return this.#expireAll(this.#lifetimes.occupiedTtlMs, "refresh room lifetime");
	}

	/** The last peer left: the room may be re-entered during the grace period, then Redis drops it. */
	vacated(): Promise<void> {
		return this.#expireAll(this.#lifetimes.graceMs, "start room grace period");
	}

	writePresence(presence: RoomPresence): void {
		const key = redisKeys.roomPeers(this.#roomId);
		void this.#attempt("write presence", async () => {
			await this.#store.hSet(key, presence.peerId, JSON.stringify(presence));
			// The API may have deleted the room meanwhile: never leave a key without a TTL.
			await this.#store.pExpire(key, this.#lifetimes.occupiedTtlMs);
		});
	}

	removePresence(peerId: string): void {
		void this.#attempt("remove presence", () => this.#store.hDel(redisKeys.roomPeers(this.#roomId), peerId));
	}

	/** Refuse this peer id's tokens until the room ends. Resolves once Redis has it (or failed). */
	revoke(peerId: string): Promise<void> {
		const key = redisKeys.roomRevoked(this.#roomId);
		return this.#attempt("record revocation", async () => {
			await this.#store.sAdd(key, peerId);
			// The set dies with the room; the room is occupied while someone can be kicked.
			await this.#store.pExpire(key, this.#lifetimes.occupiedTtlMs);
		});
	}

	/** Record the new host for the API, then tell the API's lobby sockets. */
	hostChanged(peerId: string): Promise<void> {
		const key = redisKeys.roomHost(this.#roomId);
		const event: LobbyHostEvent = { type: "host-changed", peerId };
		return this.#attempt("record host change", async () => {
			await this.#store.set(key, peerId, { expiration: "KEEPTTL" });
			// KEEPTTL keeps "no TTL" if the key was missing; the room is occupied, so give it that TTL.
			await this.#store.pExpire(key, this.#lifetimes.occupiedTtlMs);
			await this.#store.publish(redisChannels.lobby(this.#roomId), JSON.stringify(event));
		});
	}

	/**
	 * Add a message to the room's history, bounded to the newest
	 * `limits.chatHistoryMax`. The room is occupied while someone can send,
	 * so the list gets the occupied TTL; heartbeats and the grace period then
	 * move it with every other room key. Resolves once stored or failed:
	 * history is best-effort, the message is delivered either way.
	 */
	appendChat(message: ChatMessage): Promise<void> {
		return this.#attempt("store a chat message", () =>
			this.#store.eval(appendChatScript, {
				keys: [redisKeys.roomChat(this.#roomId)],
				arguments: [JSON.stringify(message), String(limits.chatHistoryMax), String(this.#lifetimes.occupiedTtlMs)],
			}),
		);
	}

	/** The stored history, oldest first, malformed entries skipped; empty if Redis cannot be read. */
	async chatHistory(): Promise<ChatMessage[]> {
		let entries: string[];
		try {
			entries = await this.#store.lRange(redisKeys.roomChat(this.#roomId), 0, -1);
		} catch (error) {
			this.#logger.warn({ err: error }, "could not read chat history from Redis; joining without it");
			return [];
		}
		const messages: ChatMessage[] = [];
		let skipped = 0;
		for (const entry of entries) {
			const message = parseStoredChatMessage(entry);
			if (message) messages.push(message);
			else skipped++;
		}
		// Count only: the entry may be someone's text.
		if (skipped > 0) this.#logger.warn({ skipped }, "skipped malformed chat history entries");
		return messages;
	}

	#expireAll(ttlMs: number, what: string): Promise<void> {
		// PEXPIRE is a no-op on keys that do not exist, so absent optional keys stay absent.
		return this.#attempt(what, async () => {
			await Promise.all(roomScopedKeys(this.#roomId).map((key) => this.#store.pExpire(key, ttlMs)));
		});
	}

	async #attempt(what: string, write: () => Promise<unknown>): Promise<void> {
		try {
			await write();
		} catch (error) {
			this.#logger.warn({ err: error }, `could not ${what} in Redis`);
		}
	}
}
