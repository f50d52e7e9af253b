/**
 * Who is host in one room, and how the role moves. The role belongs to a
 * peer id, not to a token claim: it starts with the id Redis names and moves
 * on when that peer is gone — at once on `leave` or a kick, after a grace
 * period when its socket drops or when the room opens without it (a
 * reloading host, a room reopened after everyone left or after a restart),
 * so a host who comes back in time keeps it.
 *
 * A handover takes effect in the room at once; the peers hear `hostChanged`
 * only once Redis has the new host key (bounded by recordWaitMs), so a
 * client that opens the API's lobby socket on that notification is already
 * host there, and Redis being away does not stall the handover.
 */
import type { Logger } from "pino";
import { settleWithin } from "./settle.ts";

/** How long a handover waits for Redis to record the new host before telling the peers. */
export const recordWaitMs = 1000;

/** A peer that can take the role: `joinOrder` says who has been present longest. */
export interface HostCandidate {
	readonly id: string;
	readonly joinOrder: number | undefined;
}

export interface HostRoleOptions {
	/** Peer id that holds the role when the room opens. */
	hostPeerId: string | undefined;
	/** How long an absent host keeps the role. */
	graceMs: number;
	logger: Logger;
	/** Joined peers: who may take the role over. */
	candidates: () => Iterable<HostCandidate>;
	/** Whether this peer id has a connection in the room now. */
	isConnected: (peerId: string) => boolean;
	/** Store the new host in Redis; resolves once stored or failed. */
	record: (peerId: string) => Promise<void>;
	/** The role moved: presence and the like can follow at once. */
	moved: (from: string | undefined, to: string) => void;
	/** Tell everyone in the room who the host is now. */
	announce: (peerId: string) => void;
}

export class HostRole {
	readonly #options: HostRoleOptions;
	#peerId: string | undefined;
	#timer: NodeJS.Timeout | undefined;
	/** The host is gone but nobody could take over yet: the next peer to join does. */
	#due = false;
	/** Counts handovers, so a slow host record only announces the latest one. */
	#handovers = 0;
	#closed = false;

	constructor(options: HostRoleOptions) {
		this.#options = options;
		this.#peerId = options.hostPeerId;
	}

	get peerId(): string | undefined {
		return this.#peerId;
	}

	/** A handover is waiting for the host's grace period to end, or for someone to join. */
	get pending(): boolean {
		return this.#timer !== undefined || this.#due;
	}

	is(peerId: string): boolean {
		return peerId === this.#peerId;
	}

	/**
	 * The host is not here (the room opened without it, or its socket
	 * dropped): hand the role over unless it connects within the grace
	 * period. With no grace, at once.
	 */
	away(): void {
		this.#cancel();
		if (this.#options.graceMs <= 0) {
			this.#handOver();
			return;
		}
		this.#timer = setTimeout(() => {
			this.#timer = undefined;
			const host = this.#peerId;
			if (!this.#closed && (host === undefined || !this.#options.isConnected(host))) this.#handOver();
		}, this.#options.graceMs);
		this.#timer.unref();
	}

	/** Someone connected: if it is the host, within its grace period, it keeps the role. */
	connected(peerId: string): void {
		if (this.is(peerId)) this.#cancel();
	}

	/** The host left for good (leave, kick): the role moves on now. */
	gone(): void {
		this.#cancel();
		this.#handOver();
	}

	/** Someone joined: if the host left while nobody else had joined, the first to join takes over. */
	joined(): void {
		if (this.#due && (this.#peerId === undefined || !this.#options.isConnected(this.#peerId))) this.#handOver();
	}

	close(): void {
		this.#closed = true;
		this.#cancel();
	}

	#cancel(): void {
		clearTimeout(this.#timer);
		this.#timer = undefined;
		this.#due = false;
	}

	/** Give the role to the longest-present joined peer; if nobody has joined, to whoever joins next. */
	#handOver(): void {
		let next: HostCandidate | undefined;
		for (const candidate of this.#options.candidates()) {
			if (next === undefined || (candidate.joinOrder ?? 0) < (next.joinOrder ?? 0)) next = candidate;
		}
		if (!next) {
			this.#due = true;
			return;
		}
		this.#due = false;
		const previous = this.#peerId;
		const nextId = next.id;
		this.#peerId = nextId;
		const handover = ++this.#handovers;
		this.#options.logger.info({ from: previous, to: nextId }, "host role handed over");
		this.#options.moved(previous, nextId);
		void settleWithin(this.#options.record(nextId), recordWaitMs).then(() => {
			// A later handover announces itself.
			if (!this.#closed && handover === this.#handovers) this.#options.announce(nextId);
		});
	}
}
