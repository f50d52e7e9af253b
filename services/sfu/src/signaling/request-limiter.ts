/**
 * How many requests one signaling connection may make, separate from chat's
 * own limit (which counts messages per peer id, see chat.ts).
 *
 * A token bucket: `burst` requests at once, refilled at `perSecond`. A real
 * client's busiest moment is its join (capabilities, two transports, two
 * connects, join, two or three produce) plus a ping every 2.5 s and a layer
 * change per tile resize, far below the defaults (SfuConfig). A request
 * beyond the bucket is refused with `rate-limited` and does nothing.
 *
 * Refusals are counted in a second bucket: `floodRefusals` of them within
 * about `floodWindowMs` (it drains at floodRefusals per window) means the
 * peer keeps flooding regardless of the answers, and it is disconnected.
 */
export interface RequestLimits {
	/** Requests that may arrive at once. */
	burst: number;
	/** Sustained requests per second. */
	perSecond: number;
	/** Refused requests within floodWindowMs after which the connection is closed. */
	floodRefusals: number;
	floodWindowMs: number;
}

/** The verdict on one request. */
export type RequestVerdict = "ok" | "limited" | "flooding";

class TokenBucket {
	readonly #capacity: number;
	readonly #perMs: number;
	#tokens: number;
	#at: number;

	constructor(capacity: number, perMs: number, now: number) {
		this.#capacity = capacity;
		this.#perMs = perMs;
		this.#tokens = capacity;
		this.#at = now;
	}

	take(now: number): boolean {
		this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#at) * this.#perMs);
		this.#at = now;
		if (this.#tokens < 1) return false;
		this.#tokens -= 1;
		return true;
	}
}

export class RequestLimiter {
	readonly #requests: TokenBucket;
	readonly #refusals: TokenBucket;

	constructor(limits: RequestLimits, now: number = performance.now()) {
		this.#requests = new TokenBucket(limits.burst, limits.perSecond / 1000, now);
		this.#refusals = new TokenBucket(limits.floodRefusals, limits.floodRefusals / limits.floodWindowMs, now);
	}

	/** Count one request arriving now. */
	take(now: number = performance.now()): RequestVerdict {
		if (this.#requests.take(now)) return "ok";
		return this.#refusals.take(now) ? "limited" : "flooding";
	}
}
