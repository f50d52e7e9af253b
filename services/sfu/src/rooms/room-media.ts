/**
 * The part of a room that lives on one mediasoup worker: its router and the
 * router's speaking monitor. When that worker dies, mediasoup closes the
 * router and everything on it; the room then builds a new RoomMedia on a
 * live worker and keeps its people, host and chat (see Room).
 */
import { EventEmitter } from "node:events";
import type { Router } from "mediasoup/types";
import type { Logger } from "pino";
import { mediaCodecs } from "../media-codecs.ts";
import type { MediaWorker } from "../workers/worker-pool.ts";
import { SpeakingMonitor } from "./speaking.ts";

export interface RoomMediaEvents {
	/** The worker under this media died: every object on it is gone. */
	workerclose: [];
}

export class RoomMedia extends EventEmitter<RoomMediaEvents> {
	readonly worker: MediaWorker;
	readonly router: Router;
	readonly speaking: SpeakingMonitor;

	private constructor(worker: MediaWorker, router: Router, speaking: SpeakingMonitor) {
		super();
		this.worker = worker;
		this.router = router;
		this.speaking = speaking;
		router.on("workerclose", () => this.emit("workerclose"));
	}

	static async create(
		worker: MediaWorker,
		options: { speakingThresholdDbov: number; announceSpeaking: (peerIds: string[]) => void; logger: Logger },
	): Promise<RoomMedia> {
		const router = await worker.worker.createRouter({ mediaCodecs });
		try {
			const speaking = await SpeakingMonitor.create(router, {
				thresholdDbov: options.speakingThresholdDbov,
				announce: options.announceSpeaking,
				logger: options.logger,
			});
			return new RoomMedia(worker, router, speaking);
		} catch (error) {
			router.close();
			throw error;
		}
	}

	/** Closed by us, or by mediasoup when the worker died. */
	get closed(): boolean {
		return this.router.closed;
	}

	close(): void {
		this.router.close();
	}
}
