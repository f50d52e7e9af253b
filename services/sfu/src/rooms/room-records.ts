/**
 * What the SFU writes to Redis about one open room: presence for admins, the
 * current host, revocations, and the lifetime of every room-scoped key.
 *
 * Writes are best-effort: a call in progress must not fail because Redis is
 * briefly away, so errors are logged and swallowed. The one exception is the
 * revocation a kick waits for, which still only logs (the kick goes ahead).
 */
import { type LobbyHostEvent, type RoomPresence, redisChannels, redisKeys, roomScopedKeys } from "@mindmeet/protocol";
import type { Logger } from "pino";

/** The Redis commands a room writes with; a node-redis client satisfies it. */
export interface RoomRecordStore {
	set(key: string, value: string, options: { expiration: "KEEPTTL" }): Promise<unknown>;
	hSet(key: string, field: string, value: string): Promise<unknown>;
	hDel(key: string, field: string): Promise<unknown>;
	sAdd(key: string, member: string): Promise<unknown>;
	pExpire(key: string, milliseconds: number): Promise<unknown>;
	publish(channel: string, message: string): Promise<unknown>;
}

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
