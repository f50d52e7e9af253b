/**
 * The rooms open on this node. A room opens on the least-loaded worker when
 * its first peer connects, and is forgotten when it closes.
 */
import { type RoomMode, redisKeys, type StoredRoom } from "@mindmeet/protocol";
import type { Logger } from "pino";
import type { MediaWorker, WorkerPool } from "../workers/worker-pool.ts";
import { Room } from "./room.ts";

export interface RoomStore {
	get(key: string): Promise<string | null>;
}

export class RoomRegistry {
	readonly #rooms = new Map<string, Room>();
	readonly #opening = new Map<string, Promise<Room | undefined>>();
	readonly #pool: WorkerPool;
	readonly #store: RoomStore;
	readonly #logger: Logger;
	readonly #onChange: () => void;

	constructor(options: { pool: WorkerPool; store: RoomStore; logger: Logger; onChange: () => void }) {
		this.#pool = options.pool;
		this.#store = options.store;
		this.#logger = options.logger;
		this.#onChange = options.onChange;
	}

	get rooms(): ReadonlyMap<string, Room> {
		return this.#rooms;
	}

	get peerCount(): number {
		let count = 0;
		for (const room of this.#rooms.values()) count += room.peers.size;
		return count;
	}

	/** The open room, or open it if Redis knows it; undefined if the room does not exist. */
	async open(roomId: string): Promise<Room | undefined> {
		const open = this.#rooms.get(roomId);
		if (open && !open.closed) return open;
		let pending = this.#opening.get(roomId);
		if (!pending) {
			pending = this.#openNew(roomId).finally(() => this.#opening.delete(roomId));
			this.#opening.set(roomId, pending);
		}
		return pending;
	}

	closeAll(): void {
		for (const room of this.#rooms.values()) room.close();
	}

	async #openNew(roomId: string): Promise<Room | undefined> {
		const json = await this.#store.get(redisKeys.room(roomId));
		if (!json) return undefined;
		const stored = JSON.parse(json) as StoredRoom;
		const mode: RoomMode = stored.mode === "audio" ? "audio" : "video";
		const worker = this.#pool.leastLoaded((candidate) => this.#load(candidate));
		const room = await Room.create({ id: roomId, mode, worker, logger: this.#logger });
		this.#rooms.set(roomId, room);
		room.on("peersChanged", this.#onChange);
		room.on("close", () => {
			if (this.#rooms.get(roomId) === room) this.#rooms.delete(roomId);
			this.#onChange();
		});
		return room;
	}

	#load(worker: MediaWorker): number {
		let load = 0;
		for (const room of this.#rooms.values()) {
			// A room costs something even before its peers arrive.
			if (room.worker.index === worker.index) load += 1 + room.peers.size;
		}
		return load;
	}
}
