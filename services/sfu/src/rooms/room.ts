/**
 * A call: one protoo room, the peers in it, and its media (one mediasoup
 * router, or several on different workers joined by pipes once the room
 * outgrows one router's share; see RoomMedia). The room closes itself when its
 * last peer leaves. When a worker under it dies the room does not close: it
 * rebuilds its media on live workers and tells every peer `mediaReset`; they
 * rebuild their transports on the same connection and rejoin, nobody hears
 * of it.
 *
 * The room also decides who is host (see HostRole: the role belongs to a
 * peer id and moves on when that peer is gone), carries the room's chat
 * (held in memory, copied to Redis, broadcast to everyone joined; see
 * RoomRecords) and says who is speaking (the router's AudioLevelObserver).
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import {
	type ChatMessage,
	type ClientRequestMethod,
	type ClientRequests,
	limits,
	type MediaSource,
	type PeerDeparture,
	type PeerInfo,
	type PeerRole,
	type RoomMode,
	type RoomPresence,
	type ServerRequests,
	type TokenClaims,
} from "@mindmeet/protocol";
import type { Router } from "mediasoup/types";
import type { Logger } from "pino";
import { Room as ProtooRoom, type WebSocketTransport } from "protoo-server";
import type { SignalingMetrics } from "../metrics/sfu-metrics.ts";
import { SignalingError } from "../signaling/errors.ts";
import type { RequestLimits } from "../signaling/request-limiter.ts";
import { isClientRequestMethod, validateRequest } from "../signaling/validate.ts";
import type { MediaWorker } from "../workers/worker-pool.ts";
import { type ChatPage, ChatRateLimiter, chatPage, chatText, mergeChat } from "./chat.ts";
import { HostRole, recordWaitMs } from "./host-role.ts";
import { Peer, type PeerProducer, type PeerTransport } from "./peer.ts";
import { ProducerDemand } from "./producer-demand.ts";
import { RoomMedia, type RoomRouter } from "./room-media.ts";
import type { RoomRecords } from "./room-records.ts";
import { settleWithin } from "./settle.ts";

export interface RoomEvents {
	close: [];
	peersChanged: [];
}

export interface RoomOptions {
	id: string;
	mode: RoomMode;
	/**
	 * A live worker for the room's media, at open and again when the worker
	 * under it dies; may wait (bounded) for one to start. Throws
	 * WorkerUnavailableError when none comes.
	 */
	acquireWorker: () => Promise<MediaWorker>;
	/**
	 * The least-loaded live worker whose index is not in `used`, for a room
	 * that outgrew its routers; undefined when it is on every live worker.
	 */
	extraWorker: (used: ReadonlySet<number>) => MediaWorker | undefined;
	/** People per router before the room takes another worker (SFU_ROOM_PEERS_PER_ROUTER). */
	peersPerRouter: number;
	logger: Logger;
	/** Peer id that holds the host role when the room opens. */
	hostPeerId: string | undefined;
	/** How long a host whose socket dropped keeps the role while away. */
	hostHandoverGraceMs: number;
	/** Level above which a microphone counts as speaking, dBov. */
	speakingThresholdDbov: number;
	records: RoomRecords;
	/** Connections the room takes at once (ROOM_MAX_PEERS). */
	maxPeers: number;
	/** Each connection's request budget (see RequestLimiter). */
	requestLimits: RequestLimits;
	/** Counts joins, chat messages and flood refusals (see SfuMetrics). */
	metrics?: SignalingMetrics;
}

/** A snapshot for tests and diagnostics. */
export interface RoomStatus {
	hostPeerId: string | undefined;
	/** A handover is waiting for the host's grace period to end (or for someone to join). */
	handoverPending: boolean;
	peers: RoomPresence[];
}

const kindOfSource: Record<MediaSource, "audio" | "video"> = { mic: "audio", cam: "video", screen: "video" };

/** How many times a room tries to build its media on a fresh worker before it gives up and closes. */
const mediaMoveAttempts = 3;

const mediaMovedError = () =>
	new SignalingError("conflict", "the room's media moved to another server; start again after mediaReset");

const connectionClosedError = () => new SignalingError("conflict", "the connection closed meanwhile");

/** One client request's handler, typed against the protocol's request → response map. */
type Handler<M extends ClientRequestMethod> = (
	peer: Peer,
	data: ClientRequests[M]["request"],
	generation: number,
) => Promise<ClientRequests[M]["response"]> | ClientRequests[M]["response"];
type Handlers = { [M in ClientRequestMethod]: Handler<M> };

export class Room extends EventEmitter<RoomEvents> {
	readonly id: string;
	readonly mode: RoomMode;
	readonly #protooRoom = new ProtooRoom();
	readonly #peers = new Map<string, Peer>();
	readonly #logger: Logger;
	readonly #records: RoomRecords;
	readonly #speakingThresholdDbov: number;
	readonly #acquireWorker: () => Promise<MediaWorker>;
	readonly #extraWorker: (used: ReadonlySet<number>) => MediaWorker | undefined;
	readonly #peersPerRouter: number;
	readonly #chatLimiter = new ChatRateLimiter();
	readonly #maxPeers: number;
	readonly #requestLimits: RequestLimits;
	readonly #metrics: SignalingMetrics | undefined;
	/** Undefined while the media moves to another worker (see #moveMedia). */
	#media: RoomMedia | undefined;
	/** The last media, kept so `worker` still answers while a move is under way. */
	#lastWorker: MediaWorker;
	/** Settles when the move under way has a new media in place (or the room closed). */
	#moving: Promise<void> | undefined;
	/**
	 * Counts media moves: a request that began before the latest move must
	 * not create anything on the new media (the client starts over after
	 * mediaReset, and would find a stray transport in its way).
	 */
	#mediaGeneration = 0;
	readonly #host: HostRole;
	#joinCount = 0;
	#closed = false;
	/** Transports connected or connecting (connectWebRtcTransport is accepted once per transport). */
	readonly #connected = new WeakSet<PeerTransport>();
	/** Connections being disconnected for flooding (at most once each). */
	readonly #flooders = new WeakSet<Peer>();
	/**
	 * What each publisher needs to send of its videos (producerDemand). It
	 * lives as long as the room: producers and consumers come and go with
	 * it, including across a media rebuild, where the new producers start
	 * over sending everything and get the demand of their new consumers.
	 */
	readonly #demand: ProducerDemand;

	private constructor(options: RoomOptions, logger: Logger, media: RoomMedia) {
		super();
		this.id = options.id;
		this.mode = options.mode;
		this.#logger = logger;
		this.#records = options.records;
		this.#host = new HostRole({
			hostPeerId: options.hostPeerId,
			graceMs: options.hostHandoverGraceMs,
			logger,
			candidates: () => this.#joinedPeers(),
			isConnected: (peerId) => this.#peers.has(peerId),
			record: (peerId) => this.#records.hostChanged(peerId),
			moved: (from, to) => {
				for (const peer of this.#joinedPeers()) if (peer.id === from || peer.id === to) this.#writePresence(peer);
			},
			announce: (peerId) => {
				if (this.#closed) return;
				for (const peer of this.#peers.values()) peer.notify("hostChanged", { peerId });
			},
		});
		this.#speakingThresholdDbov = options.speakingThresholdDbov;
		this.#demand = new ProducerDemand({ logger });
		this.#acquireWorker = options.acquireWorker;
		this.#extraWorker = options.extraWorker;
		this.#peersPerRouter = options.peersPerRouter;
		this.#maxPeers = options.maxPeers;
		this.#requestLimits = options.requestLimits;
		this.#metrics = options.metrics;
		this.#lastWorker = media.worker;
		this.#useMedia(media);
	}

	static async create(options: RoomOptions): Promise<Room> {
		const logger = options.logger.child({ room: options.id });
		// The media exists before the room does; its speaking monitor reaches the room's peers through this.
		let room: Room | undefined;
		const media = await RoomMedia.create(await options.acquireWorker(), {
			speakingThresholdDbov: options.speakingThresholdDbov,
			announceSpeaking: (peerIds) => {
				if (room) room.#announceSpeaking(peerIds);
			},
			logger,
			peersPerRouter: options.peersPerRouter,
			extraWorker: options.extraWorker,
		});
		room = new Room(options, logger, media);
		// The room opens because someone is connecting, and it may be reopening
		// without its host (everyone left, the SFU restarted): the host gets the
		// same grace as after a drop, then the role passes on. The host's own
		// connection (usually the one opening the room) cancels this at once.
		room.#host.away();
		logger.info({ worker: room.worker.index, host: options.hostPeerId }, "room opened");
		return room;
	}

	/** The worker of the room's primary router (the one it is moving to, once chosen). */
	get worker(): MediaWorker {
		return this.#media?.worker ?? this.#lastWorker;
	}

	/**
	 * The room's primary mediasoup router (the only one of a room within
	 * one router's share). For tests and diagnostics; signaling never hands
	 * it out. Throws while the media is moving to another worker.
	 */
	get router(): Router {
		if (!this.#media) throw new Error("the room's media is moving to another worker");
		return this.#media.router;
	}

	/** The room's routers, primary first, with their workers and the peers placed on each (diagnostics, tests). */
	get routers(): readonly RoomRouter[] {
		return this.#media?.routers ?? [];
	}

	/**
	 * The router `peer` is on, placing it now if it has none. For tests, e.g.
	 * a PlainTransport that plays real RTP into the room: a producer given to
	 * attachProducer must live on this router.
	 */
	async routerFor(peer: Peer): Promise<Router> {
		const media = await this.#currentMedia();
		if (peer.closed || this.#peers.get(peer.id) !== peer) throw connectionClosedError();
		return media.place(peer).ready;
	}

	/**
	 * What this room costs a worker, for placing rooms and routers: one per
	 * router there plus the people placed on it; people connected but not yet
	 * placed count on the primary's worker, where a small room puts them.
	 */
	loadOn(worker: MediaWorker): number {
		const media = this.#media;
		if (!media) return this.#lastWorker.index === worker.index ? 1 + this.#peers.size : 0;
		const unplaced = media.worker.index === worker.index ? Math.max(0, this.#peers.size - media.placedCount) : 0;
		return media.loadOn(worker.index) + unplaced;
	}

	/** Resolves once the room has media in place (at once, unless a worker just died). */
	async mediaReady(): Promise<void> {
		await this.#currentMedia();
	}

	get closed(): boolean {
		return this.#closed;
	}

	get peers(): ReadonlyMap<string, Peer> {
		return this.#peers;
	}

	get hostPeerId(): string | undefined {
		return this.#host.peerId;
	}

	get records(): RoomRecords {
		return this.#records;
	}

	status(): RoomStatus {
		return {
			hostPeerId: this.#host.peerId,
			handoverPending: this.#host.pending,
			peers: [...this.#joinedPeers()].map((peer) => this.#presenceOf(peer)),
		};
	}

	/**
	 * A video producer's demand (diagnostics, tests): what its watchers want
	 * right now and what its publisher was last told to send (null: nothing).
	 * Undefined for audio and unknown producers.
	 */
	producerDemand(producerId: string): { demand: number | null; told: number | null } | undefined {
		const demand = this.#demand.demandOf(producerId);
		const told = this.#demand.toldOf(producerId);
		return demand === undefined || told === undefined ? undefined : { demand, told };
	}

	/**
	 * Whether a connection for `peerId` fits (ROOM_MAX_PEERS). Someone
	 * already here always fits: their new connection replaces the old one.
	 * One place is the host's: while the current host is not connected
	 * (reloading, dropped, not back yet after a restart) everyone else shares
	 * ROOM_MAX_PEERS - 1, so guests can never lock the host out of their own
	 * room; the host gets in whenever fewer than ROOM_MAX_PEERS are inside.
	 * The door asks this in the same tick as it calls addPeer (nothing is
	 * awaited in between: the place is taken as it is counted), so
	 * concurrent connections cannot all squeeze into the last place.
	 */
	hasRoomFor(peerId: string): boolean {
		if (this.#peers.has(peerId)) return true;
		const host = this.#host.peerId;
		const hostAway = host !== undefined && host !== peerId && !this.#peers.has(host);
		return this.#peers.size < (hostAway ? this.#maxPeers - 1 : this.#maxPeers);
	}

	/** Accept a verified connection. A second connection for the same peer replaces the first (reload, reconnect). */
	addPeer(claims: TokenClaims, transport: WebSocketTransport, arrivedAt = performance.now()): Peer {
		const existing = this.#peers.get(claims.sub);
		if (existing) {
			this.#logger.info({ peer: claims.sub }, "peer reconnected; closing its previous connection");
			this.#removePeer(existing, "replaced");
		}
		// The host came back (or opened the room) within its grace period: it keeps the role.
		this.#host.connected(claims.sub);
		const peer = new Peer(claims, this.#protooRoom.createPeer(claims.sub, transport), this.#requestLimits, arrivedAt);
		this.#peers.set(peer.id, peer);
		peer.protoo.on("request", (request, accept, reject) => {
			// Before anything else, so a flood costs a counter and an error frame, nothing more.
			const verdict = peer.requests.take();
			if (verdict !== "ok") {
				const limited = new SignalingError(
					"rate-limited",
					`too many requests: at most ${this.#requestLimits.perSecond} per second after a burst of ${this.#requestLimits.burst}`,
				);
				reject(limited.protooCode, limited.protooReason);
				if (verdict === "flooding") void this.#disconnectFlooder(peer);
				return;
			}
			const generation = this.#mediaGeneration;
			// A rejoin after mediaReset is not a join to time.
			const firstJoin = request.method === "join" && !peer.joined;
			this.#handleRequest(peer, request.method, request.data, generation).then(
				(response) => {
					accept(response);
					// Chat held back during the join goes out only once its response has.
					// (A failed join never started holding, or its peer is gone.)
					if (request.method === "join") peer.releaseChat();
					if (firstJoin) this.#metrics?.joinAnswered((performance.now() - peer.arrivedAt) / 1000);
				},
				(error: unknown) => {
					// mediasoup fails whatever was in flight on a worker that died: that is a move, not a fault.
					const moved = !(error instanceof SignalingError) && (generation !== this.#mediaGeneration || !this.#media);
					const failure =
						error instanceof SignalingError
							? error
							: moved
								? mediaMovedError()
								: new SignalingError("internal", "the media server could not handle the request");
					if (!(error instanceof SignalingError) && !moved) {
						this.#logger.warn({ peer: peer.id, method: request.method, err: error }, "request failed");
					}
					reject(failure.protooCode, failure.protooReason);
				},
			);
		});
		peer.protoo.on("close", () => {
			if (this.#peers.get(peer.id) === peer) this.#removePeer(peer, "dropped");
		});
		this.#logger.info({ peer: peer.id, host: this.#host.is(peer.id) }, "peer connected");
		// The first connection makes the room occupied; later ones rely on the heartbeat.
		if (this.#peers.size === 1) void this.#records.occupied();
		this.emit("peersChanged");
		return peer;
	}

	/**
	 * Remove a peer for good: revoke its id (its token is refused from now on),
	 * tell it, close it. Used by the host's kickPeer and by operators.
	 * Returns false if no such peer is here.
	 */
	async kick(peerId: string): Promise<boolean> {
		if (!this.#peers.has(peerId)) return false;
		// Revoke first, so a reconnect racing the kick is refused at the door.
		// Memory has it at once; Redis gets a bounded wait, so a kick never hangs on it.
		await settleWithin(this.#records.revoke(peerId), recordWaitMs);
		// Look again: while Redis answered, the peer may have left or reconnected.
		const target = this.#peers.get(peerId);
		if (!target) return true;
		await target.notifyBeforeClose("kicked", {});
		if (this.#peers.get(peerId) === target) this.#removePeer(target, "kicked");
		this.#logger.info({ peer: peerId }, "peer kicked");
		return true;
	}

	/**
	 * The connection kept flooding after its requests were refused: tell it
	 * why (`refused`, reason `too-many-requests`) and close it. Everyone
	 * else sees an ordinary departure.
	 */
	async #disconnectFlooder(peer: Peer): Promise<void> {
		if (peer.closed || this.#peers.get(peer.id) !== peer || this.#flooders.has(peer)) return;
		this.#flooders.add(peer);
		this.#logger.warn({ peer: peer.id }, "connection kept flooding requests; disconnecting it");
		this.#metrics?.refused("too-many-requests");
		await peer.notifyBeforeClose("refused", {
			reason: "too-many-requests",
			message: "too many requests: the connection kept sending after being told to slow down",
		});
		if (this.#peers.get(peer.id) === peer) this.#removePeer(peer, "dropped");
	}

	/** An operator closed the room: tell everyone, then close. */
	async closeByOperator(): Promise<void> {
		if (this.#closed) return;
		// The API deleted the room's keys before ordering this: never write them back.
		void this.#records.retire();
		await Promise.all([...this.#peers.values()].map((peer) => peer.notifyBeforeClose("roomClosed", {})));
		this.#logger.info("room closed by an operator");
		this.close();
	}

	/** Close every peer and the router. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#host.close();
		this.#demand.close();
		for (const peer of this.#peers.values()) peer.close();
		this.#peers.clear();
		this.#protooRoom.close();
		this.#media?.close();
		this.#media = undefined;
		this.#logger.info("room closed");
		this.emit("close");
	}

	#useMedia(media: RoomMedia): void {
		this.#media = media;
		this.#lastWorker = media.worker;
		media.once("workerclose", () => {
			if (this.#media === media) this.#moveMedia(media);
		});
	}

	/**
	 * A worker under the room died, taking a router and every transport,
	 * producer, consumer and pipe on it. Keep the room (peers, protoo room,
	 * host, chat, join order), close what is left of its media (routers on
	 * live workers too: the simplest correct rebuild is a whole one), build
	 * new media on a live worker, then tell each peer that was here
	 * `mediaReset` so it rebuilds its media and rejoins, placed anew.
	 * Only if no worker comes in time does the room close; its peers then see
	 * their socket close (unavailable, not final) and come back by themselves.
	 */
	#moveMedia(lost: RoomMedia): void {
		if (this.#closed) return;
		this.#media = undefined;
		this.#logger.warn(
			{ worker: this.#lastWorker.index, routers: lost.routers.length },
			"worker died under the room; moving its media",
		);
		const affected = [...this.#peers.values()];
		for (const peer of affected) peer.resetMedia();
		lost.close();
		this.#moving = (async () => {
			let lastError: unknown;
			for (let attempt = 0; attempt < mediaMoveAttempts && !this.#closed; attempt++) {
				try {
					const media = await RoomMedia.create(await this.#acquireWorker(), {
						speakingThresholdDbov: this.#speakingThresholdDbov,
						announceSpeaking: (peerIds) => this.#announceSpeaking(peerIds),
						logger: this.#logger,
						peersPerRouter: this.#peersPerRouter,
						extraWorker: this.#extraWorker,
					});
					// The new worker may have died too while the router was made.
					if (!media.closed) return media;
				} catch (error) {
					lastError = error;
				}
			}
			throw lastError ?? new Error("the room closed while its media moved");
		})().then(
			(media) => {
				this.#moving = undefined;
				if (this.#closed) {
					media.close();
					return;
				}
				this.#mediaGeneration++;
				this.#useMedia(media);
				this.#logger.info({ worker: media.worker.index }, "room media moved to a live worker");
				for (const peer of affected) {
					if (this.#peers.get(peer.id) !== peer || peer.closed) continue;
					peer.notify("mediaReset", { reason: "worker-died" });
					// Nobody speaks on the new router yet.
					peer.notifySpeaking([]);
					this.#writePresence(peer);
				}
				// The load moved from one worker to another.
				this.emit("peersChanged");
			},
			(error: unknown) => {
				this.#moving = undefined;
				this.#logger.error({ err: error }, "no live worker for the room's media; closing the room");
				this.close();
			},
		);
	}

	/**
	 * The media to use now, waiting for a move under way. Throws a retryable
	 * `conflict` when the room's media moved after the request began (its
	 * client will be told mediaReset and start over) or the room closed.
	 */
	async #currentMedia(since?: number): Promise<RoomMedia> {
		if (this.#moving) await this.#moving;
		if (!this.#media || (since !== undefined && this.#mediaGeneration !== since)) throw mediaMovedError();
		return this.#media;
	}

	/** After awaiting mediasoup: throw if the media was lost or replaced meanwhile. */
	#stillCurrent(media: RoomMedia): void {
		if (this.#media !== media || media.closed) throw mediaMovedError();
	}

	#removePeer(peer: Peer, departure: PeerDeparture): void {
		this.#peers.delete(peer.id);
		const wasJoined = peer.joined;
		peer.close();
		// Its place on a router is free again; an extra router left empty closes.
		this.#media?.release(peer);
		if (wasJoined) {
			for (const other of this.#joinedPeers(peer)) other.notify("peerLeft", { peerId: peer.id, reason: departure });
			this.#records.removePresence(peer.id);
		}
		this.#logger.info({ peer: peer.id, departure }, "peer left");
		this.emit("peersChanged");
		// A replaced peer's successor is being added right now: the room is not empty.
		if (this.#peers.size === 0 && departure !== "replaced") {
			this.close();
			return;
		}
		if (this.#closed || !this.#host.is(peer.id) || departure === "replaced") return;
		// Maybe a reload: give the host time to come back with the same peer id.
		if (departure === "dropped") this.#host.away();
		else this.#host.gone();
	}

	#roleOf(peer: Peer): PeerRole {
		return this.#host.is(peer.id) ? "host" : "guest";
	}

	#infoOf(peer: Peer): PeerInfo {
		return { id: peer.id, name: peer.name, role: this.#roleOf(peer) };
	}

	#presenceOf(peer: Peer): RoomPresence {
		return {
			peerId: peer.id,
			name: peer.name,
			role: this.#roleOf(peer),
			joinedAt: peer.joinedAt ?? Date.now(),
			producers: [...peer.producers.values()]
				.filter((producer) => !producer.closed)
				.map((producer) => ({
					id: producer.id,
					kind: producer.kind,
					source: producer.appData.source,
					paused: producer.paused,
				})),
		};
	}

	/** Publish a peer's presence, unless it already left (a slow request must not resurrect it). */
	#writePresence(peer: Peer): void {
		if (this.#closed || !peer.joined || this.#peers.get(peer.id) !== peer) return;
		this.#records.writePresence(this.#presenceOf(peer));
	}

	*#joinedPeers(except?: Peer): Iterable<Peer> {
		for (const peer of this.#peers.values()) {
			if (peer !== except && peer.joined && !peer.closed) yield peer;
		}
	}

	/**
	 * Every request a client may send, typed against the protocol's map.
	 * `generation` is the media generation when the request arrived:
	 * requests that create media objects refuse to do so on a media that
	 * replaced the one their client knew.
	 */
	readonly #handlers: Handlers = {
		// Same codecs on every router, so an answer from before a move is still right.
		// Same JSON on the wire; the client library's type just knows fewer header extensions (no toffset).
		getRouterRtpCapabilities: async () =>
			(await this.#currentMedia()).router.rtpCapabilities as ClientRequests["getRouterRtpCapabilities"]["response"],
		createWebRtcTransport: (peer, data, generation) => this.#createWebRtcTransport(peer, data, generation),
		connectWebRtcTransport: (peer, data) => this.#connectWebRtcTransport(peer, data),
		join: (peer, data) => this.#join(peer, data),
		produce: (peer, data, generation) => this.#produce(peer, data, generation),
		closeProducer: (peer, { producerId }) => {
			// Closing frees its source's slot and drops it from the peer's producers (see #attach).
			this.#ownProducer(peer, producerId).close();
			this.#writePresence(peer);
			return {};
		},
		pauseProducer: async (peer, { producerId }) => {
			await this.#ownProducer(peer, producerId).pause();
			this.#writePresence(peer);
			// A muted camera is watched by nobody: it stops being sent (after the delay).
			this.#demand.changed(producerId);
			return {};
		},
		resumeProducer: async (peer, { producerId }) => {
			await this.#ownProducer(peer, producerId).resume();
			this.#writePresence(peer);
			this.#demand.changed(producerId);
			return {};
		},
		sendChat: (peer, data) => this.#sendChat(peer, data),
		setConsumerPreferredLayers: (peer, data) => this.#setConsumerPreferredLayers(peer, data),
		pauseConsumer: (peer, data) => this.#setConsumerWatched(peer, data.consumerId, false),
		resumeConsumer: (peer, data) => this.#setConsumerWatched(peer, data.consumerId, true),
		kickPeer: async (peer, { peerId }) => {
			if (!this.#host.is(peer.id)) throw new SignalingError("forbidden", "only the host can remove someone");
			if (peerId === peer.id) throw new SignalingError("bad-request", "the host cannot remove itself; use leave");
			if (!this.#peers.has(peerId)) throw new SignalingError("not-found", "no such peer in this room");
			await this.kick(peerId);
			return {};
		},
		leave: (peer) => {
			// Answer first, then close: the client is waiting for the response.
			setImmediate(() => {
				if (this.#peers.get(peer.id) === peer) this.#removePeer(peer, "left");
			});
			return {};
		},
		ping: () => ({ now: Date.now() }),
		chatHistory: (peer, data) => this.#chatHistory(peer, data),
	};

	async #handleRequest(
		peer: Peer,
		method: string,
		data: unknown,
		generation: number,
	): Promise<ClientRequests[ClientRequestMethod]["response"]> {
		if (!isClientRequestMethod(method)) throw new SignalingError("unknown-method", `unknown method "${method}"`);
		return this.#dispatch(peer, method, data, generation);
	}

	async #dispatch<M extends ClientRequestMethod>(
		peer: Peer,
		method: M,
		data: unknown,
		generation: number,
	): Promise<ClientRequests[M]["response"]> {
		const handler: Handler<M> = this.#handlers[method];
		return handler(peer, validateRequest(method, data), generation);
	}

	/**
	 * At most one transport per direction: the slot is taken before the
	 * first await, so of any number of concurrent requests exactly one
	 * reaches mediasoup; the rest are refused at once with `conflict`.
	 */
	async #createWebRtcTransport(
		peer: Peer,
		{ direction }: ClientRequests["createWebRtcTransport"]["request"],
		generation: number,
	): Promise<ClientRequests["createWebRtcTransport"]["response"]> {
		const ticket = peer.transportSlots.take(direction);
		if (!ticket) throw new SignalingError("conflict", `a ${direction} transport already exists for this peer`);
		try {
			const media = await this.#currentMedia(generation);
			// Placed synchronously (never a peer that is gone: nothing would release it).
			if (peer.closed || this.#peers.get(peer.id) !== peer) throw connectionClosedError();
			const placed = media.place(peer);
			const router = await placed.ready;
			this.#stillCurrent(media);
			const transport: PeerTransport = await router.createWebRtcTransport({
				webRtcServer: placed.worker.webRtcServer,
				enableUdp: true,
				enableTcp: true,
				preferUdp: true,
				initialAvailableOutgoingBitrate: 1_000_000,
				appData: { direction },
			});
			// The worker died meanwhile (the slots were reset with the peer's media), or the peer left.
			if (this.#media !== media || media.closed || peer.closed || !peer.transportSlots.holds(direction, ticket)) {
				transport.close();
				this.#stillCurrent(media);
				throw peer.closed ? connectionClosedError() : mediaMovedError();
			}
			peer.transports.set(transport.id, transport);
			transport.observer.once("close", () => peer.transportSlots.release(direction, ticket));
			transport.on("dtlsstatechange", (state) => {
				if (state === "failed" || state === "closed") {
					this.#logger.warn({ peer: peer.id, direction, state }, "transport DTLS ended");
				}
			});
			return {
				id: transport.id,
				iceParameters: transport.iceParameters,
				iceCandidates: transport.iceCandidates,
				dtlsParameters: transport.dtlsParameters,
			};
		} catch (error) {
			peer.transportSlots.release(direction, ticket);
			throw error;
		}
	}

	async #connectWebRtcTransport(
		peer: Peer,
		{ transportId, dtlsParameters }: ClientRequests["connectWebRtcTransport"]["request"],
	): Promise<ClientRequests["connectWebRtcTransport"]["response"]> {
		const transport = peer.transports.get(transportId);
		if (!transport) throw new SignalingError("not-found", "no such transport");
		// Once per transport, marked before the await: concurrent connects never all reach the worker.
		if (this.#connected.has(transport)) throw new SignalingError("conflict", "the transport is already connected");
		this.#connected.add(transport);
		try {
			await transport.connect({ dtlsParameters });
		} catch (error) {
			this.#connected.delete(transport);
			// Closed under us: the worker died (mediaReset follows), not the client's mistake.
			if (transport.closed) throw mediaMovedError();
			throw new SignalingError("bad-request", `connectWebRtcTransport: ${(error as Error).message}`);
		}
		return {};
	}

	async #join(
		peer: Peer,
		{ rtpCapabilities }: ClientRequests["join"]["request"],
	): Promise<ClientRequests["join"]["response"]> {
		if (peer.joined && peer.rejoinDue) return this.#rejoin(peer, rtpCapabilities);
		// Hearing chat without being joined means a join is in progress.
		if (peer.joined || peer.hearsChat) throw new SignalingError("conflict", "already joined");
		// Hold chat from before the history is read until the response is out:
		// every message is then in the history, in the response, or after it.
		// (The history is in memory now, so nothing arrives in between; the
		// holding keeps that true should reading it ever wait again.)
		peer.holdChat();
		const history = this.#records.chatHistory();
		// The socket may have gone (or been replaced) meanwhile.
		if (this.#closed || this.#peers.get(peer.id) !== peer || peer.closed) {
			throw new SignalingError("conflict", "the connection closed while joining");
		}
		peer.markJoined(rtpCapabilities, ++this.#joinCount);
		// The host left while nobody else had joined: the first to join takes over.
		this.#host.joined();
		this.#writePresence(peer);
		const others = [...this.#joinedPeers(peer)];
		const info = this.#infoOf(peer);
		for (const other of others) other.notify("peerJoined", info);
		this.#consumeEveryoneLater(peer, others);
		// Held messages are the newest, so the page keeps them; older ones are paged with chatHistory.
		const page = chatPage(mergeChat([...history], peer.takeHeldChat()));
		return this.#joinAnswer(peer, others, page);
	}

	/**
	 * `join` again after mediaReset: the peer never left, so nobody is told;
	 * it gets the same answer as a first join and consumes everyone's new
	 * producers. It has been hearing chat all along, so the page overlaps
	 * what it has: clients merge by message id.
	 */
	#rejoin(peer: Peer, rtpCapabilities: ClientRequests["join"]["request"]["rtpCapabilities"]) {
		peer.markRejoined(rtpCapabilities);
		this.#writePresence(peer);
		const others = [...this.#joinedPeers(peer)];
		this.#consumeEveryoneLater(peer, others);
		this.#logger.info({ peer: peer.id }, "peer rejoined after its media moved");
		return this.#joinAnswer(peer, others, chatPage(this.#records.chatHistory()));
	}

	/**
	 * The join answer is the largest message the SFU sends: the peers list
	 * plus one chat page. The page is bounded by chatPage
	 * (limits.chatHistoryPageMaxBytes); a PeerInfo is at most ~330 bytes (ids
	 * of ≤ 64 characters, names of ≤ 40 characters), so the answer stays
	 * within limits.serverMessageMaxBytes (1 MiB) for rooms of up to ~3,000
	 * people, far beyond what one router carries. Every other message is
	 * smaller: one chat message, one consumer's RTP parameters, a few ids.
	 */
	#joinAnswer(peer: Peer, others: Peer[], page: ChatPage): ClientRequests["join"]["response"] {
		return {
			self: this.#infoOf(peer),
			peers: others.map((other) => this.#infoOf(other)),
			mode: this.mode,
			chat: page.messages,
			chatMore: page.more,
		};
	}

	/**
	 * Consumers are created after the response so the client knows who is in
	 * the room before their media arrives.
	 */
	#consumeEveryoneLater(peer: Peer, others: Peer[]): void {
		setImmediate(() => {
			// Someone may be speaking already; otherwise the first change tells.
			if (this.#media) peer.notifySpeaking(this.#media.speaking.current);
			// Producers are read now, not at join: one attached meanwhile is here,
			// or its own loop (which reads the joined peers after listing it) finds this peer.
			for (const other of others) {
				if (other.closed || this.#peers.get(other.id) !== other) continue;
				for (const producer of other.producers.values()) void this.#consume(peer, other, producer);
			}
		});
	}

	#chatHistory(
		peer: Peer,
		{ before }: ClientRequests["chatHistory"]["request"],
	): ClientRequests["chatHistory"]["response"] {
		if (!peer.joined) throw new SignalingError("not-joined", "join before reading the chat history");
		const history = this.#records.chatHistory();
		const index = history.findIndex((message) => message.id === before);
		// Unknown, or dropped off the kept history since the client saw it.
		if (index < 0) throw new SignalingError("not-found", "no such message in the kept history");
		return chatPage(history, index);
	}

	/**
	 * One producer per source: the checks that need no waiting come first,
	 * then the source's slot is taken before the first await, so of any
	 * number of concurrent requests exactly one reaches mediasoup.
	 */
	async #produce(
		peer: Peer,
		{ transportId, kind, rtpParameters, source }: ClientRequests["produce"]["request"],
		generation: number,
	): Promise<ClientRequests["produce"]["response"]> {
		if (!peer.joined) throw new SignalingError("not-joined", "join before producing");
		if (peer.rejoinDue) throw new SignalingError("not-joined", "join again (after mediaReset) before producing");
		const transport = peer.transports.get(transportId);
		if (transport?.appData.direction !== "send") {
			throw new SignalingError("not-found", "no such send transport");
		}
		if (kindOfSource[source] !== kind) {
			throw new SignalingError("bad-request", `a ${source} producer must be ${kindOfSource[source]}`);
		}
		if (this.mode === "audio" && source === "cam") {
			throw new SignalingError("bad-request", "this is an audio-only room");
		}
		const ticket = peer.producerSlots.take(source);
		if (!ticket) throw new SignalingError("conflict", `already producing ${source}`);
		let producer: PeerProducer | undefined;
		try {
			const media = await this.#currentMedia(generation);
			try {
				producer = await transport.produce({ kind, rtpParameters, appData: { source, peerId: peer.id } });
			} catch (error) {
				this.#stillCurrent(media);
				throw new SignalingError("bad-request", `produce: ${(error as Error).message}`);
			}
			if (this.#media !== media || producer.closed || peer.closed || !peer.producerSlots.holds(source, ticket)) {
				this.#stillCurrent(media);
				throw peer.closed ? connectionClosedError() : mediaMovedError();
			}
			await this.#attach(peer, producer, ticket);
			return { producerId: producer.id };
		} catch (error) {
			producer?.close();
			peer.producerSlots.release(source, ticket);
			throw error;
		}
	}

	/**
	 * Make `producer` its peer's `appData.source`: listed in its presence,
	 * consumed by everyone else, watched for speaking if it is a microphone.
	 * For tests, which give a peer a producer fed with real RTP from a
	 * PlainTransport (no browser, so no DTLS); `produce` does the same after
	 * its checks. Throws `conflict` if the peer has that source already.
	 */
	async attachProducer(peer: Peer, producer: PeerProducer): Promise<void> {
		if (peer.closed || this.#peers.get(peer.id) !== peer) throw connectionClosedError();
		const ticket = peer.producerSlots.take(producer.appData.source);
		if (!ticket) throw new SignalingError("conflict", `already producing ${producer.appData.source}`);
		await this.#attach(peer, producer, ticket);
	}

	async #attach(peer: Peer, producer: PeerProducer, ticket: symbol): Promise<void> {
		const { source } = producer.appData;
		peer.producers.set(producer.id, producer);
		// Closed by closeProducer, with its transport, or with the peer: the source is free again.
		producer.observer.once("close", () => {
			if (peer.producers.get(producer.id) === producer) peer.producers.delete(producer.id);
			peer.producerSlots.release(source, ticket);
		});
		const media = this.#media;
		// It lives on its peer's router (produce uses the peer's transport; tests use routerFor).
		if (media) media.adopt(producer, media.place(peer));
		this.#demand.track(peer, producer);
		if (source === "mic" && media) await this.#watchSpeaking(media, peer, producer);
		this.#writePresence(peer);
		// Read after the producer is listed (and after any await above): a peer
		// joining from now on finds it in the list, and every peer joined by now
		// is here, so nobody misses it; a pair reached both ways consumes once.
		for (const other of this.#joinedPeers(peer)) void this.#consume(other, peer, producer);
	}

	/**
	 * One speaking monitor per room, on the primary router: a microphone on
	 * another router is piped there first. Everyone consumes every
	 * microphone, so the primary needs that pipe for its own peers anyway,
	 * and one monitor gives one loudest-first list without merging reports
	 * from several observers that tick at different moments.
	 */
	async #watchSpeaking(media: RoomMedia, peer: Peer, producer: PeerProducer): Promise<void> {
		const home = media.homeOf(producer.id);
		const primary = media.routers[0];
		if (home && primary && home !== primary) {
			try {
				await media.pipe(producer.id, home, primary);
			} catch (error) {
				// Closed meanwhile (the peer left, or the media is being rebuilt): nothing to watch.
				if (producer.closed || media.closed) return;
				throw error;
			}
		}
		if (producer.closed || this.#media !== media) return;
		await media.speaking.add(producer, peer.id);
	}

	async #sendChat(
		peer: Peer,
		{ text }: ClientRequests["sendChat"]["request"],
	): Promise<ClientRequests["sendChat"]["response"]> {
		if (!peer.joined) throw new SignalingError("not-joined", "join before chatting");
		const checked = chatText(text);
		// After the checks, so a rejected message costs nothing from the budget.
		if (!this.#chatLimiter.take(peer.id)) {
			throw new SignalingError("rate-limited", `at most ${limits.chatPerSecond} messages per second`);
		}
		// Sender and time are the server's: a client cannot speak in someone else's name.
		const message: ChatMessage = {
			id: randomUUID(),
			peerId: peer.id,
			name: peer.name,
			text: checked,
			sentAt: Date.now(),
		};
		// Into the history (memory, synchronously) and out to everyone in one
		// step, with no await in between: a join reads the history and starts
		// hearing chat in one step too (see #join), so it gets each message
		// once, in its page or after it. The Redis copy is awaited after; a
		// failure there is logged and changes nothing for the call.
		const stored = this.#records.appendChat(message);
		for (const other of this.#peers.values()) {
			if (other.hearsChat) other.deliverChat(message);
		}
		this.#metrics?.chatMessage();
		await stored;
		// Never the text: logs are not a place for what people say.
		this.#logger.debug({ peer: peer.id, message: message.id, length: checked.length }, "chat message");
		return { message };
	}

	async #setConsumerPreferredLayers(
		peer: Peer,
		{ consumerId, spatialLayer, temporalLayer }: ClientRequests["setConsumerPreferredLayers"]["request"],
	): Promise<ClientRequests["setConsumerPreferredLayers"]["response"]> {
		const consumer = peer.consumers.get(consumerId);
		if (!consumer) throw new SignalingError("not-found", "no such consumer");
		// Audio and single-encoding video have one layer, so there is nothing to
		// choose. Clients ask per tile without knowing how the sender encodes,
		// so this is an ordinary request, answered ok, not an error.
		if (consumer.kind !== "video" || (consumer.type !== "simulcast" && consumer.type !== "svc")) return {};
		try {
			await consumer.setPreferredLayers(
				temporalLayer === undefined ? { spatialLayer } : { spatialLayer, temporalLayer },
			);
		} catch (error) {
			if (consumer.closed) throw new SignalingError("not-found", "the consumer closed");
			throw error;
		}
		this.#demand.changed(consumer.producerId);
		return {};
	}

	/**
	 * The viewer shows or hides a consumer's video. This is the consumer's own
	 * pause, which mediasoup keeps apart from its producer's (producerPaused):
	 * the sender muting and unmuting still reaches the viewer as before. A
	 * consumer whose newConsumer is still unanswered only gets the mark; it
	 * starts as marked (see #consume). Resuming asks the sender for a key
	 * frame at once, so the picture returns without waiting for the next one.
	 */
	async #setConsumerWatched(peer: Peer, consumerId: string, watched: boolean): Promise<Record<string, never>> {
		const consumer = peer.consumers.get(consumerId);
		if (!consumer) throw new SignalingError("not-found", "no such consumer");
		consumer.appData.unwatched = !watched;
		// Before anything awaits: a viewer coming back raises its publisher's demand at once.
		this.#demand.changed(consumer.producerId);
		if (!consumer.appData.started) return {};
		try {
			if (watched) {
				await consumer.resume();
				if (consumer.kind === "video") await consumer.requestKeyFrame();
			} else {
				await consumer.pause();
			}
		} catch (error) {
			if (consumer.closed) throw new SignalingError("not-found", "the consumer closed");
			throw error;
		}
		return {};
	}

	#announceSpeaking(peerIds: string[]): void {
		if (this.#closed) return;
		for (const peer of this.#joinedPeers()) peer.notifySpeaking(peerIds);
	}

	/**
	 * Let `consumer` receive `producer`: piped to the consumer's router first
	 * if it lives on another one, then created paused, resumed once the
	 * client is ready for it.
	 */
	async #consume(consumerPeer: Peer, producerPeer: Peer, producer: PeerProducer): Promise<void> {
		const media = this.#media;
		const rtpCapabilities = consumerPeer.rtpCapabilities;
		const transport = consumerPeer.transport("recv");
		// Without capabilities the peer is waiting to rejoin after mediaReset; it consumes everyone then.
		if (!media || !rtpCapabilities || !transport || producer.closed) return;
		// A join and a new producer can both reach the same pair; one consumer is enough.
		if (consumerPeer.consumedProducers.has(producer.id)) return;
		const home = media.homeOf(producer.id);
		const target = media.placementOf(consumerPeer);
		const homeRouter = home?.router;
		if (!home || !target || !homeRouter) return;
		// Same codecs on every router, and a pipe producer has its producer's parameters: ask where it lives.
		if (!homeRouter.canConsume({ producerId: producer.id, rtpCapabilities })) {
			this.#logger.info({ peer: consumerPeer.id, producer: producer.id }, "peer cannot consume producer");
			return;
		}
		consumerPeer.consumedProducers.add(producer.id);
		try {
			await media.pipe(producer.id, home, target);
		} catch (error) {
			consumerPeer.consumedProducers.delete(producer.id);
			// The producer closed, a router closed or the media is being rebuilt: nothing to consume.
			const expected = producer.closed || consumerPeer.closed || this.#media !== media || media.closed;
			const log = { peer: consumerPeer.id, producer: producer.id, err: error };
			if (expected) this.#logger.debug(log, "producer not piped");
			else this.#logger.warn(log, "could not pipe a producer to its consumer's router");
			return;
		}
		try {
			if (this.#media !== media || consumerPeer.closed || producer.closed) {
				consumerPeer.consumedProducers.delete(producer.id);
				return;
			}
			const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities, paused: true });
			if (this.#media !== media || consumer.closed) {
				consumer.close();
				return;
			}
			consumerPeer.consumers.set(consumer.id, consumer);
			// Counts for its producer's demand from now on (a publisher sending nothing starts again).
			this.#demand.watch(consumerPeer, consumer);
			const closed = () => {
				consumerPeer.consumers.delete(consumer.id);
				consumerPeer.consumedProducers.delete(producer.id);
				consumerPeer.notify("consumerClosed", { consumerId: consumer.id });
			};
			consumer.on("transportclose", () => consumerPeer.consumers.delete(consumer.id));
			consumer.on("producerclose", closed);
			consumer.on("producerpause", () => consumerPeer.notify("consumerPaused", { consumerId: consumer.id }));
			consumer.on("producerresume", () => consumerPeer.notify("consumerResumed", { consumerId: consumer.id }));
			await consumerPeer.request("newConsumer", {
				id: consumer.id,
				peerId: producerPeer.id,
				producerId: producer.id,
				kind: consumer.kind,
				source: producer.appData.source,
				// Same JSON on the wire; the client library's type just knows fewer header extensions.
				rtpParameters: consumer.rtpParameters as ServerRequests["newConsumer"]["request"]["rtpParameters"],
				producerPaused: consumer.producerPaused,
			});
			consumer.appData.started = true;
			// Hidden by its viewer while being offered (see #setConsumerWatched): it stays paused.
			if (!consumer.closed && consumer.appData.unwatched !== true) await consumer.resume();
		} catch (error) {
			// The consumer peer left or refused; nothing else depends on it.
			this.#logger.debug({ peer: consumerPeer.id, err: error }, "consumer not started");
		}
	}

	#ownProducer(peer: Peer, producerId: string): PeerProducer {
		const producer = peer.producers.get(producerId);
		if (!producer) throw new SignalingError("not-found", "no such producer");
		return producer;
	}
}
