/**
 * One person in a room: their signaling channel and the mediasoup objects
 * they own. Closing the peer closes its transports, which closes its
 * producers and consumers, which tells everyone else.
 */
import type {
	ServerNotificationMethod,
	ServerNotifications,
	ServerRequestMethod,
	ServerRequests,
	TokenClaims,
} from "@mindmeet/protocol";
import type { Consumer, Producer, RtpCapabilities, WebRtcTransport } from "mediasoup/types";
import type { Peer as ProtooPeer } from "protoo-server";

export type TransportDirection = "send" | "recv";

export class Peer {
	readonly id: string;
	readonly name: string;
	/** Token id, so a revoked token can find its peer. */
	readonly tokenId: string;
	readonly connectedAt = Date.now();
	readonly transports = new Map<string, WebRtcTransport>();
	readonly producers = new Map<string, Producer>();
	readonly consumers = new Map<string, Consumer>();
	readonly #protoo: ProtooPeer;
	#rtpCapabilities: RtpCapabilities | undefined;
	#joinedAt: number | undefined;
	#joinOrder: number | undefined;

	constructor(claims: TokenClaims, protooPeer: ProtooPeer) {
		this.id = claims.sub;
		this.name = claims.name;
		this.tokenId = claims.jti;
		this.#protoo = protooPeer;
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

	transport(direction: TransportDirection): WebRtcTransport | undefined {
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

	/** Close the signaling channel and every mediasoup object this peer owns. */
	close(): void {
		for (const transport of this.transports.values()) transport.close();
		this.transports.clear();
		this.producers.clear();
		this.consumers.clear();
		if (!this.#protoo.closed) this.#protoo.close();
	}
}
