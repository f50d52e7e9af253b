/**
 * The rooms open on this node. A room opens on the least-loaded worker when
 * its first peer connects, moves to another live worker if its worker dies,
 * and is forgotten when it closes.
 */
import { type RoomMode, redisKeys, StoredRoom } from "@mindmeet/protocol";
import { parseRecord } from "@mindmeet/protocol/records";
import type { Logger } from "pino";
import type { SignalingMetrics } from "../metrics/sfu-metrics.ts";
import type { RequestLimits } from "../signaling/request-limiter.ts";
import { type MediaWorker, type WorkerPool, WorkerUnavailableError } from "../workers/worker-pool.ts";
import { Room } from "./room.ts";
import { type RoomLifetimes, type RoomRecordStore, RoomRecords } from "./room-records.ts";

/** The Redis commands rooms need; a node-redis client satisfies it. */
export interface RoomStore extends RoomRecordStore {
	sIsMember(key: string, member: string): Promise<number | boolean>;
}

/**
 * How long a room whose worker died waits for a live worker (the pool starts
 * a replacement at once; it is usually up in well under a second).
 */
export const workerWaitMs = 10_000;

/** Opening one more room would exceed the node's SFU_MAX_ROOMS. */
export class NodeFullError extends Error {
	constructor(maxRooms: number) {
		super(`this server has as many rooms open as it takes (${maxRooms}); try again later`);
		this.name = "NodeFullError";
	}
}

export interface RoomRegistryOptions {
	pool: WorkerPool;
	store: RoomStore;
	logger: Logger;
	onChange: () => void;
	lifetimes: RoomLifetimes;
	hostHandoverGraceMs: number;
	/** Level above which a microphone counts as speaking (see SfuConfig). */
	speakingThresholdDbov: number;
	/** Rooms open (or opening) at once on this node (SFU_MAX_ROOMS). */
	maxRooms: number;
	/** Connections per room (ROOM_MAX_PEERS). */
	roomMaxPeers: number;
	/** Each connection's request budget. */
	requestLimits: RequestLimits;
	/** People per router before a room takes another worker (SFU_ROOM_PEERS_PER_ROUTER). */
	roomPeersPerRouter: number;
	/** Handed to every room (see SfuMetrics). */
	metrics?: SignalingMetrics;
}

export class RoomRegistry {
	readonly #rooms = new Map<string, Room>();
	readonly #opening = new Map<string, Promise<Room | undefined>>();
	/** Grace-period writes of rooms that just closed, so shutdown can wait for them. */
	readonly #vacating = new Set<Promise<void>>();
	readonly #options: RoomRegistryOptions;

	constructor(options: RoomRegistryOptions) {
		this.#options = options;
	}

	get rooms(): ReadonlyMap<string, Room> {
		return this.#rooms;
	}

	get peerCount(): number {
		let count = 0;
		for (const room of this.#rooms.values()) count += room.peers.size;
		return count;
	}

	/**
	 * The open room, or open it if Redis knows it; undefined if the room
	 * does not exist. Throws NodeFullError when it is not open and the node
	 * has SFU_MAX_ROOMS rooms open or opening: the count and the reservation
	 * (the pending open) happen in one synchronous step, so concurrent
	 * connections to different new rooms cannot all pass. A room that turns
	 * out not to exist gives its place back when its open settles.
	 */
	async open(roomId: string): Promise<Room | undefined> {
		const open = this.#rooms.get(roomId);
		if (open && !open.closed) return open;
		let pending = this.#opening.get(roomId);
		if (!pending) {
			if (this.#rooms.size + this.#opening.size >= this.#options.maxRooms) {
				throw new NodeFullError(this.#options.maxRooms);
			}
			pending = this.#openNew(roomId).finally(() => this.#opening.delete(roomId));
			this.#opening.set(roomId, pending);
		}
		return pending;
	}

	/**
	 * Whether this peer id was kicked from the room (its tokens stay refused
	 * until the room ends). A room open here answers from memory, so a kicked
	 * peer stays out while Redis is away or after it lost the set; otherwise
	 * Redis decides (and a failure to ask is thrown: it is not a "no").
	 */
	async isRevoked(roomId: string, peerId: string): Promise<boolean> {
		const open = this.#rooms.get(roomId);
		if (open && !open.closed) return open.records.isRevoked(peerId);
		return Boolean(await this.#options.store.sIsMember(redisKeys.roomRevoked(roomId), peerId));
	}

	/**
	 * Keep every occupied room alive in Redis for another occupied TTL, first
	 * writing back any room Redis lost (called on each heartbeat).
	 */
	refreshLifetimes(): Promise<void> {
		const refreshes: Promise<void>[] = [];
		for (const room of this.#rooms.values()) {
			if (!room.closed && room.peers.size > 0) {
				refreshes.push(room.records.reassert().then(() => room.records.occupied()));
			}
		}
		return Promise.all(refreshes).then(() => {});
	}

	/** Write back every open room Redis lost (the Redis connection is ready again after a restart). */
	reassertAll(): Promise<void> {
		const writes: Promise<void>[] = [];
		for (const room of this.#rooms.values()) if (!room.closed) writes.push(room.records.reassert());
		return Promise.all(writes).then(() => {});
	}

	/** Close every room and wait (best-effort) until their grace periods are recorded. */
	async closeAll(): Promise<void> {
		for (const room of this.#rooms.values()) room.close();
		await Promise.all(this.#vacating);
	}

	async #openNew(roomId: string): Promise<Room | undefined> {
		const { store, pool, logger, lifetimes, hostHandoverGraceMs, speakingThresholdDbov, roomMaxPeers, requestLimits } =
			this.#options;
		const records = await RoomRecords.load({ store, roomId, lifetimes, logger: logger.child({ room: roomId }) });
		if (!records) return undefined;
		const stored = parseRecord(StoredRoom, records.storedJson);
		// The key exists, so the room does: people holding tokens for it still get their call.
		if (!stored) logger.warn({ room: roomId }, "the stored room record is malformed; opening it with defaults");
		const mode: RoomMode = stored?.mode ?? "video";
		// The host key follows handovers; the record only names the first host.
		const hostPeerId = records.host ?? stored?.hostPeerId;
		const room = await Room.create({
			id: roomId,
			mode,
			// At open a worker may just have died too: wait for its replacement rather than turn people away.
			acquireWorker: () => pool.waitForLive((candidate) => this.#load(candidate), workerWaitMs),
			// A room that outgrew its routers takes the least-loaded live worker it is not on yet, if any.
			extraWorker: (used) => {
				try {
					return pool.leastLoaded((candidate) =>
						used.has(candidate.index) ? Number.POSITIVE_INFINITY : this.#load(candidate),
					);
				} catch (error) {
					if (error instanceof WorkerUnavailableError) return undefined;
					throw error;
				}
			},
			peersPerRouter: this.#options.roomPeersPerRouter,
			logger,
			hostPeerId,
			hostHandoverGraceMs,
			speakingThresholdDbov,
			records,
			maxPeers: roomMaxPeers,
			requestLimits,
			...(this.#options.metrics ? { metrics: this.#options.metrics } : {}),
		});
		this.#rooms.set(roomId, room);
		room.on("peersChanged", this.#options.onChange);
		room.on("close", () => {
			if (this.#rooms.get(roomId) === room) this.#rooms.delete(roomId);
			const vacated = records.vacated().finally(() => this.#vacating.delete(vacated));
			this.#vacating.add(vacated);
			this.#options.onChange();
		});
		return room;
	}

	#load(worker: MediaWorker): number {
		let load = 0;
		// A room costs something even before its peers arrive; one that spans workers costs each its share.
		for (const room of this.#rooms.values()) load += room.loadOn(worker);
		return load;
	}
}
