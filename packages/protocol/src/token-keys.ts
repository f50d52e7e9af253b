/**
 * Token signing and verification, shared by the API (signs and verifies) and
 * the SFU (only verifies).
 *
 * The API makes an Ed25519 key pair when it starts and publishes only the
 * public half in Redis under a key id; tokens carry that id in their header.
 * So nothing has to be configured, the SFU can never mint a token, and tokens
 * signed before an API restart stay valid until they expire.
 */
import { createPublicKey, generateKeyPairSync, randomUUID } from "node:crypto";
import { type Static, Type } from "@sinclair/typebox";
import { createDecoder, createSigner, createVerifier, TokenError as JwtError, TOKEN_ERROR_CODES } from "fast-jwt";
import type { PeerRole } from "./api.ts";
import { parseRecord } from "./records.ts";
import { redisKeys } from "./redis-keys.ts";
import { type TokenClaims, tokenAudience, tokenIssuer } from "./tokens.ts";

const alg = "EdDSA";

/** Where public keys are published; the services adapt their Redis client to this. */
export interface PublicKeyStore {
	get(kid: string): Promise<string | null>;
	set(kid: string, publicJwk: string, ttlSeconds: number): Promise<void>;
}

export type TokenRefusal = "token-invalid" | "token-expired";

/** A token signing key's public half as the API publishes it in Redis (`redisKeys.tokenKey`): an Ed25519 JWK. */
export const PublishedTokenKey = Type.Object({
	kty: Type.Literal("OKP"),
	crv: Type.Literal("Ed25519"),
	x: Type.String({ minLength: 1 }),
});
export type PublishedTokenKey = Static<typeof PublishedTokenKey>;

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

/**
 * fast-jwt (the JWT library behind @fastify/jwt) does the JWS work on
 * node:crypto: about three times cheaper per signature than WebCrypto, which
 * matters because every admission signs two tokens and verifies one.
 */
type SignFunction = (payload: Record<string, unknown>) => string;
type VerifyFunction = (token: string) => Record<string, unknown>;

const decodeHeader = createDecoder({ complete: true }) as (token: string) => {
	header: { alg?: unknown; kid?: unknown };
};

export class TokenSigner {
	readonly kid: string;
	readonly #sign: SignFunction;
	readonly #publicJwk: string;
	readonly #store: PublicKeyStore;
	readonly #maxTtlSeconds: number;

	private constructor(kid: string, sign: SignFunction, publicJwk: string, store: PublicKeyStore, maxTtl: number) {
		this.kid = kid;
		this.#sign = sign;
		this.#publicJwk = publicJwk;
		this.#store = store;
		this.#maxTtlSeconds = maxTtl;
	}

	/** Make a fresh key pair and publish its public half for `maxTtlSeconds` plus a margin. */
	static async create(store: PublicKeyStore, maxTtlSeconds: number): Promise<TokenSigner> {
		const { privateKey, publicKey } = generateKeyPairSync("ed25519");
		const kid = randomUUID();
		const sign = createSigner({
			key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
			algorithm: alg,
			kid,
		}) as SignFunction;
		const jwk = JSON.stringify({ ...publicKey.export({ format: "jwk" }), alg });
		const signer = new TokenSigner(kid, sign, jwk, store, maxTtlSeconds);
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
		const token = this.#sign({ ...claims, iss: tokenIssuer, aud: tokenAudience });
		return { token, claims };
	}
}

/**
 * Tokens already known to be good, with their claims, least recently used
 * dropped first. An Ed25519 verification costs about three signatures, and the
 * same token comes back on every admit, deny and socket of its holder.
 * Revocation is checked separately (Redis), so remembering a signature check
 * is safe; expiry is checked again on every hit.
 */
class KnownTokens {
	readonly #claims = new Map<string, TokenClaims>();
	readonly #capacity: number;

	constructor(capacity: number) {
		this.#capacity = capacity;
	}

	get(token: string): TokenClaims | undefined {
		const claims = this.#claims.get(token);
		if (claims) {
			// Map keeps insertion order: move to the young end.
			this.#claims.delete(token);
			this.#claims.set(token, claims);
		}
		return claims;
	}

	/** Returns the stored claims: shared by every caller that presents the token, so frozen. */
	set(token: string, claims: TokenClaims): TokenClaims {
		const stored = Object.freeze({ ...claims });
		this.#claims.delete(token);
		this.#claims.set(token, stored);
		if (this.#claims.size > this.#capacity) {
			const oldest = this.#claims.keys().next();
			if (!oldest.done) this.#claims.delete(oldest.value);
		}
		return stored;
	}
}

export interface TokenVerifierOptions {
	/** How many good tokens to remember (default 5000). */
	knownTokens?: number;
}

export class TokenVerifier {
	readonly #store: PublicKeyStore;
	readonly #verifiers = new Map<string, VerifyFunction>();
	readonly #known: KnownTokens;

	constructor(store: PublicKeyStore, options: TokenVerifierOptions = {}) {
		this.#store = store;
		this.#known = new KnownTokens(options.knownTokens ?? 5000);
	}

	/**
	 * A token this process has just signed, with its claims: good by
	 * construction, so its first presentation (the host's first admit or
	 * lobby socket) skips the signature check too.
	 */
	remember(token: string, claims: TokenClaims): void {
		this.#known.set(token, claims);
	}

	/** Verify signature, issuer, audience, expiry and claim shapes. Throws TokenError. */
	async verify(token: string): Promise<TokenClaims> {
		if (typeof token !== "string" || token.length === 0 || token.length > 4096) {
			throw new TokenError("token-invalid", "token is missing or malformed");
		}
		const known = this.#known.get(token);
		if (known) {
			if (known.exp * 1000 <= Date.now()) throw new TokenError("token-expired", "token has expired");
			return known;
		}
		return this.#known.set(token, await this.#verifySignature(token));
	}

	async #verifySignature(token: string): Promise<TokenClaims> {
		let kid: unknown;
		try {
			const { header } = decodeHeader(token);
			if (header.alg !== alg) throw new Error("alg");
			kid = header.kid;
		} catch {
			throw new TokenError("token-invalid", "token is malformed");
		}
		if (typeof kid !== "string" || kid.length === 0 || kid.length > 64) {
			throw new TokenError("token-invalid", "token has no known key id");
		}
		const verify = await this.#verifier(kid);
		if (!verify) throw new TokenError("token-invalid", "token was signed by an unknown key");
		let payload: Record<string, unknown>;
		try {
			payload = verify(token);
		} catch (error) {
			if (error instanceof JwtError && error.code === TOKEN_ERROR_CODES.expired) {
				throw new TokenError("token-expired", "token has expired");
			}
			throw new TokenError("token-invalid", "token signature or claims are invalid");
		}
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
	}

	/** A verifier for key `kid`, built once from the public JWK published in Redis. */
	async #verifier(kid: string): Promise<VerifyFunction | undefined> {
		const cached = this.#verifiers.get(kid);
		if (cached) return cached;
		const json = await this.#store.get(kid);
		if (!json) return undefined;
		let pem: string;
		try {
			const jwk = parseRecord(PublishedTokenKey, json);
			if (!jwk) return undefined;
			pem = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk.x }, format: "jwk" })
				.export({ type: "spki", format: "pem" })
				.toString();
		} catch {
			return undefined;
		}
		const verify = createVerifier({
			key: pem,
			algorithms: [alg],
			allowedIss: tokenIssuer,
			allowedAud: tokenAudience,
			requiredClaims: ["exp", "iat", "sub", "jti"],
		}) as VerifyFunction;
		this.#verifiers.set(kid, verify);
		return verify;
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
