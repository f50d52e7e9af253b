/**
 * Knock records and their one-way trip out of "pending". Every transition is
 * a compare-and-set in a Lua script that also takes the knock off the host's
 * queue and publishes the events, so exactly one of several racing actors
 * (two host tabs admitting, an admit against the expiry timer, a cancel) wins,
 * and whoever wins is the only one who announces it.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import {
	type KnockEnd,
	type KnockInfo,
	type LobbyGuestEvent,
	type LobbyHostEvent,
	redisChannels,
	redisKeys,
	StoredKnock,
} from "@mindmeet/protocol";
import { parseRecord } from "@mindmeet/protocol/records";
import { type Static, Type } from "@sinclair/typebox";
import { nanoid } from "nanoid";
import type { KnockMetrics } from "../metrics/metrics.ts";
import type { ApiRedis } from "../redis.ts";
import type { RoomCapacity } from "./capacity.ts";

/**
 * What the API stores under `redisKeys.knock(id)`: the protocol's StoredKnock
 * plus the admission, whose token stays here only until the guest's waiting
 * socket has delivered it (a guest whose socket dropped at the wrong moment
 * still gets in when it reconnects).
 */
export const KnockRecord = Type.Composite([
	StoredKnock,
	Type.Object({
		admittedPeerId: Type.Optional(Type.String({ minLength: 1 })),
		admittedToken: Type.Optional(Type.String({ minLength: 1 })),
	}),
]);
export type KnockRecord = Static<typeof KnockRecord>;

export const knockIdPattern = /^[A-Za-z0-9_-]{16}$/;

export function hashSecret(secret: string): string {
	return createHash("sha256").update(secret).digest("hex");
}

/** Constant-time check of a presented knock secret against the stored hash. */
export function secretMatches(knock: StoredKnock, secret: string | undefined): boolean {
	if (!secret) return false;
	const presented = Buffer.from(hashSecret(secret), "hex");
	const stored = Buffer.from(knock.secretHash, "hex");
	return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** The knock record, or undefined when there is none or it is unreadable: a knock we do not know. */
export function parseKnock(json: string | null | undefined): KnockRecord | undefined {
	return parseRecord(KnockRecord, json);
}

export function knockInfo(knock: StoredKnock): KnockInfo {
	return { id: knock.id, name: knock.name, createdAt: knock.createdAt, expiresAt: knock.expiresAt };
}

/** What the host's queue and the guest hear when a knock ends one way or another. */
function endEvents(knock: KnockRecord, end: KnockEnd): { channel: string; message: string }[] {
	const hostEvent: LobbyHostEvent = { type: "knock-ended", knockId: knock.id, end };
	const events = [{ channel: redisChannels.lobby(knock.roomId), message: JSON.stringify(hostEvent) }];
	let guestEvent: LobbyGuestEvent | undefined;
	if (end === "admitted" && knock.admittedToken && knock.admittedPeerId) {
		guestEvent = { type: "admitted", token: knock.admittedToken, peerId: knock.admittedPeerId };
	} else if (end === "denied" || end === "expired") {
		guestEvent = { type: end };
	}
	// The guest's channel first: by the time the host sees the knock leave, its guest has been told.
	if (guestEvent) events.unshift({ channel: redisChannels.knock(knock.id), message: JSON.stringify(guestEvent) });
	return events;
}

function flatten(events: { channel: string; message: string }[]): string[] {
	return events.flatMap((e) => [e.channel, e.message]);
}

/**
 * Record the knock, queue it and tell the host, only if the room still exists
 * (0 otherwise) and fewer than the cap are waiting (-1 otherwise): the count
 * and the write are one step, so racing knocks cannot overshoot the cap.
 * KEYS: room, roomKnocks, knock. ARGV: knock JSON, knock TTL s, score, knock id, channel, message, cap.
 * The queue follows the room's TTL, like every room-scoped key.
 */
const createScript = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return 0 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[7]) then return -1 end
redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
`;

/**
 * Compare-and-set a knock record, take it off the queue and publish.
 * KEYS: knock, roomKnocks. ARGV: expected JSON, new JSON, TTL s, knock id, then channel/message pairs.
 */
const settleScript = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[4])
for i = 5, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
return 1
`;

/**
 * A queued knock whose record has already expired out of Redis: drop it from
 * the queue and announce the expiry, once (only the caller whose ZREM removed it).
 * KEYS: knock, roomKnocks. ARGV: knock id, then channel/message pairs.
 */
const forgetScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return 0 end
for i = 2, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
return 1
`;

/**
 * The queue and every queued record in one round trip.
 * KEYS: roomKnocks. ARGV: knock key prefix. Returns a flat list: id, record JSON (false when gone), ….
 */
const pendingScript = `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local out = {}
for _, id in ipairs(ids) do
	out[#out + 1] = id
	out[#out + 1] = redis.call('GET', ARGV[1] .. id)
end
return out
`;

/** Compare-and-set keeping the TTL. KEYS: knock. ARGV: expected JSON, new JSON. */
const replaceScript = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`;

export type SettleOutcome =
	| { result: "settled"; knock: KnockRecord }
	/** Unknown, of another room, or its time is up (then it has just been expired). */
	| { result: "missing" }
	/** Already admitted, denied, cancelled or expired. */
	| { result: "conflict"; knock: KnockRecord }
	/** An admission into a room with no place left: nothing changed, the knock is still pending. */
	| { result: "room-full"; knock: KnockRecord };

export interface Admission {
	peerId: string;
	token: string;
}

export type CreateOutcome =
	| { result: "created"; knock: KnockRecord; secret: string }
	/** The room no longer exists. */
	| { result: "missing" }
	/** `pendingMax` knocks are already waiting. */
	| { result: "full" };

/** Default cap on knocks waiting in one room (KNOCKS_PENDING_MAX). */
export const defaultKnocksPendingMax = 20;

export class KnockStore {
	readonly #redis: ApiRedis;
	readonly #timeoutSeconds: number;
	readonly #pendingMax: number;
	/** When set, an admission takes a place in the room in the same step, or is refused (`room-full`). */
	readonly #capacity: RoomCapacity | undefined;
	readonly #metrics: KnockMetrics | undefined;

	constructor(
		redis: ApiRedis,
		timeoutSeconds: number,
		pendingMax = defaultKnocksPendingMax,
		capacity?: RoomCapacity,
		/** Told of every knock created and ended, by whichever call won the compare-and-set. */
		metrics?: KnockMetrics,
	) {
		this.#redis = redis;
		this.#timeoutSeconds = timeoutSeconds;
		this.#pendingMax = pendingMax;
		this.#capacity = capacity;
		this.#metrics = metrics;
	}

	/**
	 * Create a pending knock, unless the room is gone or its queue is full
	 * (nothing is written then). A full queue is cleaned of knocks that have
	 * ended without leaving it (expired records) and tried once more.
	 */
	async create(roomId: string, name: string): Promise<CreateOutcome> {
		const first = await this.#create(roomId, name);
		if (first.result !== "full") return first;
		await this.pending(roomId);
		return this.#create(roomId, name);
	}

	async #create(roomId: string, name: string): Promise<CreateOutcome> {
		const secret = randomBytes(32).toString("base64url");
		const createdAt = Date.now();
		const knock: KnockRecord = {
			id: nanoid(16),
			roomId,
			name,
			createdAt,
			expiresAt: createdAt + this.#timeoutSeconds * 1000,
			status: "pending",
			secretHash: hashSecret(secret),
		};
		const event: LobbyHostEvent = { type: "knock", knock: knockInfo(knock) };
		const created = await this.#redis.eval(createScript, {
			keys: [redisKeys.room(roomId), redisKeys.roomKnocks(roomId), redisKeys.knock(knock.id)],
			arguments: [
				JSON.stringify(knock),
				String(this.#timeoutSeconds),
				String(createdAt),
				knock.id,
				redisChannels.lobby(roomId),
				JSON.stringify(event),
				String(this.#pendingMax),
			],
		});
		if (created === 1) {
			this.#metrics?.knockCreated();
			return { result: "created", knock, secret };
		}
		return created === -1 ? { result: "full" } : { result: "missing" };
	}

	/** The knock with the exact stored JSON (for compare-and-set), if it exists and belongs to `roomId`. */
	async read(roomId: string, knockId: string): Promise<{ knock: KnockRecord; json: string } | undefined> {
		if (!knockIdPattern.test(knockId)) return undefined;
		const json = await this.#redis.get(redisKeys.knock(knockId));
		const knock = parseKnock(json);
		if (!json || !knock || knock.id !== knockId || knock.roomId !== roomId) return undefined;
		return { knock, json };
	}

	/**
	 * Move a pending knock to `end` and announce it. A knock whose time is up
	 * cannot be admitted, denied or cancelled: it is expired instead and
	 * reported missing. Terminal records are kept for another knock timeout so
	 * a guest who reconnects still hears the answer.
	 */
	async settle(
		roomId: string,
		knockId: string,
		end: KnockEnd,
		admission?: Admission,
		/** The record as the caller just read it: saves a round trip; the compare-and-set still guards it. */
		known?: { knock: KnockRecord; json: string },
	): Promise<SettleOutcome> {
		// Two rounds: the first compare-and-set can only fail because someone else changed the record.
		for (let round = 0; round < 2; round++) {
			const current = round === 0 && known ? known : await this.read(roomId, knockId);
			if (!current) {
				if (end === "expired" && knockIdPattern.test(knockId)) await this.forget(roomId, knockId);
				return { result: "missing" };
			}
			const { knock, json } = current;
			if (knock.status !== "pending") return { result: "conflict", knock };
			const late = end !== "expired" && Date.now() >= knock.expiresAt;
			const to: KnockEnd = late ? "expired" : end;
			const next: KnockRecord = { ...knock, status: to };
			if (to === "admitted" && admission) {
				next.admittedPeerId = admission.peerId;
				next.admittedToken = admission.token;
			}
			if (to === "admitted" && admission && this.#capacity) {
				const admitted = await this.#capacity.admit({
					roomId,
					knockId,
					knockKey: redisKeys.knock(knockId),
					queueKey: redisKeys.roomKnocks(roomId),
					expected: json,
					next: JSON.stringify(next),
					ttlSeconds: this.#timeoutSeconds,
					peerId: admission.peerId,
					events: flatten(endEvents(next, to)),
				});
				if (admitted === "admitted") {
					this.#metrics?.knockEnded(to, Date.now() - knock.createdAt);
					return { result: "settled", knock: next };
				}
				if (admitted === "room-full") return { result: "room-full", knock };
				continue;
			}
			const settled = await this.#redis.eval(settleScript, {
				keys: [redisKeys.knock(knockId), redisKeys.roomKnocks(roomId)],
				arguments: [json, JSON.stringify(next), String(this.#timeoutSeconds), knockId, ...flatten(endEvents(next, to))],
			});
			if (settled === 1) {
				this.#metrics?.knockEnded(to, Date.now() - knock.createdAt);
				return late ? { result: "missing" } : { result: "settled", knock: next };
			}
			if (late) return { result: "missing" };
		}
		const after = await this.read(roomId, knockId);
		return after ? { result: "conflict", knock: after.knock } : { result: "missing" };
	}

	/** A queued id whose record is gone: dequeue and announce the expiry once. True when this call did it. */
	async forget(roomId: string, knockId: string): Promise<boolean> {
		const gone: KnockRecord = {
			id: knockId,
			roomId,
			name: "",
			createdAt: 0,
			expiresAt: 0,
			status: "expired",
			secretHash: "",
		};
		const done = await this.#redis.eval(forgetScript, {
			keys: [redisKeys.knock(knockId), redisKeys.roomKnocks(roomId)],
			arguments: [knockId, ...flatten(endEvents(gone, "expired"))],
		});
		// How long it waited went with its record.
		if (done === 1) this.#metrics?.knockEnded("expired", undefined);
		return done === 1;
	}

	/** The guest has its token: stop keeping it in Redis. */
	async forgetToken(roomId: string, knockId: string, token: string): Promise<void> {
		const current = await this.read(roomId, knockId);
		if (!current || current.knock.admittedToken !== token) return;
		const { admittedToken: _delivered, ...rest } = current.knock;
		await this.#redis.eval(replaceScript, {
			keys: [redisKeys.knock(knockId)],
			arguments: [current.json, JSON.stringify(rest)],
		});
	}

	/**
	 * Pending knocks of the room, oldest first, read in one round trip. Settles
	 * what has timed out or vanished on the way (extra round trips only then).
	 */
	async pending(roomId: string): Promise<KnockInfo[]> {
		const reply = await this.#redis.eval(pendingScript, {
			keys: [redisKeys.roomKnocks(roomId)],
			arguments: [redisKeys.knock("")],
		});
		const flat = Array.isArray(reply) ? (reply as unknown[]) : [];
		const knocks: KnockInfo[] = [];
		for (let i = 0; i + 1 < flat.length; i += 2) {
			const id = String(flat[i]);
			const json = typeof flat[i + 1] === "string" ? (flat[i + 1] as string) : null;
			const knock = parseKnock(json);
			const current = knock && knock.id === id && knock.roomId === roomId ? { knock } : undefined;
			if (!current) {
				await this.forget(roomId, id);
			} else if (current.knock.status !== "pending") {
				// Settled records leave the queue in the same script; this only cleans up after a crash or a hand edit.
				await this.#redis.zRem(redisKeys.roomKnocks(roomId), id);
			} else if (Date.now() >= current.knock.expiresAt) {
				await this.settle(roomId, id, "expired");
			} else {
				knocks.push(knockInfo(current.knock));
			}
		}
		return knocks;
	}
}
