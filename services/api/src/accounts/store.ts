/**
 * Host accounts and host sessions in Redis. Both the API and the accounts CLI
 * (cli.ts) use this, so the rules (name shape, hashing, what a reset revokes)
 * live in one place.
 *
 * A session is an opaque random token handed to the browser once; Redis keeps
 * only its sha-256 (`mm:host-session:<hash>`) with the session's TTL, so a
 * copy of Redis holds no usable credential.
 */
import { randomBytes } from "node:crypto";
import {
	type AccountSummary,
	accountNamePattern,
	redisKeys,
	StoredAccount,
	StoredHostSession,
} from "@mindmeet/protocol";
import { parseRecord } from "@mindmeet/protocol/records";
import type { ApiRedis } from "../redis.ts";
import { hashPassword, sha256Hex } from "./passwords.ts";

export const accountNameRegExp = new RegExp(accountNamePattern);

/** Commands the store needs: the API's client and the CLI's plain node-redis client both have them. */
export type AccountsRedis = Pick<ApiRedis, "get" | "set" | "del" | "sMembers" | "eval">;

function newEpoch(): string {
	return randomBytes(12).toString("base64url");
}

/** The account record, or undefined when there is none or it is unreadable (no such account). */
export function parseAccount(json: string | null | undefined): StoredAccount | undefined {
	return parseRecord(StoredAccount, json);
}

/** The session record, or undefined when there is none or it is unreadable (not signed in). */
function parseSession(json: string | null | undefined): StoredHostSession | undefined {
	return parseRecord(StoredHostSession, json);
}

/** Create only if the name is free; the index set follows. KEYS: account, accounts. ARGV: JSON, name. */
const createScript = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
	redis.call('SADD', KEYS[2], ARGV[2])
	return 1
end
return 0
`;
/** Replace only if it still exists. KEYS: account. ARGV: JSON. */
const replaceScript = `
if redis.call('SET', KEYS[1], ARGV[1], 'XX') then return 1 end
return 0
`;
/** KEYS: account, accounts. ARGV: name. */
const deleteScript = `
local n = redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return n
`;

export type CreateAccountResult = { created: true; account: AccountSummary } | { created: false };

export class AccountStore {
	readonly #redis: AccountsRedis;

	constructor(redis: AccountsRedis) {
		this.#redis = redis;
	}

	async get(name: string): Promise<StoredAccount | undefined> {
		if (!accountNameRegExp.test(name)) return undefined;
		return parseAccount(await this.#redis.get(redisKeys.account(name)));
	}

	/** Every account, by name. Names whose record is gone are dropped from the index. */
	async list(): Promise<AccountSummary[]> {
		const names = (await this.#redis.sMembers(redisKeys.accounts)).sort();
		const accounts: AccountSummary[] = [];
		for (const name of names) {
			const account = await this.get(name);
			if (account) accounts.push({ name: account.name, createdAt: account.createdAt });
		}
		return accounts;
	}

	async create(name: string, password: string): Promise<CreateAccountResult> {
		const account: StoredAccount = {
			name,
			passwordHash: await hashPassword(password),
			createdAt: Date.now(),
			epoch: newEpoch(),
		};
		const created = await this.#redis.eval(createScript, {
			keys: [redisKeys.account(name), redisKeys.accounts],
			arguments: [JSON.stringify(account), name],
		});
		return created === 1 ? { created: true, account: { name, createdAt: account.createdAt } } : { created: false };
	}

	/** New password and a new epoch: every session signed in before stops working. False: no such account. */
	async setPassword(name: string, password: string): Promise<boolean> {
		const current = await this.get(name);
		if (!current) return false;
		const account: StoredAccount = { ...current, passwordHash: await hashPassword(password), epoch: newEpoch() };
		const replaced = await this.#redis.eval(replaceScript, {
			keys: [redisKeys.account(name)],
			arguments: [JSON.stringify(account)],
		});
		return replaced === 1;
	}

	/** False: no such account. Its sessions stop working at once (they are checked against the account). */
	async remove(name: string): Promise<boolean> {
		if (!accountNameRegExp.test(name)) return false;
		const removed = await this.#redis.eval(deleteScript, {
			keys: [redisKeys.account(name), redisKeys.accounts],
			arguments: [name],
		});
		return removed === 1;
	}
}

/** Sign-in tokens: 32 random bytes, base64url (43 characters). */
export const sessionTokenPattern = /^[A-Za-z0-9_-]{43}$/;

export class SessionStore {
	readonly #redis: AccountsRedis;
	readonly #ttlSeconds: number;

	constructor(redis: AccountsRedis, ttlSeconds: number) {
		this.#redis = redis;
		this.#ttlSeconds = ttlSeconds;
	}

	async create(session: Omit<StoredHostSession, "expiresAt">): Promise<{ token: string; expiresAt: number }> {
		const token = randomBytes(32).toString("base64url");
		const expiresAt = Date.now() + this.#ttlSeconds * 1000;
		const stored: StoredHostSession = { ...session, expiresAt };
		await this.#redis.set(redisKeys.hostSession(sha256Hex(token)), JSON.stringify(stored), {
			expiration: { type: "EX", value: this.#ttlSeconds },
		});
		return { token, expiresAt };
	}

	async find(token: string): Promise<StoredHostSession | undefined> {
		if (!sessionTokenPattern.test(token)) return undefined;
		return parseSession(await this.#redis.get(redisKeys.hostSession(sha256Hex(token))));
	}

	async remove(token: string): Promise<void> {
		if (!sessionTokenPattern.test(token)) return;
		await this.#redis.del(redisKeys.hostSession(sha256Hex(token)));
	}
}
