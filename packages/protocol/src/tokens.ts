import type { PeerRole } from "./api.ts";

/**
 * Claims of a media token. The API signs (EdDSA, private key never leaves its
 * process); the SFU and the API verify with the public keys published in Redis.
 */
export interface TokenClaims {
	/** Room id. */
	room: string;
	/** Peer id (JWT `sub`). */
	sub: string;
	/** Display name, already normalised. */
	name: string;
	role: PeerRole;
	/** Unique token id, for revocation. */
	jti: string;
	/** Expiry, seconds since the epoch. */
	exp: number;
	iat: number;
}

export const tokenIssuer = "mindmeet-api";
export const tokenAudience = "mindmeet";
