/**
 * Token signing and verification, shared by the API (signs and verifies) and
 * the SFU (only verifies).
 *
 * The API makes an Ed25519 key pair when it starts and publishes only the
 * public half in Redis under a key id; tokens carry that id in their header.
 * So nothing has to be configured, the SFU can never mint a token, and tokens
 * signed before an API restart stay valid until they expire.
 */
import { randomUUID } from "node:crypto";
import {
	type CryptoKey,
	decodeProtectedHeader,
	errors,
	exportJWK,
	generateKeyPair,
	importJWK,
	type JWK,
	jwtVerify,
	SignJWT,
} from "jose";
import type { PeerRole } from "./api.ts";
import { redisKeys } from "./redis-keys.ts";
import { type TokenClaims, tokenAudience, tokenIssuer } from "./tokens.ts";

const alg = "EdDSA";

/** Where public keys are published; the services adapt their Redis client to this. */
export interface PublicKeyStore {
	get(kid: string): Promise<string | null>;
	set(kid: string, publicJwk: string, ttlSeconds: number): Promise<void>;
}

export type TokenRefusal = "token-invalid" | "token-expired";

export class TokenError extends Error {
	readonly reason: TokenRefusal;
	constructor(reason: TokenRefusal, message: string) {
		super(message);
		this.name = "TokenError";
		this.reason = reason;
	}
}

export interface TokenRequest {
	room: string;
	peerId: string;
	name: string;
	role: PeerRole;
	ttlSeconds: number;
}

export class TokenSigner {
	readonly kid: string;
	readonly #privateKey: CryptoKey;
	readonly #publicJwk: string;
	readonly #store: PublicKeyStore;
	readonly #maxTtlSeconds: number;

	private constructor(kid: string, privateKey: CryptoKey, publicJwk: string, store: PublicKeyStore, maxTtl: number) {
		this.kid = kid;
		this.#privateKey = privateKey;
		this.#publicJwk = publicJwk;
		this.#store = store;
		this.#maxTtlSeconds = maxTtl;
	}

	/** Make a fresh key pair and publish its public half for `maxTtlSeconds` plus a margin. */
	static async create(store: PublicKeyStore, maxTtlSeconds: number): Promise<TokenSigner> {
		const { privateKey, publicKey } = await generateKeyPair(alg, { crv: "Ed25519" });
		const jwk: JWK = { ...(await exportJWK(publicKey)), alg };
		const signer = new TokenSigner(randomUUID(), privateKey, JSON.stringify(jwk), store, maxTtlSeconds);
		await signer.publish();
		return signer;
	}

	/** (Re)publish the public key; called at start and periodically so it never lapses while we sign. */
	async publish(): Promise<void> {
		await this.#store.set(this.kid, this.#publicJwk, this.#maxTtlSeconds * 2 + 3600);
	}

	async sign(request: TokenRequest): Promise<{ token: string; claims: TokenClaims }> {
		if (request.ttlSeconds > this.#maxTtlSeconds) throw new RangeError("token lifetime above the signer's maximum");
		const iat = Math.floor(Date.now() / 1000);
		const claims: TokenClaims = {
			room: request.room,
			sub: request.peerId,
			name: request.name,
			role: request.role,
			jti: randomUUID(),
			iat,
			exp: iat + request.ttlSeconds,
		};
		const token = await new SignJWT({ room: claims.room, name: claims.name, role: claims.role })
			.setProtectedHeader({ alg, kid: this.kid, typ: "JWT" })
			.setSubject(claims.sub)
			.setJti(claims.jti)
			.setIssuedAt(iat)
			.setExpirationTime(claims.exp)
			.setIssuer(tokenIssuer)
			.setAudience(tokenAudience)
			.sign(this.#privateKey);
		return { token, claims };
	}
}

export class TokenVerifier {
	readonly #store: PublicKeyStore;
	readonly #keys = new Map<string, CryptoKey>();

	constructor(store: PublicKeyStore) {
		this.#store = store;
	}

	/** Verify signature, issuer, audience, expiry and claim shapes. Throws TokenError. */
	async verify(token: string): Promise<TokenClaims> {
		if (typeof token !== "string" || token.length === 0 || token.length > 4096) {
			throw new TokenError("token-invalid", "token is missing or malformed");
		}
		let kid: string | undefined;
		try {
			const header = decodeProtectedHeader(token);
			if (header.alg !== alg) throw new Error("alg");
			kid = header.kid;
		} catch {
			throw new TokenError("token-invalid", "token is malformed");
		}
		if (!kid || kid.length > 64) throw new TokenError("token-invalid", "token has no known key id");
		const key = await this.#key(kid);
		if (!key) throw new TokenError("token-invalid", "token was signed by an unknown key");
		try {
			const { payload } = await jwtVerify(token, key, {
				algorithms: [alg],
				issuer: tokenIssuer,
				audience: tokenAudience,
			});
			const { room, name, role, sub, jti, exp, iat } = payload;
			if (
				typeof room !== "string" ||
				typeof name !== "string" ||
				(role !== "host" && role !== "guest") ||
				typeof sub !== "string" ||
				typeof jti !== "string" ||
				typeof exp !== "number" ||
				typeof iat !== "number"
			) {
				throw new TokenError("token-invalid", "token claims are incomplete");
			}
			return { room, name, role, sub, jti, exp, iat };
		} catch (error) {
			if (error instanceof TokenError) throw error;
			if (error instanceof errors.JWTExpired) throw new TokenError("token-expired", "token has expired");
			throw new TokenError("token-invalid", "token signature or claims are invalid");
		}
	}

	async #key(kid: string): Promise<CryptoKey | undefined> {
		const cached = this.#keys.get(kid);
		if (cached) return cached;
		const json = await this.#store.get(kid);
		if (!json) return undefined;
		const key = await importJWK(JSON.parse(json) as JWK, alg);
		if (!(key instanceof Uint8Array)) this.#keys.set(kid, key);
		return key instanceof Uint8Array ? undefined : key;
	}
}

/** The two Redis commands the key store needs; node-redis clients satisfy it. */
export interface KeyValueClient {
	get(key: string): Promise<string | null>;
	set(key: string, value: string, options: { EX: number }): Promise<unknown>;
}

/** Public keys stored under `mm:token-key:<kid>` with a TTL. */
export function redisPublicKeyStore(client: KeyValueClient): PublicKeyStore {
	return {
		get: (kid) => client.get(redisKeys.tokenKey(kid)),
		set: async (kid, jwk, ttlSeconds) => {
			await client.set(redisKeys.tokenKey(kid), jwk, { EX: ttlSeconds });
		},
	};
}
