/**
 * One Redis subscriber connection per API instance, shared by every
 * WebSocket that listens to a channel. A browser socket adds a listener to a
 * channel's set; the channel is subscribed while its set is non-empty and
 * unsubscribed when the last listener goes, so idle channels cost nothing.
 */
import type { FastifyBaseLogger } from "fastify";
import { type ApiRedisSubscriber, describeError } from "./redis.ts";

export type EventListener = (message: string) => void;

export class EventHub {
	readonly #client: ApiRedisSubscriber;
	readonly #log: FastifyBaseLogger;
	readonly #listeners = new Map<string, Set<EventListener>>();
	/** Channels Redis has confirmed (or is about to confirm) a subscription for. */
	readonly #subscribed = new Set<string>();
	/**
	 * SUBSCRIBE/UNSUBSCRIBE run one at a time: a socket that opens while the
	 * last listener's UNSUBSCRIBE is in flight must not end up unsubscribed.
	 */
	#queue: Promise<void> = Promise.resolve();
	#closed = false;

	constructor(client: ApiRedisSubscriber, log: FastifyBaseLogger) {
		this.#client = client;
		this.#log = log;
	}

	/**
	 * Start delivering `channel`'s messages to `listener`. Resolves once Redis
	 * has confirmed the subscription, so anything published afterwards reaches
	 * the listener; returns the function that stops it.
	 */
	async listen(channel: string, listener: EventListener): Promise<() => void> {
		if (this.#closed) throw new Error("event hub is closed");
		let listeners = this.#listeners.get(channel);
		if (!listeners) {
			listeners = new Set();
			this.#listeners.set(channel, listeners);
		}
		listeners.add(listener);
		try {
			await this.#sync(channel);
		} catch (error) {
			this.#remove(channel, listener);
			throw error;
		}
		let stopped = false;
		return () => {
			if (stopped) return;
			stopped = true;
			this.#remove(channel, listener);
		};
	}

	close(): void {
		this.#closed = true;
		this.#listeners.clear();
		this.#subscribed.clear();
		try {
			this.#client.destroy();
		} catch {
			// Never connected (the app failed to start) or already closed: nothing to release.
		}
	}

	#remove(channel: string, listener: EventListener): void {
		const listeners = this.#listeners.get(channel);
		if (!listeners?.delete(listener) || listeners.size > 0) return;
		this.#listeners.delete(channel);
		if (this.#closed) return;
		this.#sync(channel).catch((error: unknown) => {
			// The subscription stays until the connection drops; messages on it find no listener.
			this.#log.debug({ error: describeError(error) }, "event hub: unsubscribe failed");
		});
	}

	/** Bring Redis in line with whether the channel has listeners. */
	#sync(channel: string): Promise<void> {
		const run = async () => {
			if (this.#closed) return;
			const wanted = this.#listeners.has(channel);
			if (wanted && !this.#subscribed.has(channel)) {
				await this.#client.subscribe(channel, this.#dispatch);
				this.#subscribed.add(channel);
			} else if (!wanted && this.#subscribed.has(channel)) {
				this.#subscribed.delete(channel);
				await this.#client.unsubscribe(channel, this.#dispatch);
			}
		};
		const done = this.#queue.then(run, run);
		this.#queue = done.catch(() => {});
		return done;
	}

	readonly #dispatch = (message: string, channel: string): void => {
		const listeners = this.#listeners.get(channel);
		if (!listeners) return;
		// A copy: a listener may close its socket (and remove itself) while we iterate.
		for (const listener of [...listeners]) {
			try {
				listener(message);
			} catch (error) {
				this.#log.error({ error: describeError(error) }, "event hub: listener failed");
			}
		}
	};
}
