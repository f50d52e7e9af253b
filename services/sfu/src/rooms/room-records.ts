/**
 * What the SFU writes to Redis about one open room: presence for admins, the
 * current host, revocations, chat history, and the lifetime of every
 * room-scoped key.
 *
 * It also keeps all of that in memory for as long as the room is open here:
 * the room record as read at open, the host, the revoked peer ids, the chat
 * history and the presence. The node holding a room is the only writer of
 * these keys, so memory is the truth and Redis a copy; when Redis comes back
 * empty (a restart without persistence), `reassert` writes the copy again,
 * and the door checks revocations here first, so a kicked peer stays out
 * while Redis is away.
 *
 * Writes are best-effort: a call in progress must not fail because Redis is
 * briefly away, so errors are logged and swallowed.
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

/** The Redis commands a room reads and writes with; a node-redis client satisfies it. */
export interface RoomRecordStore {
	get(key: string): Promise<string | null>;
	set(key: string, value: string, options: { expiration: "KEEPTTL" }): Promise<unknown>;
	hSet(key: string, field: string, value: string): Promise<unknown>;
	hDel(key: string, field: string): Promise<unknown>;
	sAdd(key: string, member: string): Promise<unknown>;
	sMembers(key: string): Promise<string[]>;
	exists(key: string): Promise<number>;
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

/**
 * Write everything the node holds for a room, only if the room record is
 * missing (checked in the script, so two re-assertions, or one racing the
 * API, cannot interleave). KEYS: room, host, peers, revoked, chat, rooms set.
 * ARGV: ttl ms, room id, room JSON, host ('' for none), then three counted
 * lists: revoked ids; presence field/value pairs; chat entries, oldest first.
 */
const reassertScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local ttl = ARGV[1]
redis.call('SET', KEYS[1], ARGV[3], 'PX', ttl)
if ARGV[4] ~= '' then redis.call('SET', KEYS[2], ARGV[4], 'PX', ttl) end
redis.call('DEL', KEYS[3], KEYS[4], KEYS[5])
local i = 5
local n = tonumber(ARGV[i]); i = i + 1
for j = 1, n do redis.call('SADD', KEYS[4], ARGV[i]); i = i + 1 end
n = tonumber(ARGV[i]); i = i + 1
for j = 1, n do redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]); i = i + 2 end
n = tonumber(ARGV[i]); i = i + 1
for j = 1, n do redis.call('RPUSH', KEYS[5], ARGV[i]); i = i + 1 end
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('PEXPIRE', KEYS[4], ttl)
redis.call('PEXPIRE', KEYS[5], ttl)
redis.call('SADD', KEYS[6], ARGV[2])
return 1
`;

/** Delete a room's keys (KEYS but the last) and its entry in the rooms set (the last key). */
const retireScript = `
redis.call('DEL', unpack(KEYS, 1, #KEYS - 1))
redis.call('SREM', KEYS[#KEYS], ARGV[1])
return 1
`;

export interface RoomLifetimes {
	/** TTL of the room's keys while anyone is in it. */
	occupiedTtlMs: number;
	/** TTL of the room's keys after the last peer left. */
	graceMs: number;
}

interface RoomRecordsOptions {
	store: RoomRecordStore;
	roomId: string;
	lifetimes: RoomLifetimes;
	logger: Logger;
}

/** What Redis held for the room when it opened here. */
interface LoadedRoom {
	storedJson: string;
	host: string | undefined;
	revoked: string[];
	chat: ChatMessage[];
}

export class RoomRecords {
	readonly #store: RoomRecordStore;
	readonly #roomId: string;
	readonly #lifetimes: RoomLifetimes;
	readonly #logger: Logger;
	/** The StoredRoom JSON as read at open, written back as is. */
	readonly #storedJson: string;
	#host: string | undefined;
	readonly #revoked: Set<string>;
	/** Oldest first, at most limits.chatHistoryMax. */
	readonly #chat: ChatMessage[];
	readonly #presence = new Map<string, RoomPresence>();
	#reasserting: Promise<void> | undefined;
	/** The room was ended on purpose: Redis lost nothing, so nothing is written back. */
	#retired = false;
	/** The room lives on another node now: nothing at all is written (see relinquish). */
	#relinquished = false;

	private constructor(options: RoomRecordsOptions, loaded: LoadedRoom) {
		this.#store = options.store;
		this.#roomId = options.roomId;
		this.#lifetimes = options.lifetimes;
		this.#logger = options.logger;
		this.#storedJson = loaded.storedJson;
		this.#host = loaded.host;
		this.#revoked = new Set(loaded.revoked);
		this.#chat = loaded.chat.slice(-limits.chatHistoryMax);
	}

	/**
	 * Read what Redis holds for the room; undefined if the room does not exist.
	 * Throws if Redis cannot be read: the caller cannot decide, which is not
	 * the same as "no such room".
	 */
	static async load(options: RoomRecordsOptions): Promise<RoomRecords | undefined> {
		const { store, roomId } = options;
		const [storedJson, host, revoked, entries] = await Promise.all([
			store.get(redisKeys.room(roomId)),
			store.get(redisKeys.roomHost(roomId)),
			store.sMembers(redisKeys.roomRevoked(roomId)),
			store.lRange(redisKeys.roomChat(roomId), 0, -1),
		]);
		if (!storedJson) return undefined;
		const chat: ChatMessage[] = [];
		let skipped = 0;
		for (const entry of entries) {
			const message = parseStoredChatMessage(entry);
			if (message) chat.push(message);
			else skipped++;
		}
		// Count only: the entry may be someone's text.
		if (skipped > 0) options.logger.warn({ skipped }, "skipped malformed chat history entries");
		return new RoomRecords(options, { storedJson, host: host ?? undefined, revoked, chat });
	}

	/** The StoredRoom JSON as read at open (not trusted: read it with parseRecord and the StoredRoom schema). */
	get storedJson(): string {
		return this.#storedJson;
	}

	/** The host key as read at open, then as handovers set it. */
	get host(): string | undefined {
		return this.#host;
	}

	/**
	 * The room was ended by an operator (the API deletes its keys, then tells
	 * this node): stop writing it back, and delete whatever a re-assertion
	 * racing the API's delete may have written, so the room cannot come back.
	 */
	retire(): Promise<void> {
		this.#retired = true;
		return this.#attempt("delete the ended room", async () => {
			await this.#reasserting;
			await this.#store.eval(retireScript, {
				keys: [...roomScopedKeys(this.#roomId), redisKeys.rooms],
				arguments: [this.#roomId],
			});
		});
	}

	/**
	 * The room was placed on another node (placement/room-placement.ts): its
	 * keys are that node's now, so nothing is written any more, not even the
	 * grace period when the room closes here.
	 */
	relinquish(): void {
		this.#relinquished = true;
	}

	/** Someone is in the room: keep everything stored for it alive for another occupied TTL. */
	occupied(): Promise<void> {
		return this.#expireAll(this.#lifetimes.occupiedTtlMs, "refresh room lifetime");
	}

	/** The last peer left: the room may be re-entered during the grace period, then Redis drops it. */
	vacated(): Promise<void> {
		if (this.#retired) return Promise.resolve();
		return this.#expireAll(this.#lifetimes.graceMs, "start room grace period");
	}

	/**
	 * If Redis lost the room (it restarted empty), write back everything held
	 * here with the occupied TTL. Cheap when nothing was lost: one EXISTS.
	 * Runs on every heartbeat and when the Redis connection is ready again.
	 */
	reassert(): Promise<void> {
		if (this.#retired) return Promise.resolve();
		this.#reasserting ??= this.#attempt("re-assert the room", async () => {
			if ((await this.#store.exists(redisKeys.room(this.#roomId))) === 1) return;
			const presence = [...this.#presence.values()];
			const written = await this.#store.eval(reassertScript, {
				keys: [
					redisKeys.room(this.#roomId),
					redisKeys.roomHost(this.#roomId),
					redisKeys.roomPeers(this.#roomId),
					redisKeys.roomRevoked(this.#roomId),
					redisKeys.roomChat(this.#roomId),
					redisKeys.rooms,
				],
				arguments: [
					String(this.#lifetimes.occupiedTtlMs),
					this.#roomId,
					this.#storedJson,
					this.#host ?? "",
					String(this.#revoked.size),
					...this.#revoked,
					String(presence.length),
					...presence.flatMap((entry) => [entry.peerId, JSON.stringify(entry)]),
					String(this.#chat.length),
					...this.#chat.map((message) => JSON.stringify(message)),
				],
			});
			if (written === 1) this.#logger.warn("Redis had lost the room; wrote back what this node holds");
		}).finally(() => {
			this.#reasserting = undefined;
		});
		return this.#reasserting;
	}

	writePresence(presence: RoomPresence): void {
		this.#presence.set(presence.peerId, presence);
		const key = redisKeys.roomPeers(this.#roomId);
		void this.#attempt("write presence", async () => {
			await this.#store.hSet(key, presence.peerId, JSON.stringify(presence));
			// The API may have deleted the room meanwhile: never leave a key without a TTL.
			await this.#store.pExpire(key, this.#lifetimes.occupiedTtlMs);
		});
	}

	removePresence(peerId: string): void {
		this.#presence.delete(peerId);
		void this.#attempt("remove presence", () => this.#store.hDel(redisKeys.roomPeers(this.#roomId), peerId));
	}

	/** Whether this peer id was kicked from the room; answered from memory, so it works without Redis. */
	isRevoked(peerId: string): boolean {
		return this.#revoked.has(peerId);
	}

	/**
	 * Refuse this peer id's tokens until the room ends: at once here (the
	 * door asks memory first), and in Redis for whoever opens the room next.
	 * Resolves once Redis has it (or failed).
	 */
	revoke(peerId: string): Promise<void> {
		this.#revoked.add(peerId);
		const key = redisKeys.roomRevoked(this.#roomId);
		return this.#attempt("record revocation", async () => {
			await this.#store.sAdd(key, peerId);
			// The set dies with the room; the room is occupied while someone can be kicked.
			await this.#store.pExpire(key, this.#lifetimes.occupiedTtlMs);
		});
	}

	/** Record the new host for the API, then tell the API's lobby sockets. Resolves once done (or failed). */
	hostChanged(peerId: string): Promise<void> {
		this.#host = peerId;
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
	 * `limits.chatHistoryMax`: in memory at once (joins read it from there),
	 * then in Redis. The room is occupied while someone can send, so the list
	 * gets the occupied TTL; heartbeats and the grace period then move it
	 * with every other room key. Resolves once stored or failed: history is
	 * best-effort, the message is delivered either way.
	 */
	appendChat(message: ChatMessage): Promise<void> {
		this.#chat.push(message);
		if (this.#chat.length > limits.chatHistoryMax) this.#chat.splice(0, this.#chat.length - limits.chatHistoryMax);
		return this.#attempt("store a chat message", () =>
			this.#store.eval(appendChatScript, {
				keys: [redisKeys.roomChat(this.#roomId)],
				arguments: [JSON.stringify(message), String(limits.chatHistoryMax), String(this.#lifetimes.occupiedTtlMs)],
			}),
		);
	}

	/** The history held for the room, oldest first (read from Redis at open, then kept here). */
	chatHistory(): readonly ChatMessage[] {
		return this.#chat;
	}

	#expireAll(ttlMs: number, what: string): Promise<void> {
		// PEXPIRE is a no-op on keys that do not exist, so absent optional keys stay absent.
		return this.#attempt(what, async () => {
			await Promise.all(roomScopedKeys(this.#roomId).map((key) => this.#store.pExpire(key, ttlMs)));
		});
	}

	async #attempt(what: string, write: () => Promise<unknown>): Promise<void> {
		if (this.#relinquished) return;
		try {
			await write();
		} catch (error) {
			this.#logger.warn({ err: error }, `could not ${what} in Redis`);
		}
	}
}
