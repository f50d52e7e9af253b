/**
 * The protoo WebSocket endpoint. A connection is accepted into a room only
 * with a valid token for that room; otherwise the client is told why in a
 * `refused` notification and the socket is closed (code 4000, so protoo
 * clients do not retry). Kicked peers are refused here too: their peer id is
 * in the room's revocation set until the room ends.
 */
import type { Server as HttpServer } from "node:http";
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
import type { RoomRegistry } from "../rooms/room-registry.ts";

class Refusal extends Error {
	readonly reason: RefusalReason;
	constructor(reason: RefusalReason, message: string) {
		super(message);
		this.reason = reason;
	}
}

export class SignalingServer {
	readonly #server: WebSocketServer;
	readonly #verifier: TokenVerifier;
	readonly #rooms: RoomRegistry;
	readonly #logger: Logger;

	constructor(options: { httpServer: HttpServer; verifier: TokenVerifier; rooms: RoomRegistry; logger: Logger }) {
		this.#verifier = options.verifier;
		this.#rooms = options.rooms;
		this.#logger = options.logger;
		this.#server = new WebSocketServer(options.httpServer, {
			maxReceivedFrameSize: limits.signalingMessageMaxBytes,
			maxReceivedMessageSize: limits.signalingMessageMaxBytes,
		});
		this.#server.on("connectionrequest", (info, accept) => {
			this.#admit(info).then(
				({ claims, room }) => {
					if (room.closed) throw new Refusal("room-not-found", "the room has just closed");
					room.addPeer(claims, accept());
				},
				(error: unknown) => {
					const refusal =
						error instanceof Refusal ? error : new Refusal("token-invalid", "the connection could not be accepted");
					if (!(error instanceof Refusal)) this.#logger.warn({ err: error }, "connection request failed");
					this.#logger.info({ reason: refusal.reason }, "connection refused");
					void refuse(accept(), { reason: refusal.reason, message: refusal.message });
				},
			);
		});
	}

	stop(): void {
		this.#server.stop();
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
			throw error;
		}
		if (!roomId || roomId !== claims.room) throw new Refusal("wrong-room", "the token is for another room");
		// A kicked peer's token stays valid cryptographically; the room's revocation set says no.
		if (await this.#rooms.isRevoked(claims.room, claims.sub)) {
			throw new Refusal("token-revoked", "you were removed from this room");
		}
		const room = await this.#rooms.open(claims.room);
		if (!room) throw new Refusal("room-not-found", "the room does not exist or has ended");
		return { claims, room };
	}
}

async function refuse(transport: WebSocketTransport, data: ServerNotifications["refused"]): Promise<void> {
	try {
		await transport.send({ notification: true, method: "refused", data });
	} finally {
		transport.close();
	}
}
