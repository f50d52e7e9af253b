/**
 * One person in a room: their signaling channel and the mediasoup objects
 * they own. Closing the peer closes its transports, which closes its
 * producers and consumers, which tells everyone else.
 */
import type {
	ChatMessage,
	MediaSource,
	ServerNotificationMethod,
	ServerNotifications,
	ServerRequestMethod,
	ServerRequests,
	TokenClaims,
} from "@mindmeet/protocol";
import type { Consumer, Producer, RtpCapabilities, WebRtcTransport } from "mediasoup/types";
import type { Peer as ProtooPeer } from "protoo-server";
import { RequestLimiter, type RequestLimits } from "../signaling/request-limiter.ts";
import { Slots } from "./slots.ts";

export type TransportDirection = "send" | "recv";

/** What the SFU keeps on its mediasoup objects (typed through mediasoup's appData generics). */
export type PeerTransport = WebRtcTransport<{ direction: TransportDirection }>;
export type PeerProducer = Producer<{ source: MediaSource; peerId: string }>;

export class Peer {
	readonly id: string;
	readonly name: string;
	readonly transports = new Map<string, PeerTransport>();
	readonly producers = new Map<string, PeerProducer>();
	/**
	 * At most one transport per direction and one producer per source, each
	 * slot taken before the request that fills it awaits anything (see
	 * Slots). Held until the object closes or the peer's media is reset.
	 */
	readonly transportSlots = new Slots<TransportDirection>();
	readonly producerSlots = new Slots<MediaSource>();
	/** This connection's request budget (a reconnect is a new connection with a fresh one). */
	readonly requests: RequestLimiter;
	readonly consumers = new Map<string, Consumer>();
	/** Producers this peer consumes or is being given, so none is consumed twice. */
	readonly consumedProducers = new Set<string>();
	readonly #protoo: ProtooPeer;
	/** The room's media moved since this peer joined: its next `join` is a rejoin. */
	#rejoinDue = false;
	#rtpCapabilities: RtpCapabilities | undefined;
	#joinedAt: number | undefined;
	#joinOrder: number | undefined;
	/** Chat messages kept back while this peer's join is being answered; undefined when not holding. */
	#heldChat: ChatMessage[] | undefined;
	/** The speaking list this peer was last told (it starts out knowing nobody speaks). */
	#speaking: readonly string[] = [];

	/** When this connection arrived (performance.now()), for the join latency metric. */
	readonly arrivedAt: number;

	constructor(
		claims: TokenClaims,
		protooPeer: ProtooPeer,
		requestLimits: RequestLimits,
		arrivedAt = performance.now(),
	) {
		this.id = claims.sub;
		this.arrivedAt = arrivedAt;
		this.name = claims.name;
		this.#protoo = protooPeer;
		this.requests = new RequestLimiter(requestLimits);
	}

	get protoo(): ProtooPeer {
		return this.#protoo;
	}

	get joined(): boolean {
		return this.#joinedAt !== undefined;
	}

	get joinedAt(): number | undefined {
		return this.#joinedAt;
	}

	/**
	 * Position in the room's join sequence: orders peers who joined within the
	 * same millisecond, so "longest present" is never a tie.
	 */
	get joinOrder(): number | undefined {
		return this.#joinOrder;
	}

	get rtpCapabilities(): RtpCapabilities | undefined {
		return this.#rtpCapabilities;
	}

	get closed(): boolean {
		return this.#protoo.closed;
	}

	markJoined(rtpCapabilities: RtpCapabilities, joinOrder: number): void {
		this.#rtpCapabilities = rtpCapabilities;
		this.#joinedAt = Date.now();
		this.#joinOrder = joinOrder;
	}

	/** Whether a `join` from this already-joined peer is a rejoin after mediaReset. */
	get rejoinDue(): boolean {
		return this.#rejoinDue;
	}

	/**
	 * The worker under the room died: mediasoup already closed every
	 * transport, producer and consumer of this peer, so forget them. The peer
	 * stays in the room (joined, same join order) but consumes nothing until
	 * it rejoins with its new transports.
	 */
	resetMedia(): void {
		this.#closeMedia();
		this.#rtpCapabilities = undefined;
		// A join in progress (chat held) finishes as a first join; the one after mediaReset is then a rejoin.
		if (this.joined || this.#heldChat !== undefined) this.#rejoinDue = true;
	}

	/** Back in the call after mediaReset, with the capabilities of its new device. */
	markRejoined(rtpCapabilities: RtpCapabilities): void {
		this.#rtpCapabilities = rtpCapabilities;
		this.#rejoinDue = false;
	}

	/**
	 * Whether this peer should get chat messages: it is in the call, or its
	 * join is reading the history (messages sent meanwhile are held for it).
	 */
	get hearsChat(): boolean {
		return !this.#protoo.closed && (this.joined || this.#heldChat !== undefined);
	}

	/**
	 * Start holding chat messages instead of sending them: a join reads the
	 * history from Redis, and a message broadcast while that read is in flight
	 * must end up either in the history or after the join response, exactly
	 * once, never before it.
	 */
	holdChat(): void {
		this.#heldChat ??= [];
	}

	/** The messages held so far (they go into the join response); holding goes on until releaseChat. */
	takeHeldChat(): ChatMessage[] {
		const held = this.#heldChat ?? [];
		if (this.#heldChat) this.#heldChat = [];
		return held;
	}

	/** The join was answered: send what arrived since takeHeldChat, and stop holding. */
	releaseChat(): void {
		const held = this.#heldChat;
		this.#heldChat = undefined;
		if (!held || !this.joined) return;
		for (const message of held) this.notify("chatMessage", message);
	}

	/** Send a chat message now, or keep it for the join response being prepared. */
	deliverChat(message: ChatMessage): void {
		if (this.#heldChat) this.#heldChat.push(message);
		else if (this.joined) this.notify("chatMessage", message);
	}

	/** Tell this peer who is speaking, unless that is exactly what it was last told. */
	notifySpeaking(peerIds: readonly string[]): void {
		const last = this.#speaking;
		if (peerIds.length === last.length && peerIds.every((id, index) => id === last[index])) return;
		this.#speaking = [...peerIds];
		this.notify("speaking", { peerIds: [...peerIds] });
	}

	transport(direction: TransportDirection): PeerTransport | undefined {
		for (const transport of this.transports.values()) {
			if (transport.appData.direction === direction) return transport;
		}
		return undefined;
	}

	notify<M extends ServerNotificationMethod>(method: M, data: ServerNotifications[M]): void {
		if (this.#protoo.closed) return;
		// A notification to a peer whose socket just died is not worth an error.
		this.#protoo.notify(method, data).catch(() => {});
	}

	/**
	 * Notify and wait until the message is handed to the socket, so a close
	 * that follows cannot overtake it. Bounded: a stuck socket must not hold
	 * up a kick or a room closing.
	 */
	async notifyBeforeClose<M extends ServerNotificationMethod>(
		method: M,
		data: ServerNotifications[M],
		timeoutMs = 1000,
	): Promise<void> {
		if (this.#protoo.closed) return;
		let timer: NodeJS.Timeout | undefined;
		await Promise.race([
			this.#protoo.notify(method, data).catch(() => {}),
			new Promise<void>((resolve) => {
				timer = setTimeout(resolve, timeoutMs);
			}),
		]);
		clearTimeout(timer);
	}

	async request<M extends ServerRequestMethod>(
		method: M,
		data: ServerRequests[M]["request"],
	): Promise<ServerRequests[M]["response"]> {
		return (await this.#protoo.request(method, data)) as unknown as ServerRequests[M]["response"];
	}

	#closeMedia(): void {
		// Closing the transports closes what is on them; a producer attached
		// from another transport (tests feed real RTP through a PlainTransport)
		// must go with its peer all the same.
		for (const producer of this.producers.values()) producer.close();
		for (const transport of this.transports.values()) transport.close();
		this.transports.clear();
		this.producers.clear();
		this.consumers.clear();
		this.consumedProducers.clear();
		// Requests still in flight for the old media fail and release with stale tickets.
		this.transportSlots.clear();
		this.producerSlots.clear();
	}

	/** Close the signaling channel and every mediasoup object this peer owns. */
	close(): void {
		this.#closeMedia();
		if (!this.#protoo.closed) this.#protoo.close();
	}
}
