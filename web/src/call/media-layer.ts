/**
 * The media of one connection attempt: the mediasoup device, the send and
 * receive transports, our producers and the consumers of everyone else.
 * Nothing in it survives the attempt: on a drop or a `mediaReset` it is
 * closed whole and a new one is built (the SFU forgot its side already).
 * The tracks it sends belong to LocalMedia and outlive it (stopTracks: false).
 */
import type { MediaSource, ServerRequests, WebRtcTransportInfo } from "@mindmeet/protocol";
import type { Device } from "mediasoup-client";
import type { Consumer, MediaKind, Producer, RtpCapabilities, Transport } from "mediasoup-client/types";
import { markJoin } from "./join-timeline.ts";
import { loadDevice } from "./preloaded-device.ts";
import type { MediaPatch } from "./roster.ts";
import { trackPatch } from "./roster.ts";
import type { SignalingRequest } from "./signaling.ts";

export type NewConsumer = ServerRequests["newConsumer"]["request"];

interface ConsumerEntry {
	consumer: Consumer;
	peerId: string;
	source: MediaSource;
	/** Simulcast layer last asked of the SFU for this consumer (cameras only). */
	layer?: number;
	/** Whether it is forwarded as far as we last told the SFU (video only; the SFU starts it forwarded). */
	watched: boolean;
}

export const kindOf = (source: MediaSource): MediaKind => (source === "mic" ? "audio" : "video");

function isMediaSource(value: unknown): value is MediaSource {
	return value === "mic" || value === "cam" || value === "screen";
}

/**
 * The camera goes out in two simulcast layers (half and full resolution), so
 * the SFU can forward the small one to small tiles and nobody downloads
 * 700 kbit/s to fill a thumbnail. A start bitrate of 1 Mbit/s skips the slow
 * ramp-up from the browser's default. Screens go out in one layer: text must
 * stay sharp.
 */
const cameraEncodings = {
	encodings: [
		{ scaleResolutionDownBy: 2, maxBitrate: 150_000 },
		{ scaleResolutionDownBy: 1, maxBitrate: 700_000 },
	],
	codecOptions: { videoGoogleStartBitrate: 1000 },
};

export interface MediaLayerEvents {
	/**
	 * A transport failed. `hadMedia`: media had flowed on this layer (then a
	 * fresh connection is worth it); without it, UDP and TCP to the SFU are
	 * probably blocked and trying again would fail again.
	 */
	onTransportFailed: (hadMedia: boolean) => void;
	/** A transport connected: media gets through to the SFU. */
	onTransportConnected: () => void;
}

export class MediaLayer {
	readonly #request: SignalingRequest;
	readonly #events: MediaLayerEvents;
	#device: Device | undefined;
	#send: Transport | undefined;
	#recv: Transport | undefined;
	readonly #producers = new Map<MediaSource, Producer>();
	readonly #consumers = new Map<string, ConsumerEntry>();
	/**
	 * Pause/resume news about consumers still being set up (newConsumer is
	 * answered asynchronously, and a producer paused right after it started,
	 * as a muted mic is after a reconnect, overtakes it), by consumer id.
	 */
	readonly #earlyPauses = new Map<string, boolean>();
	/**
	 * What the SFU last asked each of our video producers to send
	 * (producerDemand), by producer id; kept for one whose produce request
	 * is still being answered, and applied when it is.
	 */
	readonly #demands = new Map<string, number | null>();
	/** Producers whose sending limit is being applied right now (one change at a time, the latest wins). */
	readonly #limiting = new Set<Producer>();
	#mediaUp = false;
	#closed = false;

	constructor(request: SignalingRequest, events: MediaLayerEvents) {
		this.#request = request;
		this.#events = events;
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** Use a device loaded before the call (preloaded-device.ts); returns what we can receive (for `join`). */
	use(device: Device): RtpCapabilities {
		if (!device.loaded) throw new Error("the device is not loaded");
		this.#device = device;
		return device.recvRtpCapabilities;
	}

	/** Load the device with the router's capabilities; returns what we can receive (for `join`). */
	async load(routerRtpCapabilities: RtpCapabilities): Promise<RtpCapabilities> {
		return this.use(await loadDevice(routerRtpCapabilities));
	}

	createTransports(recvInfo: WebRtcTransportInfo, sendInfo: WebRtcTransportInfo, iceServers: RTCIceServer[]): void {
		const device = this.#device;
		if (!device || this.#closed) throw new Error("media layer not loaded");
		this.#recv = this.#transport(device, "recv", recvInfo, iceServers);
		const send = this.#transport(device, "send", sendInfo, iceServers);
		send.on("produce", ({ kind, rtpParameters, appData }, callback, errback) => {
			const source = appData.source;
			if (!isMediaSource(source)) {
				errback(new Error("producer without a media source"));
				return;
			}
			this.#request("produce", { transportId: send.id, kind, rtpParameters, source }).then(
				({ producerId }) => callback({ id: producerId }),
				errback,
			);
		});
		this.#send = send;
	}

	#transport(device: Device, direction: "send" | "recv", info: WebRtcTransportInfo, iceServers: RTCIceServer[]) {
		const options = { ...info, iceServers };
		const transport = direction === "send" ? device.createSendTransport(options) : device.createRecvTransport(options);
		transport.on("connect", ({ dtlsParameters }, callback, errback) => {
			this.#request("connectWebRtcTransport", { transportId: transport.id, dtlsParameters }).then(
				() => callback(),
				errback,
			);
		});
		transport.on("connectionstatechange", (state) => {
			if (this.#closed) return;
			if (state === "connected") {
				if (direction === "recv") markJoin("receiving");
				this.#mediaUp = true;
				this.#events.onTransportConnected();
			}
			if (state === "failed") this.#events.onTransportFailed(this.#mediaUp);
		});
		return transport;
	}

	canProduce(source: MediaSource): boolean {
		return Boolean(this.#send && this.#device?.canProduce(kindOf(source)));
	}

	/**
	 * Send a local track; `paused` sends it muted from the start (a rebuild
	 * keeps a muted mic muted). False when it cannot be sent (no transport,
	 * or the device cannot send this kind).
	 */
	async produce(source: MediaSource, track: MediaStreamTrack, paused: boolean): Promise<boolean> {
		const transport = this.#send;
		if (!transport || !this.canProduce(source)) return false;
		// A disabled track sends silence (or black) until the pause below reaches the SFU, so nothing leaks.
		track.enabled = !paused;
		const producer = await transport.produce({
			track,
			stopTracks: false,
			appData: { source },
			...(source === "cam" ? cameraEncodings : {}),
		});
		if (this.#closed) {
			producer.close();
			return false;
		}
		this.#producers.get(source)?.close();
		this.#producers.set(source, producer);
		// The SFU may have answered produce and told its demand before we got here.
		if (this.#demands.has(producer.id)) this.#limitSending(producer);
		if (paused) {
			producer.pause();
			await this.#request("pauseProducer", { producerId: producer.id });
		}
		return true;
	}

	hasProducer(source: MediaSource): boolean {
		return this.#producers.has(source);
	}

	/** Mute or unmute a running producer, locally at once, then tell the SFU. */
	async setPaused(source: MediaSource, paused: boolean): Promise<void> {
		const producer = this.#producers.get(source);
		if (!producer || producer.paused === paused) return;
		if (paused) producer.pause();
		else producer.resume();
		await this.#request(paused ? "pauseProducer" : "resumeProducer", { producerId: producer.id });
	}

	async replaceTrack(source: MediaSource, track: MediaStreamTrack): Promise<void> {
		await this.#producers.get(source)?.replaceTrack({ track });
	}

	/** Stop sending a source; the request lets the SFU tell the others at once. */
	async closeProducer(source: MediaSource): Promise<void> {
		const producer = this.#producers.get(source);
		if (!producer) return;
		this.#producers.delete(source);
		producer.close();
		if (!this.#closed) await this.#request("closeProducer", { producerId: producer.id });
	}

	/** Receive what the SFU offers; returns the track and whether it starts paused. */
	async consume(data: NewConsumer): Promise<{ track: MediaStreamTrack; paused: boolean }> {
		const transport = this.#recv;
		if (!transport || this.#closed) throw new Error("not ready to receive media");
		const consumer = await transport.consume({
			id: data.id,
			producerId: data.producerId,
			kind: data.kind,
			rtpParameters: data.rtpParameters,
		});
		if (this.#closed) {
			consumer.close();
			throw new Error("media reset meanwhile");
		}
		this.#consumers.set(consumer.id, { consumer, peerId: data.peerId, source: data.source, watched: true });
		const paused = this.#earlyPauses.get(consumer.id) ?? data.producerPaused;
		this.#earlyPauses.delete(consumer.id);
		return { track: consumer.track, paused };
	}

	/** A consumer was paused or resumed by its sender; undefined if it is not set up yet (remembered for then). */
	markConsumer(consumerId: string, paused: boolean): { peerId: string; source: MediaSource } | undefined {
		const entry = this.#consumers.get(consumerId);
		if (!entry) {
			this.#earlyPauses.set(consumerId, paused);
			return undefined;
		}
		return { peerId: entry.peerId, source: entry.source };
	}

	closeConsumer(consumerId: string): { peerId: string; source: MediaSource; track: MediaStreamTrack } | undefined {
		const entry = this.#consumers.get(consumerId);
		if (!entry) return undefined;
		this.#consumers.delete(consumerId);
		entry.consumer.close();
		return { peerId: entry.peerId, source: entry.source, track: entry.consumer.track };
	}

	closePeer(peerId: string): void {
		for (const [id, entry] of this.#consumers) {
			if (entry.peerId !== peerId) continue;
			entry.consumer.close();
			this.#consumers.delete(id);
		}
	}

	/** What of this peer's media arrived already (before we knew their name). */
	mediaOf(peerId: string): MediaPatch {
		const patch: MediaPatch = {};
		for (const entry of this.#consumers.values()) {
			if (entry.peerId === peerId) Object.assign(patch, trackPatch(entry.source, entry.consumer.track, false));
		}
		return patch;
	}

	/** Ask for the simulcast layer that fits this peer's tile; repeats send nothing. */
	preferLayer(peerId: string, spatialLayer: number): void {
		if (this.#closed) return;
		for (const entry of this.#consumers.values()) {
			if (entry.peerId !== peerId || entry.source !== "cam" || entry.layer === spatialLayer) continue;
			entry.layer = spatialLayer;
			// An SFU without layer support refuses; the camera then keeps arriving at its best layer.
			this.#request("setConsumerPreferredLayers", { consumerId: entry.consumer.id, spatialLayer }).catch(() => {});
		}
	}

	/**
	 * Have the SFU forward this peer's video of `source` only while it is on
	 * screen somewhere. Audio is never touched: everyone stays heard. The
	 * SFU's pause is the viewer's own and does not affect the sender's mute
	 * (producerPaused), so a tile shows the sender's mute state as before.
	 */
	setWatched(peerId: string, source: MediaSource, watched: boolean): void {
		if (this.#closed || source === "mic") return;
		for (const entry of this.#consumers.values()) {
			if (entry.peerId !== peerId || entry.source !== source || entry.watched === watched) continue;
			entry.watched = watched;
			const consumerId = entry.consumer.id;
			// A consumer that closed meanwhile is refused with not-found: nothing left to pause.
			this.#request(watched ? "resumeConsumer" : "pauseConsumer", { consumerId }).catch(() => {});
		}
	}

	/**
	 * The SFU says how much of one of our videos is watched (producerDemand):
	 * send its simulcast layers up to `maxSpatialLayer`, or, with null,
	 * nothing at all. This is the sender's encodings only: the producer is not
	 * paused (neither here nor at the SFU), the track stays enabled and the
	 * local preview keeps showing, so the person's own mute and the SFU's
	 * producer state are untouched. A new producer (another attempt, after a
	 * reconnect or a mediaReset) starts out sending every layer until the
	 * SFU says otherwise. Audio is never limited.
	 */
	limitSending(producerId: string, maxSpatialLayer: number | null): void {
		if (this.#closed) return;
		this.#demands.set(producerId, maxSpatialLayer);
		for (const producer of this.#producers.values()) {
			if (producer.id === producerId) this.#limitSending(producer);
		}
	}

	/**
	 * Apply the latest demand to `producer`, one change at a time:
	 * mediasoup-client skips a setMaxSpatialLayer equal to the last one it
	 * was given before that one finished, so overlapping calls could lose the
	 * last word. It turns on exactly the encodings whose index is ≤ the layer,
	 * so -1 turns them all off, on the same path (and renegotiation) as any
	 * other limit.
	 */
	#limitSending(producer: Producer): void {
		if (producer.kind !== "video" || this.#limiting.has(producer)) return;
		const top = Math.max(0, (producer.rtpParameters.encodings?.length ?? 1) - 1);
		const target = () => {
			const demand = this.#demands.get(producer.id);
			if (demand === undefined) return undefined;
			return demand === null ? -1 : Math.min(demand, top);
		};
		this.#limiting.add(producer);
		void (async () => {
			try {
				for (let layer = target(); layer !== undefined && !producer.closed; layer = target()) {
					// Never set yet: every encoding is on, which is the top layer.
					const current = producer.maxSpatialLayer ?? top;
					if (current === layer) break;
					await producer.setMaxSpatialLayer(layer);
				}
			} catch {
				// Closed meanwhile: a closed producer sends nothing anyway.
			} finally {
				this.#limiting.delete(producer);
			}
		})();
	}

	/** Close everything; closing a transport closes its producers and consumers. Local tracks survive. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#send?.close();
		this.#recv?.close();
		this.#producers.clear();
		this.#consumers.clear();
		this.#earlyPauses.clear();
		this.#demands.clear();
	}
}
