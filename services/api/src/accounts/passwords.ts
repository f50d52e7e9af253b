/**
 * Password hashing with node:crypto's scrypt (a memory-hard KDF maintained
 * with Node itself: no native add-on to build). Every hash carries its salt
 * and parameters, so they can be raised later without invalidating old hashes.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";

export interface ScryptParams {
	/** CPU/memory cost (a power of two). */
	N: number;
	r: number;
	p: number;
}

/** About 32 MiB and a few tens of ms per hash: costly to guess offline, cheap enough for a sign-in. */
export const defaultScryptParams: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
const keyLength = 32;
const saltLength = 16;
/** Parameters read back from storage are bounded, so a tampered record cannot make a sign-in eat the machine. */
const maxN = 2 ** 20;
const maxRp = 16;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		// maxmem: scrypt needs 128 * N * r bytes; Node's 32 MiB default is just too small for N=2^15, r=8.
		const maxmem = 256 * params.N * params.r;
		scrypt(password.normalize("NFC"), salt, keyLength, { ...params, maxmem }, (error, key) => {
			if (error) reject(error);
			else resolve(key);
		});
	});
}

/** `scrypt$N$r$p$salt$hash` (salt and hash base64url). */
export async function hashPassword(password: string, params: ScryptParams = defaultScryptParams): Promise<string> {
	const salt = randomBytes(saltLength);
	const key = await derive(password, salt, params);
	return ["scrypt", params.N, params.r, params.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

interface ParsedHash {
	params: ScryptParams;
	salt: Buffer;
	key: Buffer;
}

function parseHash(encoded: string): ParsedHash | undefined {
	const parts = encoded.split("$");
	if (parts.length !== 6 || parts[0] !== "scrypt") return undefined;
	const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
	const valid = (n: number, max: number) => Number.isSafeInteger(n) && n >= 1 && n <= max;
	if (!valid(N, maxN) || (N & (N - 1)) !== 0 || N < 2 || !valid(r, maxRp) || !valid(p, maxRp)) return undefined;
	const salt = Buffer.from(parts[4] ?? "", "base64url");
	const key = Buffer.from(parts[5] ?? "", "base64url");
	if (salt.length < 8 || key.length !== keyLength) return undefined;
	return { params: { N, r, p }, salt, key };
}

/**
 * Whether `password` matches `encoded`. The derived keys are compared in
 * constant time; an unreadable hash never matches.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
	const parsed = parseHash(encoded);
	if (!parsed) return false;
	const key = await derive(password, parsed.salt, parsed.params);
	return timingSafeEqual(key, parsed.key);
}

/**
 * A hash of a random password, for sign-ins that name an unknown account: they
 * do the same work as a wrong password, so timing does not tell which it was.
 */
export function decoyHash(): Promise<string> {
	return hashPassword(randomBytes(24).toString("base64url"));
}

export function sha256Hex(value: string): string {
	return createHash("sha256").update(value).digest("hex");
}

/**
 * A stable fingerprint of the team password (password mode), the same on every
 * API instance and across restarts: sessions carry it, so changing
 * ROOM_CREATION_PASSWORD ends every session signed in with the old one. Derived
 * with scrypt, like a hash, so it is no shortcut for guessing the password.
 */
export async function passwordFingerprint(password: string): Promise<string> {
	const key = await derive(password, Buffer.from("mindmeet:team-password"), defaultScryptParams);
	return key.subarray(0, 16).toString("hex");
}
