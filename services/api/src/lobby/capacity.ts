/**
 * Whether a room has a place for one more person, as the lobby sees it, so
 * the host can never let a guest in only for the SFU to refuse them
 * `room-full` (a dead end for the guest).
 *
 * Places taken = people in the call (the SFU's presence hash) + guests
 * admitted in the last `admittedHoldMs` who are not in the call yet (the
 * `roomAdmittedKey` set, written here on every admission) + one kept for the
 * host while the host is not in the call (the SFU keeps the same place: see
 * Room.hasRoomFor). The room is full when that reaches ROOM_MAX_PEERS.
 *
 * An admitted guest is seen to have arrived when their id is in the
 * presence hash during any count (every knock and admit counts); from then
 * on they count as present only, and once they leave their place is free.
 * One who joined and left again between two counts still counts until their
 * hold ends, and the SFU counts connections where presence counts joined
 * people; both only make the lobby stricter for a moment, never let anyone
 * in whom the SFU would refuse for a reason the lobby could see.
 */
import { admittedHoldMs, redisKeys, roomAdmittedKey } from "@mindmeet/protocol";
import type { ApiRedis } from "../redis.ts";

/**
 * Lua, shared by both scripts: places taken in the room.
 * Takes the presence hash, host and admitted keys, and the oldest admission still held (epoch ms).
 * Admissions whose guest is in the call leave the set here: the guest counts
 * as present from now on, and leaving frees the place at once. That is the
 * only write, and it changes no answer given now (the guest is counted
 * either way), so a refused knock or admit changes nothing anyone can see.
 */
const placesTakenLua = `
local function placesTaken(peersKey, hostKey, admittedKey, since)
	local taken = redis.call('HLEN', peersKey)
	for _, id in ipairs(redis.call('ZRANGEBYSCORE', admittedKey, since, '+inf')) do
		if redis.call('HEXISTS', peersKey, id) == 0 then
			taken = taken + 1
		else
			redis.call('ZREM', admittedKey, id)
		end
	end
	local host = redis.call('GET', hostKey)
	if host and redis.call('HEXISTS', peersKey, host) == 0 then taken = taken + 1 end
	return taken
end
`;

/** KEYS: roomPeers, roomHost, admitted. ARGV: max, since. 1 when full. */
const fullScript = `${placesTakenLua}
if placesTaken(KEYS[1], KEYS[2], KEYS[3], ARGV[2]) >= tonumber(ARGV[1]) then return 1 end
return 0
`;

/**
 * The knock store's compare-and-set (see knocks.ts), for an admission: the
 * place is counted and taken in the same step, so two admits racing for the
 * last place cannot both succeed. 0: the record changed (someone else
 * decided); -1: the room is full (nothing written); 1: admitted.
 * KEYS: knock, roomKnocks, roomPeers, roomHost, admitted.
 * ARGV: expected JSON, new JSON, TTL s, knock id, max, now, hold ms, admitted peer id, then channel/message pairs.
 */
const admitScript = `${placesTakenLua}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local now = tonumber(ARGV[6])
local hold = tonumber(ARGV[7])
if placesTaken(KEYS[3], KEYS[4], KEYS[5], now - hold) >= tonumber(ARGV[5]) then return -1 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[4])
-- Admissions past their hold need no place kept any more (those in the call left in placesTaken).
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - hold)
redis.call('ZADD', KEYS[5], now, ARGV[8])
redis.call('PEXPIRE', KEYS[5], hold)
for i = 9, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
return 1
`;

export type AdmitResult = "admitted" | "changed" | "room-full";

export class RoomCapacity {
	readonly #redis: ApiRedis;
	readonly #maxPeers: number;

	constructor(redis: ApiRedis, maxPeers: number) {
		this.#redis = redis;
		this.#maxPeers = maxPeers;
	}

	get maxPeers(): number {
		return this.#maxPeers;
	}

	/** Whether the room has no place for one more guest now. One round trip. */
	async isFull(roomId: string): Promise<boolean> {
		const full = await this.#redis.eval(fullScript, {
			keys: [redisKeys.roomPeers(roomId), redisKeys.roomHost(roomId), roomAdmittedKey(roomId)],
			arguments: [String(this.#maxPeers), String(Date.now() - admittedHoldMs)],
		});
		return full === 1;
	}

	/**
	 * Settle a pending knock as admitted, if its record is still `expected`
	 * and the room has a place; the place is held for `peerId` until they are
	 * in the call. `events` are published only when admitted.
	 */
	async admit(options: {
		roomId: string;
		knockId: string;
		knockKey: string;
		queueKey: string;
		expected: string;
		next: string;
		ttlSeconds: number;
		peerId: string;
		events: string[];
	}): Promise<AdmitResult> {
		const { roomId } = options;
		const result = await this.#redis.eval(admitScript, {
			keys: [
				options.knockKey,
				options.queueKey,
				redisKeys.roomPeers(roomId),
				redisKeys.roomHost(roomId),
				roomAdmittedKey(roomId),
			],
			arguments: [
				options.expected,
				options.next,
				String(options.ttlSeconds),
				options.knockId,
				String(this.#maxPeers),
				String(Date.now()),
				String(admittedHoldMs),
				options.peerId,
				...options.events,
			],
		});
		if (result === 1) return "admitted";
		return result === -1 ? "room-full" : "changed";
	}
}
