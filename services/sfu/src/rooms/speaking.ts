/**
 * Who is speaking in a room, from the router's AudioLevelObserver. The
 * observer reports every interval while anyone is above the threshold; this
 * turns that into `speaking` lists of peer ids and passes one on only when it
 * differs from the last one announced, so clients get one message per change
 * instead of one every 300 ms.
 */
import type { AudioLevelObserver, AudioLevelObserverVolume, Producer, Router } from "mediasoup/types";
import type { Logger } from "pino";

/** How often the observer reports, ms: quick enough for a speaking ring to follow a voice. */
export const speakingIntervalMs = 300;
/** Most speakers listed at once; a grid highlights a few, never a crowd. */
export const speakingMaxEntries = 4;

export class SpeakingMonitor {
	readonly #observer: AudioLevelObserver;
	readonly #announce: (peerIds: string[]) => void;
	readonly #logger: Logger;
	/** Producer id → id of the peer it belongs to. */
	readonly #owners = new Map<string, string>();
	#current: readonly string[] = [];

	private constructor(observer: AudioLevelObserver, announce: (peerIds: string[]) => void, logger: Logger) {
		this.#observer = observer;
		this.#announce = announce;
		this.#logger = logger;
		observer.on("volumes", (volumes) => this.#heard(volumes));
		observer.on("silence", () => this.#set([]));
	}

	static async create(
		router: Router,
		options: { thresholdDbov: number; announce: (peerIds: string[]) => void; logger: Logger },
	): Promise<SpeakingMonitor> {
		const observer = await router.createAudioLevelObserver({
			maxEntries: speakingMaxEntries,
			threshold: options.thresholdDbov,
			interval: speakingIntervalMs,
		});
		return new SpeakingMonitor(observer, options.announce, options.logger);
	}

	/** Peer ids speaking now, loudest first (the last list announced). */
	get current(): readonly string[] {
		return this.#current;
	}

	/** Watch a microphone. mediasoup drops it from the observer by itself when it closes. */
	async add(producer: Producer, peerId: string): Promise<void> {
		this.#owners.set(producer.id, peerId);
		// The observer would drop a muted mic only at its next report; say so at once.
		producer.observer.on("pause", () => this.#without(peerId));
		producer.observer.on("close", () => {
			this.#owners.delete(producer.id);
			this.#without(peerId);
		});
		try {
			await this.#observer.addProducer({ producerId: producer.id });
		} catch (error) {
			// Closed meanwhile (the peer left): nothing to watch.
			if (!producer.closed && !this.#observer.closed) throw error;
			this.#logger.debug({ producer: producer.id }, "microphone closed before it could be watched");
		}
	}

	#heard(volumes: AudioLevelObserverVolume[]): void {
		const peerIds: string[] = [];
		for (const { producer } of [...volumes].sort((a, b) => b.volume - a.volume)) {
			// mediasoup skips paused producers; a report already on its way when
			// the pause landed must not list a muted mic either.
			if (producer.paused) continue;
			const peerId = this.#owners.get(producer.id);
			if (peerId !== undefined && !peerIds.includes(peerId)) peerIds.push(peerId);
		}
		this.#set(peerIds);
	}

	#without(peerId: string): void {
		if (this.#current.includes(peerId)) this.#set(this.#current.filter((id) => id !== peerId));
	}

	#set(peerIds: string[]): void {
		if (this.#observer.closed) return;
		if (peerIds.length === this.#current.length && peerIds.every((id, index) => id === this.#current[index])) return;
		this.#current = peerIds;
		this.#announce(peerIds);
	}
}
