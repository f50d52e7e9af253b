/**
 * A call: one mediasoup router on one worker, one protoo room, and the peers
 * in it. The room closes itself when its last peer leaves or its worker dies.
 *
 * The room also decides who is host. The role belongs to a peer id, not to a
 * token claim: it starts with the id Redis names and moves on when that peer
 * leaves (at once on `leave` or a kick, after a grace period when its socket
 * drops, so a reloading host keeps it).
 *
 * It also carries the room's chat (stored in Redis, broadcast to everyone
 * joined) and says who is speaking (the router's AudioLevelObserver).
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import {
	type ChatMessage,
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
import type { Producer, Router, WebRtcTransport } from "mediasoup/types";
import type { Logger } from "pino";
import { Room as ProtooRoom, type WebSocketTransport } from "protoo-server";
import { mediaCodecs } from "../media-codecs.ts";
import { SignalingError } from "../signaling/errors.ts";
import { isClientRequestMethod, validateRequest } from "../signaling/validate.ts";
import type { MediaWorker } from "../workers/worker-pool.ts";
import { ChatRateLimiter, chatText, mergeChat } from "./chat.ts";
import { Peer } from "./peer.ts";
import type { RoomRecords } from "./room-records.ts";
import { SpeakingMonitor } from "./speaking.ts";

export interface RoomEvents {
	close: [];
	peersChanged: [];
}

export interface RoomOptions {
	id: string;
	mode: RoomMode;
	worker: MediaWorker;
	logger: Logger;
	/** Peer id that holds the host role when the room opens. */
	hostPeerId: string | undefined;
	/** How long a host whose socket dropped keeps the role while away. */
	hostHandoverGraceMs: number;
	/** Level above which a microphone counts as speaking, dBov. */
	speakingThresholdDbov: number;
	records: RoomRecords;
}

/** A snapshot for tests and diagnostics. */
export interface RoomStatus {
	hostPeerId: string | undefined;
	/** A handover is waiting for the host's grace period to end (or for someone to join). */
	handoverPending: boolean;
	peers: RoomPresence[];
}

const kindOfSource: Record<MediaSource, "audio" | "video"> = { mic: "audio", cam: "video", screen: "video" };

export class Room extends EventEmitter<RoomEvents> {
	readonly id: string;
	readonly mode: RoomMode;
	readonly worker: MediaWorker;
	readonly createdAt = Date.now();
	readonly #router: Router;
	readonly #protooRoom = new ProtooRoom();
	readonly #peers = new Map<string, Peer>();
	readonly #logger: Logger;
	readonly #records: RoomRecords;
	readonly #hostHandoverGraceMs: number;
	readonly #speaking: SpeakingMonitor;
	readonly #chatLimiter = new ChatRateLimiter();
	#hostPeerId: string | undefined;
	#handoverTimer: NodeJS.Timeout | undefined;
	/** The host is gone but nobody could take over yet: the next peer to join does. */
	#handoverDue = false;
	#joinCount = 0;
	#closed = false;

	private constructor(options: RoomOptions, router: Router, logger: Logger, speaking: SpeakingMonitor) {
		super();
		this.#speaking = speaking;
		this.id = options.id;
		this.mode = options.mode;
		this.worker = options.worker;
		this.#router = router;
		this.#logger = logger;
		this.#records = options.records;
		this.#hostPeerId = options.hostPeerId;
		this.#hostHandoverGraceMs = options.hostHandoverGraceMs;
		router.on("workerclose", () => {
			this.#logger.warn("worker died under the room; closing it");
			this.close();
		});
	}

	static async create(options: RoomOptions): Promise<Room> {
		const router = await options.worker.worker.createRouter({ mediaCodecs });
		const logger = options.logger.child({ room: options.id });
		// The monitor exists before the room does; it reaches the room's peers through this.
		let room: Room | undefined;
		let speaking: SpeakingMonitor;
		try {
			speaking = await SpeakingMonitor.create(router, {
				thresholdDbov: options.speakingThresholdDbov,
				announce: (peerIds) => {
					if (room) room.#announceSpeaking(peerIds);
				},
				logger,
			});
		} catch (error) {
			router.close();
			throw error;
		}
		room = new Room(options, router, logger, speaking);
		logger.info({ worker: options.worker.index, host: options.hostPeerId }, "room opened");
		return room;
	}

	/**
	 * The room's mediasoup router. For tests and diagnostics, e.g. a
	 * PlainTransport that plays real RTP into the room; signaling never
	 * hands it out.
	 */
	get router(): Router {
		return this.#router;
	}

	get closed(): boolean {
		return this.#closed;
	}

	get peers(): ReadonlyMap<string, Peer> {
		return this.#peers;
	}

	get hostPeerId(): string | undefined {
		return this.#hostPeerId;
	}

	get records(): RoomRecords {
		return this.#records;
	}

	status(): RoomStatus {
		return {
			hostPeerId: this.#hostPeerId,
			handoverPending: this.#handoverTimer !== undefined || this.#handoverDue,
			peers: [...this.#joinedPeers()].map((peer) => this.#presenceOf(peer)),
		};
	}

	/** Accept a verified connection. A second connection for the same peer replaces the first (reload, reconnect). */
	addPeer(claims: TokenClaims, transport: WebSocketTransport): Peer {
		const existing = this.#peers.get(claims.sub);
		if (existing) {
			this.#logger.info({ peer: claims.sub }, "peer reconnected; closing its previous connection");
			this.#removePeer(existing, "replaced");
		}
		if (claims.sub === this.#hostPeerId) {
			// The host came back within its grace period: it keeps the role.
			clearTimeout(this.#handoverTimer);
			this.#handoverTimer = undefined;
			this.#handoverDue = false;
		}
		const peer = new Peer(claims, this.#protooRoom.createPeer(claims.sub, transport));
		this.#peers.set(peer.id, peer);
		peer.protoo.on("request", (request, accept, reject) => {
			this.#handleRequest(peer, request.method, request.data).then(
				(response) => {
					accept(response);
					// Chat held back during the join goes out only once its response has.
					// (A failed join never started holding, or its peer is gone.)
					if (request.method === "join") peer.releaseChat();
				},
				(error: unknown) => {
					const failure =
						error instanceof SignalingError
							? error
							: new SignalingError("internal", "the media server could not handle the request");
					if (!(error instanceof SignalingError)) {
						this.#logger.warn({ peer: peer.id, method: request.method, err: error }, "request failed");
					}
					reject(failure.protooCode, failure.protooReason);
				},
			);
		});
		peer.protoo.on("close", () => {
			if (this.#peers.get(peer.id) === peer) this.#removePeer(peer, "dropped");
		});
		this.#logger.info({ peer: peer.id, host: peer.id === this.#hostPeerId }, "peer connected");
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
		await this.#records.revoke(peerId);
		// Look again: while Redis answered, the peer may have left or reconnected.
		const target = this.#peers.get(peerId);
		if (!target) return true;
		await target.notifyBeforeClose("kicked", {});
		if (this.#peers.get(peerId) === target) this.#removePeer(target, "kicked");
		this.#logger.info({ peer: peerId }, "peer kicked");
		return true;
	}

	/** An operator closed the room: tell everyone, then close. */
	async closeByOperator(): Promise<void> {
		if (this.#closed) return;
		await Promise.all([...this.#peers.values()].map((peer) => peer.notifyBeforeClose("roomClosed", {})));
		this.#logger.info("room closed by an operator");
		this.close();
	}

	/** Close every peer and the router. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		clearTimeout(this.#handoverTimer);
		this.#handoverTimer = undefined;
		for (const peer of this.#peers.values()) peer.close();
		this.#peers.clear();
		this.#protooRoom.close();
		this.#router.close();
		this.#logger.info("room closed");
		this.emit("close");
	}

	#removePeer(peer: Peer, departure: PeerDeparture): void {
		this.#peers.delete(peer.id);
		const wasJoined = peer.joined;
		peer.close();
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
		if (this.#closed || peer.id !== this.#hostPeerId || departure === "replaced") return;
		if (departure === "dropped" && this.#hostHandoverGraceMs > 0) {
			// Maybe a reload: give the host time to come back with the same peer id.
			clearTimeout(this.#handoverTimer);
			this.#handoverTimer = setTimeout(() => {
				this.#handoverTimer = undefined;
				if (!this.#closed && !this.#peers.has(peer.id)) this.#handOver();
			}, this.#hostHandoverGraceMs);
			this.#handoverTimer.unref();
		} else {
			this.#handOver();
		}
	}

	/** Give the host role to the longest-present joined peer; if nobody has joined, to whoever joins next. */
	#handOver(): void {
		let next: Peer | undefined;
		for (const candidate of this.#joinedPeers()) {
			if (next === undefined || (candidate.joinOrder ?? 0) < (next.joinOrder ?? 0)) next = candidate;
		}
		if (!next) {
			this.#handoverDue = true;
			return;
		}
		this.#handoverDue = false;
		const previous = this.#hostPeerId;
		this.#hostPeerId = next.id;
		this.#logger.info({ from: previous, to: next.id }, "host role handed over");
		for (const peer of this.#peers.values()) peer.notify("hostChanged", { peerId: next.id });
		void this.#records.hostChanged(next.id);
		for (const peer of this.#joinedPeers()) {
			if (peer.id === previous || peer.id === next.id) this.#writePresence(peer);
		}
	}

	#roleOf(peer: Peer): PeerRole {
		return peer.id === this.#hostPeerId ? "host" : "guest";
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
					source: producer.appData.source as MediaSource,
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

	async #handleRequest(peer: Peer, method: string, data: unknown): Promise<unknown> {
		if (!isClientRequestMethod(method)) throw new SignalingError("unknown-method", `unknown method "${method}"`);
		switch (method) {
			case "getRouterRtpCapabilities":
				validateRequest(method, data);
				return this.#router.rtpCapabilities;
			case "createWebRtcTransport":
				return this.#createWebRtcTransport(peer, validateRequest(method, data));
			case "connectWebRtcTransport":
				return this.#connectWebRtcTransport(peer, validateRequest(method, data));
			case "join":
				return this.#join(peer, validateRequest(method, data));
			case "produce":
				return this.#produce(peer, validateRequest(method, data));
			case "closeProducer": {
				const { producerId } = validateRequest(method, data);
				this.#ownProducer(peer, producerId).close();
				peer.producers.delete(producerId);
				this.#writePresence(peer);
				return {};
			}
			case "pauseProducer":
				await this.#ownProducer(peer, validateRequest(method, data).producerId).pause();
				this.#writePresence(peer);
				return {};
			case "resumeProducer":
				await this.#ownProducer(peer, validateRequest(method, data).producerId).resume();
				this.#writePresence(peer);
				return {};
			case "sendChat":
				return this.#sendChat(peer, validateRequest(method, data));
			case "setConsumerPreferredLayers":
				return this.#setConsumerPreferredLayers(peer, validateRequest(method, data));
			case "kickPeer": {
				const { peerId } = validateRequest(method, data);
				if (peer.id !== this.#hostPeerId) throw new SignalingError("forbidden", "only the host can remove someone");
				if (peerId === peer.id) throw new SignalingError("bad-request", "the host cannot remove itself; use leave");
				if (!this.#peers.has(peerId)) throw new SignalingError("not-found", "no such peer in this room");
				await this.kick(peerId);
				return {};
			}
			case "leave":
				validateRequest(method, data);
				// Answer first, then close: the client is waiting for the response.
				setImmediate(() => {
					if (this.#peers.get(peer.id) === peer) this.#removePeer(peer, "left");
				});
				return {};
		}
	}

	async #createWebRtcTransport(
		peer: Peer,
		{ direction }: ClientRequests["createWebRtcTransport"]["request"],
	): Promise<ClientRequests["createWebRtcTransport"]["response"]> {
		if (peer.transport(direction)) {
			throw new SignalingError("conflict", `a ${direction} transport already exists for this peer`);
		}
		const transport: WebRtcTransport = await this.#router.createWebRtcTransport({
			webRtcServer: this.worker.webRtcServer,
			enableUdp: true,
			enableTcp: true,
			preferUdp: true,
			initialAvailableOutgoingBitrate: 1_000_000,
			appData: { direction },
		});
		peer.transports.set(transport.id, transport);
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
		} as ClientRequests["createWebRtcTransport"]["response"];
	}

	async #connectWebRtcTransport(
		peer: Peer,
		{ transportId, dtlsParameters }: ClientRequests["connectWebRtcTransport"]["request"],
	): Promise<Record<string, never>> {
		const transport = peer.transports.get(transportId);
		if (!transport) throw new SignalingError("not-found", "no such transport");
		try {
			await transport.connect({ dtlsParameters });
		} catch (error) {
			throw new SignalingError("bad-request", `connectWebRtcTransport: ${(error as Error).message}`);
		}
		return {};
	}

	async #join(
		peer: Peer,
		{ rtpCapabilities }: ClientRequests["join"]["request"],
	): Promise<ClientRequests["join"]["response"]> {
		// Hearing chat without being joined means a join is in progress.
		if (peer.joined || peer.hearsChat) throw new SignalingError("conflict", "already joined");
		// Hold chat from before the history is read until the response is out:
		// every message is then in the history, in the response, or after it.
		peer.holdChat();
		const history = await this.#records.chatHistory();
		// The socket may have gone (or been replaced) while Redis answered.
		if (this.#closed || this.#peers.get(peer.id) !== peer || peer.closed) {
			throw new SignalingError("conflict", "the connection closed while joining");
		}
		peer.markJoined(rtpCapabilities, ++this.#joinCount);
		// The host left while nobody else had joined: the first to join takes over.
		if (this.#handoverDue && (this.#hostPeerId === undefined || !this.#peers.has(this.#hostPeerId))) {
			this.#handOver();
		}
		this.#writePresence(peer);
		const others = [...this.#joinedPeers(peer)];
		const info = this.#infoOf(peer);
		for (const other of others) other.notify("peerJoined", info);
		// Consumers are created after the response so the client knows who is
		// in the room before their media arrives.
		setImmediate(() => {
			// Someone may be speaking already; otherwise the first change tells.
			peer.notifySpeaking(this.#speaking.current);
			for (const other of others) {
				for (const producer of other.producers.values()) void this.#consume(peer, other, producer);
			}
		});
		return {
			self: info,
			peers: others.map((other) => this.#infoOf(other)),
			mode: this.mode,
			chat: mergeChat(history, peer.takeHeldChat()),
		};
	}

	async #produce(
		peer: Peer,
		{ transportId, kind, rtpParameters, source }: ClientRequests["produce"]["request"],
	): Promise<ClientRequests["produce"]["response"]> {
		if (!peer.joined) throw new SignalingError("not-joined", "join before producing");
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
		for (const existing of peer.producers.values()) {
			if (existing.appData.source === source) throw new SignalingError("conflict", `already producing ${source}`);
		}
		let producer: Producer;
		try {
			producer = await transport.produce({ kind, rtpParameters, appData: { source, peerId: peer.id } });
		} catch (error) {
			throw new SignalingError("bad-request", `produce: ${(error as Error).message}`);
		}
		await this.attachProducer(peer, producer, source);
		return { producerId: producer.id };
	}

	/**
	 * Make `producer` the peer's `source`: listed in its presence, consumed by
	 * everyone else, watched for speaking if it is a microphone. `produce`
	 * uses it after its checks; tests use it to give a peer a producer fed
	 * with real RTP from a PlainTransport (no browser, so no DTLS).
	 */
	async attachProducer(peer: Peer, producer: Producer, source: MediaSource): Promise<void> {
		producer.appData = { ...producer.appData, source, peerId: peer.id };
		peer.producers.set(producer.id, producer);
		producer.on("transportclose", () => peer.producers.delete(producer.id));
		if (source === "mic") await this.#speaking.add(producer, peer.id);
		this.#writePresence(peer);
		for (const other of this.#joinedPeers(peer)) void this.#consume(other, peer, producer);
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
		// Stored before it is broadcast, so a join reading the history in
		// between finds it there or holds it (see #join); a Redis failure is
		// logged and the message is delivered anyway.
		await this.#records.appendChat(message);
		for (const other of this.#peers.values()) {
			if (other.hearsChat) other.deliverChat(message);
		}
		// Never the text: logs are not a place for what people say.
		this.#logger.debug({ peer: peer.id, message: message.id, length: checked.length }, "chat message");
		return { message };
	}

	async #setConsumerPreferredLayers(
		peer: Peer,
		{ consumerId, spatialLayer, temporalLayer }: ClientRequests["setConsumerPreferredLayers"]["request"],
	): Promise<Record<string, never>> {
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
		return {};
	}

	#announceSpeaking(peerIds: string[]): void {
		if (this.#closed) return;
		for (const peer of this.#joinedPeers()) peer.notifySpeaking(peerIds);
	}

	/** Let `consumer` receive `producer`: created paused, resumed once the client is ready for it. */
	async #consume(consumerPeer: Peer, producerPeer: Peer, producer: Producer): Promise<void> {
		const rtpCapabilities = consumerPeer.rtpCapabilities;
		const transport = consumerPeer.transport("recv");
		if (!rtpCapabilities || !transport || producer.closed) return;
		if (!this.#router.canConsume({ producerId: producer.id, rtpCapabilities })) {
			this.#logger.info({ peer: consumerPeer.id, producer: producer.id }, "peer cannot consume producer");
			return;
		}
		try {
			const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities, paused: true });
			consumerPeer.consumers.set(consumer.id, consumer);
			const closed = () => {
				consumerPeer.consumers.delete(consumer.id);
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
				source: producer.appData.source as MediaSource,
				// Same JSON on the wire; the client library's type just knows fewer header extensions.
				rtpParameters: consumer.rtpParameters as ServerRequests["newConsumer"]["request"]["rtpParameters"],
				producerPaused: consumer.producerPaused,
			});
			if (!consumer.closed) await consumer.resume();
		} catch (error) {
			// The consumer peer left or refused; nothing else depends on it.
			this.#logger.debug({ peer: consumerPeer.id, err: error }, "consumer not started");
		}
	}

	#ownProducer(peer: Peer, producerId: string): Producer {
		const producer = peer.producers.get(producerId);
		if (!producer) throw new SignalingError("not-found", "no such producer");
		return producer;
	}
}
