/**
 * Who may act on a room. One place decides it for every route that takes a
 * room token (lobby socket, admit, deny, ICE servers, token renewal), so the
 * rules cannot drift apart:
 *
 * - a participant holds a token that verifies, is for this room and whose
 *   peer was not kicked (`roomRevoked`);
 * - the host is the participant whose peer id is in `roomHost` right now.
 *   Not the token's `role` claim: the role moves on handover (the SFU rewrites
 *   `roomHost`) while tokens keep the role they were minted with;
 * - someone in the call is a participant whose peer id is in the room's
 *   presence (`roomPeers`, written by the SFU) right now.
 *
 * Redis being unreachable is never a refusal: its errors go up unchanged and
 * become 503 (HTTP) or 1013 (sockets), so clients keep their credentials.
 */
import { lobbyCloseCodes, type PeerRole, redisKeys, type TokenClaims } from "@mindmeet/protocol";
import { TokenError, type TokenVerifier } from "@mindmeet/protocol/token-keys";
import { HttpError } from "./http-errors.ts";
import type { ApiRedis } from "./redis.ts";
import { roomNotFound } from "./rooms/store.ts";

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
	if (typeof header !== "string") return undefined;
	const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
	return match?.[1];
}

export class RoomAuthorizer {
	readonly #redis: ApiRedis;
	readonly #verifier: TokenVerifier;

	constructor(redis: ApiRedis, verifier: TokenVerifier) {
		this.#redis = redis;
		this.#verifier = verifier;
	}

	/** Claims of a valid, unrevoked token for `roomId`; HttpError 401 otherwise. */
	async participant(roomId: string, token: string | undefined): Promise<TokenClaims> {
		const claims = await this.#verified(roomId, token);
		await this.#notRevoked(roomId, claims);
		return claims;
	}

	/** Claims of the room's current host; HttpError 401 (bad token), 404 (room gone) or 403 (not the host). */
	async host(roomId: string, token: string | undefined): Promise<TokenClaims> {
		const claims = await this.#verified(roomId, token);
		// Issued together, so node-redis sends both in one round trip.
		const [, hostPeerId] = await Promise.all([
			this.#notRevoked(roomId, claims),
			this.#redis.get(redisKeys.roomHost(roomId)),
		]);
		if (hostPeerId === null) throw roomNotFound();
		if (hostPeerId !== claims.sub) throw new HttpError(403, "only the room's host may do this");
		return claims;
	}

	/**
	 * Claims of a participant who is in the call right now, with the role they
	 * hold now; HttpError 401 (bad, expired or revoked token), 404 (room gone)
	 * or 403 (not in the call). What token renewal requires: credentials last
	 * as long as the person stays, and no longer.
	 */
	async inCall(roomId: string, token: string | undefined): Promise<{ claims: TokenClaims; role: PeerRole }> {
		const claims = await this.#verified(roomId, token);
		// Issued together, so node-redis sends them in one round trip.
		const [, roomExists, hostPeerId, present] = await Promise.all([
			this.#notRevoked(roomId, claims),
			this.#redis.exists(redisKeys.room(roomId)),
			this.#redis.get(redisKeys.roomHost(roomId)),
			this.#redis.hExists(redisKeys.roomPeers(roomId), claims.sub),
		]);
		if (roomExists === 0) throw roomNotFound();
		if (present !== 1) throw new HttpError(403, "only someone in the call can renew a token");
		return { claims, role: hostPeerId === claims.sub ? "host" : "guest" };
	}

	async #verified(roomId: string, token: string | undefined): Promise<TokenClaims> {
		if (!token) throw new HttpError(401, "a bearer token for this room is required");
		let claims: TokenClaims;
		try {
			claims = await this.#verifier.verify(token);
		} catch (error) {
			if (error instanceof TokenError) throw new HttpError(401, error.message);
			throw error;
		}
		if (claims.room !== roomId) throw new HttpError(401, "token is for another room");
		return claims;
	}

	async #notRevoked(roomId: string, claims: TokenClaims): Promise<void> {
		if ((await this.#redis.sIsMember(redisKeys.roomRevoked(roomId), claims.sub)) === 1) {
			throw new HttpError(401, "token was revoked");
		}
	}
}

/** WebSocket close code for an HttpError status (lobbyCloseCodes), 1011 for anything else. */
export function closeCodeFor(status: number): number {
	if (status === 401) return lobbyCloseCodes.unauthorized;
	if (status === 403) return lobbyCloseCodes.forbidden;
	if (status === 404) return lobbyCloseCodes.notFound;
	return 1011;
}
