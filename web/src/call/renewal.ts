/**
 * Credentials that last as long as the person is in the call: the token is
 * renewed at about half of its remaining life (POST /api/rooms/:roomId/token),
 * so a reload or a reconnect hours into a meeting needs no knock.
 *
 * The scheduling is pure (tokenExpiresAt, renewDelay, afterRenewalFailure);
 * TokenRenewal runs it with timers that tests can replace.
 */
import type { PeerRole, RenewTokenResponse } from "@mindmeet/protocol";

export interface Credentials {
	token: string;
	peerId: string;
}

/** A 503 or a network error: the API may be back in a moment. */
export const renewRetryMs = 10_000;
/** Never renew more often than this, even for a token about to expire (or already expired). */
export const renewMinDelayMs = 1_000;
/** setTimeout's largest delay; a longer one fires at once. */
const maxTimerMs = 2 ** 31 - 1;

/** When the token expires and was issued (JWT `exp` and `iat`), in epoch ms of the server's clock. */
export interface TokenTimes {
	expiresAt: number;
	issuedAt: number | undefined;
}

/** Read `exp` and `iat` from the token's payload (base64url JSON); undefined if it is not a JWT with an `exp`. */
export function tokenTimes(token: string): TokenTimes | undefined {
	const payload = token.split(".")[1];
	if (!payload) return undefined;
	try {
		const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
		const json: unknown = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "=")));
		if (typeof json !== "object" || json === null) return undefined;
		const { exp, iat } = json as { exp?: unknown; iat?: unknown };
		const seconds = (value: unknown) =>
			typeof value === "number" && Number.isFinite(value) ? value * 1000 : undefined;
		const expiresAt = seconds(exp);
		return expiresAt === undefined ? undefined : { expiresAt, issuedAt: seconds(iat) };
	} catch {
		return undefined;
	}
}

/** The token's `exp` in epoch ms, or undefined if it has none or is not a JWT. */
export function tokenExpiresAt(token: string): number | undefined {
	return tokenTimes(token)?.expiresAt;
}

const clampDelay = (ms: number) => Math.min(maxTimerMs, Math.max(renewMinDelayMs, Math.floor(ms)));

/** How long to wait before renewing a token that expires at `expiresAt`: half of what is left. */
export function renewDelay(expiresAt: number, now: number): number {
	return clampDelay((expiresAt - now) / 2);
}

/**
 * When to renew this token. A token that was `justIssued` (the answer to a
 * renewal) is renewed at half of its own lifetime (exp − iat, both on the
 * server's clock), so a client whose clock is off by more than that does not
 * renew in a loop. Any other (a stored one, say) by this clock: half of what
 * is left. Undefined: the token does not say when it expires.
 */
export function renewDelayFor(token: string, now: number, justIssued: boolean): number | undefined {
	const times = tokenTimes(token);
	if (!times) return undefined;
	if (justIssued && times.issuedAt !== undefined) return clampDelay((times.expiresAt - times.issuedAt) / 2);
	return renewDelay(times.expiresAt, now);
}

/**
 * What to do after a failed renewal. `status` is the HTTP status, undefined
 * for a network error. 401 (expired, forged, revoked), 403 (not in the call)
 * and 404 (room gone) will not change by asking again: stop (the call goes
 * on; a later reconnect may be refused). Anything else is worth a retry.
 */
export function afterRenewalFailure(status: number | undefined): { retryInMs: number } | "stop" {
	if (status === 401 || status === 403 || status === 404) return "stop";
	return { retryInMs: renewRetryMs };
}

/** The HTTP status an API error carries (ApiRequestError.status), if any. */
export function statusOf(error: unknown): number | undefined {
	const status = typeof error === "object" && error !== null ? (error as { status?: unknown }).status : undefined;
	return typeof status === "number" ? status : undefined;
}

export interface Timers {
	set(callback: () => void, ms: number): unknown;
	clear(handle: unknown): void;
}

const globalTimers: Timers = {
	set: (callback, ms) => setTimeout(callback, ms),
	clear: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};

export interface TokenRenewalOptions {
	credentials: Credentials;
	/** Ask the API for a fresh token; rejects with an error carrying `status` (see statusOf). */
	renew: (token: string) => Promise<RenewTokenResponse>;
	/** The new credentials, to be kept (sessionStorage) for reloads. */
	onRenewed: (credentials: Credentials, role: PeerRole) => void;
	now?: () => number;
	timers?: Timers;
}

/**
 * Keeps one person's credentials fresh. Renews only while connected (the API
 * renews only for someone in the call): a renewal that falls due while the
 * call is reconnecting waits for the connection.
 */
export class TokenRenewal {
	#credentials: Credentials;
	readonly #options: TokenRenewalOptions;
	readonly #now: () => number;
	readonly #timers: Timers;
	#timer: unknown;
	#connected = false;
	#due = false;
	#inFlight = false;
	#stopped = false;

	constructor(options: TokenRenewalOptions) {
		this.#options = options;
		this.#credentials = options.credentials;
		this.#now = options.now ?? Date.now;
		this.#timers = options.timers ?? globalTimers;
		this.#schedule(renewDelayFor(this.#credentials.token, this.#now(), false));
	}

	/** The newest credentials: for every later connection attempt, ICE lookup and lobby socket. */
	get credentials(): Credentials {
		return this.#credentials;
	}

	get token(): string {
		return this.#credentials.token;
	}

	/** Whether renewing was given up (401/403/404). */
	get stopped(): boolean {
		return this.#stopped;
	}

	setConnected(connected: boolean): void {
		this.#connected = connected;
		if (connected && this.#due) this.renewNow();
	}

	/** Renew at once (e.g. this peer just became host: the lobby needs a host's token now). */
	renewNow(): void {
		if (this.#stopped || this.#inFlight) return;
		this.#timers.clear(this.#timer);
		if (!this.#connected) {
			this.#due = true;
			return;
		}
		this.#due = false;
		this.#inFlight = true;
		const sent = this.#credentials.token;
		this.#options.renew(sent).then(
			(answer) => {
				this.#inFlight = false;
				if (this.#stopped) return;
				this.#credentials = { token: answer.token, peerId: answer.peerId };
				this.#options.onRenewed(this.#credentials, answer.role);
				this.#schedule(
					renewDelayFor(answer.token, this.#now(), true) ??
						(Number.isFinite(answer.expiresAt) ? renewDelay(answer.expiresAt, this.#now()) : undefined),
				);
			},
			(error: unknown) => {
				this.#inFlight = false;
				if (this.#stopped) return;
				const next = afterRenewalFailure(statusOf(error));
				if (next === "stop") {
					this.#stopped = true;
					return;
				}
				this.#timer = this.#timers.set(() => this.renewNow(), next.retryInMs);
			},
		);
	}

	/** The call is over: no more renewals. */
	stop(): void {
		this.#stopped = true;
		this.#timers.clear(this.#timer);
	}

	#schedule(delay: number | undefined): void {
		// A token that does not say when it expires is taken as it is.
		if (delay === undefined || this.#stopped) return;
		this.#timers.clear(this.#timer);
		this.#timer = this.#timers.set(() => this.renewNow(), delay);
	}
}
