/**
 * The protoo WebSocket endpoint, and the door of every room.
 *
 * Two kinds of "no", which clients must tell apart:
 * - Refused: a decision about this token and room (missing, invalid,
 *   expired, revoked, wrong room, no such room), or about capacity: the room
 *   has ROOM_MAX_PEERS people, or all but the place kept for its host while
 *   the host is not connected (`room-full`), or would be one room more than
 *   this node's SFU_MAX_ROOMS (`server-full`). The client is told why in a
 *   `refused` notification and the socket is closed; the client drops its
 *   credentials and stops. Kicked peers are refused here too: their peer id
 *   is in the room's revocation set (kept in memory while the room is open
 *   here, in Redis otherwise) until the room ends.
 *   A full room or node is a refusal, not "unavailable": a 503 would have
 *   the client retry silently with back-off, and the person would look at
 *   "reconnecting" with no idea why or for how long. Being told "the room
 *   is full" is the plain answer; they may try again by hand.
 * - Unavailable: this node cannot decide or cannot serve now (Redis
 *   unreachable, no live media worker, anything unexpected). The WebSocket
 *   upgrade is rejected with HTTP 503, nothing is said in protoo terms, and
 *   the client keeps its credentials and retries with back-off. A room
 *   whose Redis record names another node is "unavailable" here too: the
 *   room lives there, and the client's retry through the API's proxy goes
 *   there (placement/room-placement.ts); this node never opens a second copy.
 *
 * Connections are kept alive with WebSocket pings: a peer whose network
 * vanished without a FIN stops answering and is dropped after
 * keepaliveIntervalMs + keepaliveGraceMs, so it leaves the room in bounded
 * time instead of staying as a ghost.
 */
import "./null-frame-guard.ts";
import type { Server as HttpServer } from "node:http";
import type { Socket } from "node:net";
import {
	limits,
	type RefusalReason,
	type ServerNotifications,
	signalingRoomParam,
	signalingTokenParam,
} from "@mindmeet/protocol";
import { TokenError, type TokenVerifier } from "@mindmeet/protocol/token-keys";
import type { Logger } from "pino";
import { type ConnectionRequestInfo, WebSocketServer, type WebSocketTransport } from "protoo-server";
import type { SignalingMetrics } from "../metrics/sfu-metrics.ts";
import type { RoomPlacement } from "../placement/room-placement.ts";
import { NodeFullError, type RoomRegistry } from "../rooms/room-registry.ts";

class Refusal extends Error {
	readonly reason: RefusalReason;
	constructor(reason: RefusalReason, message: string) {
		super(message);
		this.reason = reason;
	}
}

/** The node cannot decide now (see the file comment); the upgrade gets a 503. */
class Unavailable extends Error {}

export interface SignalingKeepalive {
	/** How often an idle connection is pinged. */
	intervalMs: number;
	/** How long a ping may go unanswered before the connection is dropped. */
	graceMs: number;
}

export class SignalingServer {
	readonly #server: WebSocketServer;
	readonly #verifier: TokenVerifier;
	readonly #rooms: RoomRegistry;
	readonly #logger: Logger;
	readonly #metrics: SignalingMetrics | undefined;
	/** Sockets of accepted connections and their rooms, so shutdown (or a room's move) can drop them without a goodbye. */
	readonly #sockets = new Map<Socket, string>();
	readonly #placement: RoomPlacement | undefined;

	constructor(options: {
		httpServer: HttpServer;
		verifier: TokenVerifier;
		rooms: RoomRegistry;
		logger: Logger;
		keepalive: SignalingKeepalive;
		metrics?: SignalingMetrics;
		/** Which rooms this node may serve; without it, any room Redis knows (single-node tests). */
		placement?: RoomPlacement;
	}) {
		this.#verifier = options.verifier;
		this.#metrics = options.metrics;
		this.#placement = options.placement;
		this.#rooms = options.rooms;
		this.#logger = options.logger;
		this.#server = new WebSocketServer(options.httpServer, {
			maxReceivedFrameSize: limits.signalingMessageMaxBytes,
			maxReceivedMessageSize: limits.signalingMessageMaxBytes,
			// Explicit, not protoo's 60 s default: a silent peer is gone within interval + grace.
			keepalive: true,
			keepaliveInterval: options.keepalive.intervalMs,
			dropConnectionOnKeepaliveTimeout: true,
			keepaliveGracePeriod: options.keepalive.graceMs,
		});
		this.#server.on("connectionrequest", (info, accept, reject) => {
			// Join latency is measured from here (see SfuMetrics): token checks and opening the room count.
			const arrivedAt = performance.now();
			const turnAway = (error: unknown) => {
				if (error instanceof Refusal) {
					this.#logger.info({ reason: error.reason }, "connection refused");
					this.#metrics?.refused(error.reason);
					const transport = accept();
					void refuse(transport, { reason: error.reason, message: error.message });
					return;
				}
				if (!(error instanceof Unavailable)) this.#logger.warn({ err: error }, "connection request failed");
				this.#logger.info("connection turned away: unavailable");
				this.#metrics?.unavailable();
				reject(503, "unavailable, try again later");
			};
			this.#admit(info).then(({ claims, room }) => {
				// The room closed while we decided (its last peer left): opening it again is a retry away.
				if (room.closed) return turnAway(new Unavailable("the room has just closed"));
				// Asked in the same tick as addPeer, so concurrent connections cannot all take the last place.
				if (!room.hasRoomFor(claims.sub)) {
					return turnAway(new Refusal("room-full", "the room is full; try again later"));
				}
				const transport = accept();
				this.#track(info.socket, room.id);
				room.addPeer(claims, transport, arrivedAt);
			}, turnAway);
		});
	}

	/** Stop accepting connections. */
	stop(): void {
		this.#server.stop();
	}

	/**
	 * Drop every connection without a close frame, as a crash would: clients
	 * see the socket end abnormally, which is "unavailable", and come back
	 * when the node is up again. Called at shutdown before the rooms close,
	 * so that protoo's close (code 4000) never reaches anyone.
	 */
	dropAll(): void {
		for (const socket of this.#sockets.keys()) socket.destroy();
		this.#sockets.clear();
	}

	/** dropAll for one room's connections: the room was placed on another node, where they reconnect. */
	dropRoom(roomId: string): void {
		for (const [socket, room] of this.#sockets) {
			if (room !== roomId) continue;
			socket.destroy();
			this.#sockets.delete(socket);
		}
	}

	#track(socket: Socket, roomId: string): void {
		this.#sockets.set(socket, roomId);
		socket.once("close", () => this.#sockets.delete(socket));
	}

	async #admit(info: ConnectionRequestInfo) {
		const query = new URL(info.request.url ?? "/", "http://sfu.invalid").searchParams;
		const token = query.get(signalingTokenParam);
		const roomId = query.get(signalingRoomParam);
		if (!token) throw new Refusal("token-missing", "a token is required");
		let claims: Awaited<ReturnType<TokenVerifier["verify"]>>;
		try {
			claims = await this.#verifier.verify(token);
		} catch (error) {
			if (error instanceof TokenError) throw new Refusal(error.reason, error.message);
			// The signing keys could not be read (Redis away): that is not a verdict on the token.
			throw error;
		}
		if (!roomId || roomId !== claims.room) throw new Refusal("wrong-room", "the token is for another room");
		// A kicked peer's token stays valid cryptographically; the room's revocation set says no.
		// And before opening anything: a room placed on another node lives there. Both asked at once.
		const [revoked, elsewhere] = await Promise.all([
			this.#rooms.isRevoked(claims.room, claims.sub),
			this.#placement?.elsewhere(claims.room),
		]);
		if (revoked) throw new Refusal("token-revoked", "you were removed from this room");
		if (elsewhere !== undefined) {
			this.#logger.info({ room: claims.room, placedOn: elsewhere }, "the room is placed on another node");
			throw new Unavailable("the room is placed on another node");
		}
		let room: Awaited<ReturnType<RoomRegistry["open"]>>;
		try {
			room = await this.#rooms.open(claims.room);
		} catch (error) {
			if (error instanceof NodeFullError) throw new Refusal("server-full", error.message);
			throw error;
		}
		if (!room) throw new Refusal("room-not-found", "the room does not exist or has ended");
		// Opening read the revocation set again; a kick may have landed in between.
		if (room.records.isRevoked(claims.sub)) {
			// Nobody else may be coming: a room opened for this refusal alone must not stay open.
			if (room.peers.size === 0) room.close();
			throw new Refusal("token-revoked", "you were removed from this room");
		}
		return { claims, room };
	}
}

async function refuse(transport: WebSocketTransport, data: ServerNotifications["refused"]): Promise<void> {
	try {
		await transport.send({ notification: true, method: "refused", data });
	} catch {
		// The socket went away first; there is nobody left to tell.
	} finally {
		transport.close();
	}
}
