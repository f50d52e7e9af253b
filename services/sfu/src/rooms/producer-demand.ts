/**
 * What each publisher needs to send of its videos: the highest spatial
 * layer that someone watching actually asked for, or nothing at all.
 *
 * A viewer's consumer counts while it is watched (not paused by its viewer,
 * see Room's pauseConsumer), its viewer is connected and the producer is not
 * muted by its own sender (a muted camera is watched by nobody). It asks for
 * its preferred spatial layer (setConsumerPreferredLayers; mediasoup's
 * default is the top one). The demand is the maximum over those consumers,
 * capped at the producer's top layer; with none of them it is "none"
 * (`null`). The publisher is told with `producerDemand` whenever the demand
 * it was last told changes, and limits its sender to that: the layers above
 * are not encoded, and with "none" nothing of that video is sent.
 *
 * A publisher starts out sending every layer (a new producer, after a
 * reconnect or a media rebuild, is a new producer here too), so it is only
 * told when the demand differs from that. Raises are sent at once: a viewer
 * is waiting for the picture. Lowers wait `demandLowerDelayMs` and then send
 * whatever the demand is by then, so a page flip (every tile paused, then
 * others resumed) or a tile resizing through sizes costs no burst of
 * notifications and no layer switched off only to be wanted back a moment
 * later.
 *
 * Key frames when a layer comes back need nothing more here: the browser's
 * encoder starts an encoding that turns active again with a key frame, and
 * mediasoup's simulcast consumer switches to a layer only at a key frame
 * (asking the producer for one itself); a viewer resuming its consumer asks
 * for one too (see Room's #setConsumerWatched). The end-to-end test shows a
 * returning layer decoded at full size. Watching the producer's score for
 * the layer's return would not work: mediasoup (3.27) keeps a stream's last
 * score when its RTP stops.
 */
import type { ProducerDemand as ProducerDemandData } from "@mindmeet/protocol";
import { parseScalabilityMode } from "mediasoup";
import type { Consumer, Producer } from "mediasoup/types";
import type { Logger } from "pino";

/**
 * How long a lower demand must hold before the publisher is told. Long
 * enough to absorb a page flip, a scroll or a grid relayout (tiles are
 * paused and resumed within a few hundred milliseconds: the client gathers
 * view changes for ~300 ms and asks for a tile's layer once its size has
 * settled for 300 ms), short enough that an unwatched layer stops costing
 * the publisher's uplink within a couple of seconds.
 */
export const demandLowerDelayMs = 1500;

/** Who gets told: the peer that publishes the producer. */
export interface DemandPublisher {
	readonly id: string;
	readonly closed: boolean;
	notify(method: "producerDemand", data: ProducerDemandData): void;
}

/** A viewer of a producer: whether its connection is still there. */
export interface DemandViewer {
	readonly closed: boolean;
}

export interface ProducerDemandOptions {
	logger: Logger;
	/** See demandLowerDelayMs (tests may shorten it). */
	lowerDelayMs?: number;
}

interface Tracked {
	producer: Producer;
	publisher: DemandPublisher;
	/** The producer's highest spatial layer (0 for a single-layer video). */
	top: number;
	/** What the publisher sends as far as it was last told (it starts sending everything). */
	told: number | null;
	/** A lower demand waiting for demandLowerDelayMs. */
	lowerTimer: NodeJS.Timeout | undefined;
	/** Consumers of this producer, on any of the room's routers (a pipe producer keeps its id). */
	consumers: Map<Consumer, DemandViewer>;
}

export class ProducerDemand {
	readonly #producers = new Map<string, Tracked>();
	readonly #logger: Logger;
	readonly #lowerDelayMs: number;
	#closed = false;

	constructor(options: ProducerDemandOptions) {
		this.#logger = options.logger;
		this.#lowerDelayMs = options.lowerDelayMs ?? demandLowerDelayMs;
	}

	/** Follow a video producer's demand from now on, until it closes. Audio is never limited. */
	track(publisher: DemandPublisher, producer: Producer): void {
		if (this.#closed || producer.kind !== "video" || producer.closed || this.#producers.has(producer.id)) return;
		const top = topLayerOf(producer);
		const tracked: Tracked = {
			producer,
			publisher,
			top,
			told: top,
			lowerTimer: undefined,
			consumers: new Map(),
		};
		this.#producers.set(producer.id, tracked);
		producer.observer.once("close", () => {
			clearTimeout(tracked.lowerTimer);
			if (this.#producers.get(producer.id) === tracked) this.#producers.delete(producer.id);
		});
		// Nobody consumes it yet: a producer nobody comes to watch stops after the delay.
		this.changed(producer.id);
	}

	/**
	 * A consumer of a tracked producer was created (it counts at once, before
	 * its viewer has answered newConsumer: it is about to be started). It stops
	 * counting when it closes (its producer, its transport or its peer went).
	 */
	watch(viewer: DemandViewer, consumer: Consumer): void {
		const tracked = this.#producers.get(consumer.producerId);
		if (!tracked || consumer.closed) return;
		tracked.consumers.set(consumer, viewer);
		consumer.observer.once("close", () => {
			if (tracked.consumers.delete(consumer)) this.changed(consumer.producerId);
		});
		this.changed(consumer.producerId);
	}

	/** Something a producer's demand depends on changed: tell its publisher (now, or after the delay if it fell). */
	changed(producerId: string): void {
		const tracked = this.#producers.get(producerId);
		if (!tracked || this.#closed) return;
		const demand = this.#demandOf(tracked);
		if (demand === tracked.told) {
			// Wanted back before the lower went out: nothing to say.
			clearTimeout(tracked.lowerTimer);
			tracked.lowerTimer = undefined;
			return;
		}
		if (isHigher(demand, tracked.told)) {
			clearTimeout(tracked.lowerTimer);
			tracked.lowerTimer = undefined;
			this.#tell(tracked, demand);
			return;
		}
		// Lower: wait, then tell whatever it is by then (a burst of changes becomes one notification).
		tracked.lowerTimer ??= setTimeout(() => {
			tracked.lowerTimer = undefined;
			if (this.#closed || this.#producers.get(producerId) !== tracked) return;
			const settled = this.#demandOf(tracked);
			if (settled !== tracked.told) this.#tell(tracked, settled);
		}, this.#lowerDelayMs);
	}

	/** The layer the producer's publisher was last told to send up to (null: nothing); undefined if not tracked. */
	toldOf(producerId: string): number | null | undefined {
		return this.#producers.get(producerId)?.told;
	}

	/** The demand right now, before any delay (diagnostics, tests); undefined if not tracked. */
	demandOf(producerId: string): number | null | undefined {
		const tracked = this.#producers.get(producerId);
		return tracked ? this.#demandOf(tracked) : undefined;
	}

	close(): void {
		this.#closed = true;
		for (const tracked of this.#producers.values()) clearTimeout(tracked.lowerTimer);
		this.#producers.clear();
	}

	#demandOf(tracked: Tracked): number | null {
		// The sender's own mute: nobody sees it, whoever is watching its tile.
		if (tracked.producer.paused || tracked.producer.closed) return null;
		let demand: number | null = null;
		for (const [consumer, viewer] of tracked.consumers) {
			if (consumer.closed || viewer.closed || consumer.appData.unwatched === true) continue;
			const wanted = Math.min(consumer.preferredLayers?.spatialLayer ?? tracked.top, tracked.top);
			if (demand === null || wanted > demand) demand = wanted;
			if (demand === tracked.top) break;
		}
		return demand;
	}

	#tell(tracked: Tracked, demand: number | null): void {
		tracked.told = demand;
		if (tracked.publisher.closed) return;
		this.#logger.debug(
			{ peer: tracked.publisher.id, producer: tracked.producer.id, maxSpatialLayer: demand },
			"producer demand changed",
		);
		tracked.publisher.notify("producerDemand", { producerId: tracked.producer.id, maxSpatialLayer: demand });
	}
}

/** Whether demand `a` asks for more than `b` (null, nothing, is the least). */
function isHigher(a: number | null, b: number | null): boolean {
	if (a === null) return false;
	return b === null || a > b;
}

/** The highest spatial layer a producer sends: simulcast encodings, or the spatial layers of one SVC encoding. */
function topLayerOf(producer: Producer): number {
	const encodings = producer.rtpParameters.encodings ?? [];
	if (encodings.length > 1) return encodings.length - 1;
	return Math.max(0, parseScalabilityMode(encodings[0]?.scalabilityMode).spatialLayers - 1);
}
