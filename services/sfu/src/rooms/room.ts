/**
 * A call: one mediasoup router on one worker, one protoo room, and the peers
 * in it. The room closes itself when its last peer leaves or its worker dies.
 */
import { EventEmitter } from "node:events";
import type { ClientRequests, MediaSource, RoomMode, ServerRequests, TokenClaims } from "@mindmeet/protocol";
import type { Producer, Router, WebRtcTransport } from "mediasoup/types";
import type { Logger } from "pino";
import { Room as ProtooRoom, type WebSocketTransport } from "protoo-server";
import { mediaCodecs } from "../media-codecs.ts";
import { SignalingError } from "../signaling/errors.ts";
import { isClientRequestMethod, validateRequest } from "../signaling/validate.ts";
import type { MediaWorker } from "../workers/worker-pool.ts";
import { Peer } from "./peer.ts";

export interface RoomEvents {
	close: [];
	peersChanged: [];
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
	#closed = false;

	private constructor(id: string, mode: RoomMode, worker: MediaWorker, router: Router, logger: Logger) {
		super();
		this.id = id;
		this.mode = mode;
		this.worker = worker;
		this.#router = router;
		this.#logger = logger;
		router.on("workerclose", () => {
			this.#logger.warn("worker died under the room; closing it");
			this.close();
		});
	}

	static async create(options: { id: string; mode: RoomMode; worker: MediaWorker; logger: Logger }): Promise<Room> {
		const router = await options.worker.worker.createRouter({ mediaCodecs });
		const logger = options.logger.child({ room: options.id });
		logger.info({ worker: options.worker.index }, "room opened");
		return new Room(options.id, options.mode, options.worker, router, logger);
	}

	get closed(): boolean {
		return this.#closed;
	}

	get peers(): ReadonlyMap<string, Peer> {
		return this.#peers;
	}

	/** Accept a verified connection. A second connection for the same peer replaces the first (reload, reconnect). */
	addPeer(claims: TokenClaims, transport: WebSocketTransport): Peer {
		const existing = this.#peers.get(claims.sub);
		if (existing) {
			this.#logger.info({ peer: claims.sub }, "peer reconnected; closing its previous connection");
			this.#removePeer(existing);
		}
		const peer = new Peer(claims, this.#protooRoom.createPeer(claims.sub, transport));
		this.#peers.set(peer.id, peer);
		peer.protoo.on("request", (request, accept, reject) => {
			this.#handleRequest(peer, request.method, request.data).then(
				(response) => accept(response),
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
			if (this.#peers.get(peer.id) === peer) this.#removePeer(peer);
		});
		this.#logger.info({ peer: peer.id, role: peer.role }, "peer connected");
		this.emit("peersChanged");
		return peer;
	}

	/** Close every peer and the router. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		for (const peer of this.#peers.values()) peer.close();
		this.#peers.clear();
		this.#protooRoom.close();
		this.#router.close();
		this.#logger.info("room closed");
		this.emit("close");
	}

	#removePeer(peer: Peer): void {
		this.#peers.delete(peer.id);
		const wasJoined = peer.joined;
		peer.close();
		if (wasJoined) {
			for (const other of this.#joinedPeers(peer)) other.notify("peerLeft", { peerId: peer.id });
		}
		this.#logger.info({ peer: peer.id }, "peer left");
		this.emit("peersChanged");
		if (this.#peers.size === 0) this.close();
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
				return {};
			}
			case "pauseProducer":
				await this.#ownProducer(peer, validateRequest(method, data).producerId).pause();
				return {};
			case "resumeProducer":
				await this.#ownProducer(peer, validateRequest(method, data).producerId).resume();
				return {};
			case "leave":
				validateRequest(method, data);
				// Answer first, then close: the client is waiting for the response.
				setImmediate(() => {
					if (this.#peers.get(peer.id) === peer) this.#removePeer(peer);
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
		if (peer.joined) throw new SignalingError("conflict", "already joined");
		peer.markJoined(rtpCapabilities);
		const others = [...this.#joinedPeers(peer)];
		for (const other of others) other.notify("peerJoined", peer.info);
		// Consumers are created after the response so the client knows who is
		// in the room before their media arrives.
		setImmediate(() => {
			for (const other of others) {
				for (const producer of other.producers.values()) void this.#consume(peer, other, producer);
			}
		});
		return { self: peer.info, peers: others.map((other) => other.info), mode: this.mode };
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
		peer.producers.set(producer.id, producer);
		producer.on("transportclose", () => peer.producers.delete(producer.id));
		for (const other of this.#joinedPeers(peer)) void this.#consume(other, peer, producer);
		return { producerId: producer.id };
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
