/**
 * The media of a room: one router on each worker the room uses, joined with
 * pipe transports, and the speaking monitor.
 *
 * A room starts with one router (the primary, which also hosts the speaking
 * monitor). Each peer is placed on one router, where its transports,
 * producers and consumers live. While the primary has fewer than
 * `peersPerRouter` people, everyone goes there and nothing is piped: a small
 * room is exactly one router. Beyond that, a new peer goes to the least-loaded
 * router with room left, or to a new router on the least-loaded live worker
 * the room does not use yet, or, when the room is on every live worker, to the
 * least-loaded of its routers.
 *
 * A producer is piped (`pipeToRouter`, keeping its id) to a router the first
 * time a consumer there needs it; the pipe is made once per producer and
 * router, and concurrent consumers await the same promise. mediasoup itself
 * keeps one pipe transport pair per pair of routers. Closing a producer closes
 * its pipe consumers, which close the pipe producers, whose consumers are
 * told `producerclose`. An extra router whose last peer left is closed (its
 * pipe transports with it); the primary stays while the room is open.
 *
 * When any worker under the room dies, mediasoup closes that router and
 * everything on it, including the pipes to and from it: the whole media
 * reports `workerclose`, and the room closes what is left and builds a new
 * RoomMedia (see Room), so every peer is placed again from scratch.
 */
import { EventEmitter } from "node:events";
import type { Producer, Router } from "mediasoup/types";
import type { Logger } from "pino";
import { mediaCodecs } from "../media-codecs.ts";
import type { MediaWorker } from "../workers/worker-pool.ts";
import type { Peer } from "./peer.ts";
import { SpeakingMonitor } from "./speaking.ts";

export interface RoomMediaEvents {
	/** A worker under this media died: what was on it, and every pipe to it, is gone. */
	workerclose: [];
}

export interface RoomMediaOptions {
	speakingThresholdDbov: number;
	announceSpeaking: (peerIds: string[]) => void;
	logger: Logger;
	/** People placed on one router before the room takes another worker (SFU_ROOM_PEERS_PER_ROUTER). */
	peersPerRouter: number;
	/**
	 * The least-loaded live worker whose index is not in `used`, for one more
	 * router; undefined when the room already is on every live worker.
	 */
	extraWorker: (used: ReadonlySet<number>) => MediaWorker | undefined;
}

/** Pipes stay on this host: loopback UDP, no SCTP (the room has no data channels). */
const pipeListenInfo = { protocol: "udp", ip: "127.0.0.1" } as const;

/** One router of a room, on one worker, and the peers placed on it. */
export class RoomRouter {
	readonly worker: MediaWorker;
	readonly primary: boolean;
	/** Settles when the router exists (an extra router is placed on before mediasoup made it). */
	readonly ready: Promise<Router>;
	readonly #peers = new Set<Peer>();
	#router: Router | undefined;
	#dropped = false;

	constructor(worker: MediaWorker, primary: boolean, ready: Promise<Router>) {
		this.worker = worker;
		this.primary = primary;
		this.ready = ready.then((router) => {
			this.#router = router;
			// Dropped while mediasoup was making it: nobody will use it.
			if (this.#dropped) router.close();
			return router;
		});
	}

	/** The router, once made. */
	get router(): Router | undefined {
		return this.#router;
	}

	get peers(): ReadonlySet<Peer> {
		return this.#peers;
	}

	add(peer: Peer): void {
		this.#peers.add(peer);
	}

	remove(peer: Peer): void {
		this.#peers.delete(peer);
	}

	/** Close the router now, or as soon as it exists. */
	drop(): void {
		this.#dropped = true;
		this.#router?.close();
	}
}

export class RoomMedia extends EventEmitter<RoomMediaEvents> {
	readonly speaking: SpeakingMonitor;
	readonly #options: RoomMediaOptions;
	/** The primary first, then extra routers in the order they were added. */
	readonly #routers: RoomRouter[];
	readonly #placement = new Map<Peer, RoomRouter>();
	/** Producer id → the router it was produced on. */
	readonly #homes = new Map<string, RoomRouter>();
	/** `${producer id} ${router id}` → the pipe of that producer to that router, made or being made. */
	readonly #pipes = new Map<string, Promise<void>>();
	#lost = false;
	#closed = false;

	private constructor(primary: RoomRouter, speaking: SpeakingMonitor, options: RoomMediaOptions) {
		super();
		this.#routers = [primary];
		this.speaking = speaking;
		this.#options = options;
		void primary.ready.then((router) => this.#watch(primary, router));
	}

	static async create(worker: MediaWorker, options: RoomMediaOptions): Promise<RoomMedia> {
		const router = await worker.worker.createRouter({ mediaCodecs });
		try {
			// One monitor, on the primary: microphones placed elsewhere are piped to it (see watchSpeaking).
			const speaking = await SpeakingMonitor.create(router, {
				thresholdDbov: options.speakingThresholdDbov,
				announce: options.announceSpeaking,
				logger: options.logger,
			});
			return new RoomMedia(new RoomRouter(worker, true, Promise.resolve(router)), speaking, options);
		} catch (error) {
			router.close();
			throw error;
		}
	}

	/** The worker of the primary router (the room's "own" worker). */
	get worker(): MediaWorker {
		return this.#primary.worker;
	}

	/** The primary router: the speaking monitor's, and the only one of a small room. */
	get router(): Router {
		const router = this.#primary.router;
		if (!router) throw new Error("the primary router is made before the media exists");
		return router;
	}

	get routers(): readonly RoomRouter[] {
		return this.#routers;
	}

	/** Closed by us, or a worker under it died. */
	get closed(): boolean {
		return this.#closed || this.#lost || this.router.closed;
	}

	/**
	 * The router of `peer`, placing it now if it has none. Synchronous, so
	 * concurrent joins are counted as they come and never all pick the same
	 * router with one place left.
	 */
	place(peer: Peer): RoomRouter {
		const placed = this.#placement.get(peer);
		if (placed) return placed;
		const share = this.#options.peersPerRouter;
		let target = leastLoaded(this.#routers.filter((candidate) => candidate.peers.size < share));
		if (!target) {
			const worker = this.#options.extraWorker(new Set(this.#routers.map((candidate) => candidate.worker.index)));
			target = worker ? this.#addRouter(worker) : leastLoaded(this.#routers);
		}
		if (!target) throw new Error("a room's media always has its primary router");
		target.add(peer);
		this.#placement.set(peer, target);
		return target;
	}

	placementOf(peer: Peer): RoomRouter | undefined {
		return this.#placement.get(peer);
	}

	/** The peer left: free its place; an extra router left empty is closed. */
	release(peer: Peer): void {
		const placed = this.#placement.get(peer);
		if (!placed) return;
		this.#placement.delete(peer);
		placed.remove(peer);
		if (placed.primary || placed.peers.size > 0) return;
		this.#routers.splice(this.#routers.indexOf(placed), 1);
		placed.drop();
		this.#options.logger.info({ worker: placed.worker.index }, "extra router of the room closed: nobody left on it");
	}

	/** Record where `producer` lives (the router of the peer that produced it). */
	adopt(producer: Producer, home: RoomRouter): void {
		this.#homes.set(producer.id, home);
		producer.observer.once("close", () => {
			if (this.#homes.get(producer.id) === home) this.#homes.delete(producer.id);
		});
	}

	homeOf(producerId: string): RoomRouter | undefined {
		return this.#homes.get(producerId);
	}

	/**
	 * Make `producerId` consumable on `to` (it lives on `from`): piped once;
	 * whoever asks while the pipe is being made awaits the same promise. The
	 * entry goes when the pipe producer closes (its producer or either router
	 * closed) or the pipe fails, so a later ask pipes again.
	 */
	pipe(producerId: string, from: RoomRouter, to: RoomRouter): Promise<void> {
		if (from === to) return Promise.resolve();
		const toRouter = to.router;
		const fromRouter = from.router;
		if (!toRouter || !fromRouter) return Promise.reject(new Error("the router is not made yet"));
		const key = `${producerId} ${toRouter.id}`;
		const existing = this.#pipes.get(key);
		if (existing) return existing;
		const forget = () => {
			if (this.#pipes.get(key) === piped) this.#pipes.delete(key);
		};
		const piped = fromRouter
			.pipeToRouter({ producerId, router: toRouter, listenInfo: pipeListenInfo, enableSctp: false })
			.then(({ pipeProducer }) => {
				if (!pipeProducer) throw new Error("pipeToRouter gave no producer");
				if (pipeProducer.closed) forget();
				else pipeProducer.observer.once("close", forget);
			});
		piped.catch(forget);
		this.#pipes.set(key, piped);
		return piped;
	}

	/**
	 * What this room costs `workerIndex`: one per router there (a router is a
	 * cost before anyone is on it) plus the people placed on it.
	 */
	loadOn(workerIndex: number): number {
		let load = 0;
		for (const candidate of this.#routers) {
			if (candidate.worker.index === workerIndex) load += 1 + candidate.peers.size;
		}
		return load;
	}

	/** People placed on some router (a connected peer has none until it makes a transport). */
	get placedCount(): number {
		return this.#placement.size;
	}

	close(): void {
		this.#closed = true;
		for (const candidate of this.#routers) candidate.drop();
		this.#placement.clear();
	}

	get #primary(): RoomRouter {
		const primary = this.#routers[0];
		if (!primary) throw new Error("a room's media always has its primary router");
		return primary;
	}

	#addRouter(worker: MediaWorker): RoomRouter {
		const added = new RoomRouter(worker, false, worker.worker.createRouter({ mediaCodecs }));
		this.#routers.push(added);
		this.#options.logger.info(
			{ worker: worker.index, routers: this.#routers.length },
			"room outgrew its routers; adding one on another worker",
		);
		added.ready.then(
			(router) => this.#watch(added, router),
			(error: unknown) => {
				// Most likely the worker died while making it: the room starts over on live workers.
				this.#options.logger.warn({ worker: worker.index, err: error }, "could not add a router to the room");
				this.#lose();
			},
		);
		return added;
	}

	#watch(watched: RoomRouter, router: Router): void {
		const lost = () => {
			if (this.#routers.includes(watched)) this.#lose();
		};
		if (router.closed && !this.#closed) lost();
		router.once("workerclose", lost);
	}

	#lose(): void {
		if (this.#lost || this.#closed) return;
		this.#lost = true;
		this.emit("workerclose");
	}
}

/** The router with the fewest people (the earliest on a tie, so the primary fills first). */
function leastLoaded(candidates: readonly RoomRouter[]): RoomRouter | undefined {
	let best: RoomRouter | undefined;
	for (const candidate of candidates) {
		if (!best || candidate.peers.size < best.peers.size) best = candidate;
	}
	return best;
}
