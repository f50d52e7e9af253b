/**
 * Slots a peer may hold at most once each (a send transport, a mic
 * producer, …), taken synchronously before a request awaits anything.
 *
 * Checking "does the peer have one?" and storing the new object only after
 * mediasoup answers lets every concurrent request pass the check; taking the
 * slot first, in the same tick as the check, lets exactly one through. Each
 * holder gets a ticket, so a late release (a request that failed after the
 * slots were reset for a media move) never frees a slot someone else holds
 * now.
 */
export class Slots<K> {
	readonly #held = new Map<K, symbol>();

	/** Take the slot for `key`; undefined if it is held already. */
	take(key: K): symbol | undefined {
		if (this.#held.has(key)) return undefined;
		const ticket = Symbol(String(key));
		this.#held.set(key, ticket);
		return ticket;
	}

	/** Free the slot for `key` if `ticket` still holds it; otherwise nothing happens. */
	release(key: K, ticket: symbol): void {
		if (this.#held.get(key) === ticket) this.#held.delete(key);
	}

	holds(key: K, ticket: symbol): boolean {
		return this.#held.get(key) === ticket;
	}

	/** Free every slot (the media they were for is gone). */
	clear(): void {
		this.#held.clear();
	}
}
