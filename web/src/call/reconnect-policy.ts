/**
 * When to try again after a connection failed: the one back-off policy of the
 * client, used by the call's signaling connection and the host's lobby socket.
 *
 * Pure: the delay depends only on how many tries failed in a row, how long ago
 * the first of them failed, and a random number (the jitter). LiveKit's
 * ReconnectPolicy is the model: the first retry goes at once (a restarted
 * server or a reload is often back already), later ones wait longer and
 * longer, and after a while the caller is told to stop.
 */

export interface BackoffOptions {
	/** The ceiling of the second retry; each later one doubles it, up to maxMs. */
	baseMs: number;
	maxMs: number;
	/** Stop once the first failure of the streak is this old (Infinity: never). */
	giveUpAfterMs: number;
}

/**
 * The call's: about 30 s of tries (a network switch or a 10-second cut comes
 * back; someone truly offline learns it soon), never more than 2 s between
 * tries, so a returning network is noticed within about that.
 */
export const callBackoff: BackoffOptions = { baseMs: 250, maxMs: 2000, giveUpAfterMs: 30_000 };

/** The host's lobby socket lives as long as the call: it slows down but never gives up. */
export const lobbyBackoff: BackoffOptions = { baseMs: 500, maxMs: 10_000, giveUpAfterMs: Number.POSITIVE_INFINITY };

/**
 * Milliseconds to wait before retry number `retry` (0 = the first retry after
 * the first failure), or null to give up. `elapsedMs`: time since the first
 * failure of the streak. `random` returns [0, 1): each delay lies between half
 * and all of its ceiling, so many clients cut off by one restart do not come
 * back in step.
 */
export function nextRetryDelay(
	retry: number,
	elapsedMs: number,
	options: BackoffOptions = callBackoff,
	random: () => number = Math.random,
): number | null {
	if (!(elapsedMs < options.giveUpAfterMs)) return null;
	if (retry <= 0) return 0;
	const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** (retry - 1));
	const delay = ceiling * (0.5 + Math.min(Math.max(random(), 0), 1) / 2);
	// Never sleep past the deadline: the last try goes at it, not after it.
	return Math.round(Math.min(delay, options.giveUpAfterMs - elapsedMs));
}

/**
 * A streak of failures, for one connection: counts them and remembers when
 * the first one happened. `now` is passed in so tests need no clock.
 */
export class RetryStreak {
	readonly #options: BackoffOptions;
	readonly #random: () => number;
	#failures = 0;
	#since: number | undefined;

	constructor(options: BackoffOptions = callBackoff, random: () => number = Math.random) {
		this.#options = options;
		this.#random = random;
	}

	/** How many tries failed since the last success. */
	get failures(): number {
		return this.#failures;
	}

	/** A try failed at `now`: the delay before the next one, or null to give up. */
	failed(now: number): number | null {
		this.#since ??= now;
		const delay = nextRetryDelay(this.#failures, now - this.#since, this.#options, this.#random);
		this.#failures++;
		return delay;
	}

	/** A try worked: the next failure starts a new streak. */
	succeeded(): void {
		this.#failures = 0;
		this.#since = undefined;
	}
}
