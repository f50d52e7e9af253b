/**
 * Who may create rooms (ROOM_CREATION), in one place: the sign-in routes and
 * POST /api/rooms both ask the gate.
 *
 * - `open`: anyone; nothing to prove (the per-address rate limit is the bound).
 * - `password`: the team password, hashed at start with a random salt (the
 *   plain text is not kept here) and checked with scrypt + a constant-time
 *   compare.
 * - `accounts`: a host account's name and password (store.ts).
 *
 * Proof is a sign-in: an opaque random token, stored hashed in Redis with a
 * TTL (store.ts), sent as `Authorization: Bearer` with POST /api/rooms. A
 * session is only good while the mode it was made in is on, and while the
 * team password (its fingerprint) or the account (its epoch) is unchanged:
 * deleting an account or resetting a password ends its sessions at once.
 */
import type { HostSession, RoomCreationMode, SessionStatus } from "@mindmeet/protocol";
import type { RoomCreationConfig } from "../config.ts";
import { HttpError } from "../http-errors.ts";
import { decoyHash, hashPassword, passwordFingerprint, verifyPassword } from "./passwords.ts";
import { AccountStore, type AccountsRedis, accountNameRegExp, SessionStore } from "./store.ts";

/** The same answer for an unknown account and a wrong password: nothing tells which it was. */
export const wrongCredentialsMessage = "wrong name or password";
export const wrongPasswordMessage = "wrong password";
export const signInNotNeededMessage = "sign-in is not needed here: anyone may create rooms";

interface Checked {
	name?: string;
	expiresAt: number;
}

type Secret =
	| { mode: "open" }
	| { mode: "password"; hash: string; fingerprint: string }
	| { mode: "accounts"; decoy: string };

export class HostGate {
	readonly #secret: Secret;
	readonly #accounts: AccountStore;
	readonly #sessions: SessionStore;

	private constructor(secret: Secret, redis: AccountsRedis, sessionTtl: number) {
		this.#secret = secret;
		this.#accounts = new AccountStore(redis);
		this.#sessions = new SessionStore(redis, sessionTtl);
	}

	static async create(config: RoomCreationConfig, redis: AccountsRedis, sessionTtl: number): Promise<HostGate> {
		let secret: Secret;
		if (config.mode === "password") {
			const [hash, fingerprint] = await Promise.all([
				hashPassword(config.password),
				passwordFingerprint(config.password),
			]);
			secret = { mode: "password", hash, fingerprint };
		} else if (config.mode === "accounts") {
			secret = { mode: "accounts", decoy: await decoyHash() };
		} else {
			secret = { mode: "open" };
		}
		return new HostGate(secret, redis, sessionTtl);
	}

	get mode(): RoomCreationMode {
		return this.#secret.mode;
	}

	get accounts(): AccountStore {
		return this.#accounts;
	}

	/** A new host session, or HttpError: 401 wrong credentials, 400 missing name, 409 open mode. */
	async signIn(name: string | undefined, password: string): Promise<HostSession> {
		const secret = this.#secret;
		if (secret.mode === "open") throw new HttpError(409, signInNotNeededMessage);
		if (secret.mode === "password") {
			if (!(await verifyPassword(password, secret.hash))) throw new HttpError(401, wrongPasswordMessage);
			return this.#sessions.create({ mode: "password", epoch: secret.fingerprint });
		}
		if (name === undefined) throw new HttpError(400, "name is required: sign in with your account's name and password");
		const account = await this.#accounts.get(name.trim().toLowerCase());
		// An unknown name costs the same scrypt work as a wrong password.
		const matches = await verifyPassword(password, account?.passwordHash ?? secret.decoy);
		if (!account || !matches) throw new HttpError(401, wrongCredentialsMessage);
		const session = await this.#sessions.create({ mode: "accounts", name: account.name, epoch: account.epoch });
		return { ...session, name: account.name };
	}

	/** The session behind `token` if it still holds, else undefined. Open mode: never signed in. */
	async check(token: string | undefined): Promise<Checked | undefined> {
		const secret = this.#secret;
		if (token === undefined || secret.mode === "open") return undefined;
		const session = await this.#sessions.find(token);
		if (!session || session.mode !== secret.mode || session.expiresAt <= Date.now()) return undefined;
		if (secret.mode === "password") {
			return session.epoch === secret.fingerprint ? { expiresAt: session.expiresAt } : undefined;
		}
		if (session.name === undefined || !accountNameRegExp.test(session.name)) return undefined;
		const account = await this.#accounts.get(session.name);
		if (!account || account.epoch !== session.epoch) return undefined;
		return { name: account.name, expiresAt: session.expiresAt };
	}

	async status(token: string | undefined): Promise<SessionStatus> {
		const checked = await this.check(token);
		return {
			roomCreation: this.mode,
			signedIn: checked !== undefined,
			...(checked?.name !== undefined ? { name: checked.name } : {}),
			...(checked ? { expiresAt: checked.expiresAt } : {}),
		};
	}

	/**
	 * May the bearer of `token` create a room? Open mode: yes. Otherwise a
	 * HttpError 401 that says what to do. Returns the account name, if any, for the log.
	 */
	async authorizeCreate(token: string | undefined): Promise<{ account?: string }> {
		if (this.#secret.mode === "open") return {};
		if (token === undefined) {
			throw new HttpError(
				401,
				this.#secret.mode === "password"
					? "sign in with the host password to create rooms (POST /api/session)"
					: "sign in with your host account to create rooms (POST /api/session)",
			);
		}
		const checked = await this.check(token);
		if (!checked) throw new HttpError(401, "your sign-in is no longer valid: sign in again to create rooms");
		return checked.name !== undefined ? { account: checked.name } : {};
	}

	signOut(token: string): Promise<void> {
		return this.#sessions.remove(token);
	}
}
