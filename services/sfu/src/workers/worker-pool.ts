/**
 * One mediasoup worker per core, each with a WebRtcServer so that all its
 * transports share one UDP and one TCP port (one port to publish per worker).
 */
import { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import { createWorker, workerBin as defaultWorkerBin } from "mediasoup";
import type { Router, WebRtcServer, Worker } from "mediasoup/types";
import type { Logger } from "pino";

export interface MediaWorker {
	readonly index: number;
	readonly worker: Worker;
	readonly webRtcServer: WebRtcServer;
}

export interface WorkerPoolOptions {
	count: number;
	listenIp: string;
	announcedAddress: string | undefined;
	/** More addresses to listen on with the same port, each announced as itself (SFU_EXTRA_ADDRESSES). */
	extraAddresses?: readonly string[];
	rtcPort: number;
	workerBin: string | undefined;
	logger: Logger;
}

export class WorkerUnavailableError extends Error {}

/** Pauses between tries at replacing a dead worker: 250 ms, doubling, at most 5 s. */
const replaceRetryFirstMs = 250;
const replaceRetryMaxMs = 5_000;

/** How many mediasoup objects the live workers hold, from their own dumps (not from this process's maps). */
export interface MediaObjectCounts {
	workers: number;
	routers: number;
	transports: number;
	producers: number;
	consumers: number;
}

/** Where the worker binary is, or a message that says how to get one. */
export function findWorkerBin(explicit: string | undefined): string {
	const bin = explicit ?? defaultWorkerBin;
	if (!existsSync(bin)) {
		throw new WorkerUnavailableError(
			`mediasoup worker not found at ${bin}. npm ci downloads one on a machine with internet access; ` +
				"otherwise build it and set MEDIASOUP_WORKER_BIN=/path/to/mediasoup-worker",
		);
	}
	return bin;
}

interface WorkerPoolEvents {
	/** A worker started (at creation or as a replacement for one that died). */
	started: [MediaWorker];
	closed: [];
}

export class WorkerPool {
	readonly #options: WorkerPoolOptions;
	readonly #bin: string;
	readonly #workers: MediaWorker[] = [];
	readonly #events = new EventEmitter<WorkerPoolEvents>();
	/** Every open router, so objectCounts can dump it: a worker's own dump lists router ids only. */
	readonly #routers = new Set<Router>();
	#closed = false;

	private constructor(options: WorkerPoolOptions, bin: string) {
		this.#options = options;
		this.#bin = bin;
	}

	static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
		const pool = new WorkerPool(options, findWorkerBin(options.workerBin));
		for (let index = 0; index < options.count; index++) {
			pool.#workers[index] = await pool.#start(index);
		}
		return pool;
	}

	get workers(): readonly MediaWorker[] {
		return this.#workers;
	}

	/** The worker for which `load` is smallest. */
	leastLoaded(load: (worker: MediaWorker) => number): MediaWorker {
		let best: MediaWorker | undefined;
		let bestLoad = Number.POSITIVE_INFINITY;
		for (const candidate of this.#workers) {
			if (candidate.worker.closed) continue;
			const value = load(candidate);
			if (value < bestLoad) {
				best = candidate;
				bestLoad = value;
			}
		}
		if (!best) throw new WorkerUnavailableError("no mediasoup worker is running");
		return best;
	}

	/**
	 * The least-loaded live worker, waiting up to `timeoutMs` for one to start
	 * when none is running (a single worker just died and its replacement is
	 * on its way). Rooms whose worker died use it to move instead of closing;
	 * WorkerUnavailableError if no worker comes in time or the pool closes.
	 */
	async waitForLive(load: (worker: MediaWorker) => number, timeoutMs: number): Promise<MediaWorker> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			if (this.#closed) throw new WorkerUnavailableError("the worker pool is closed");
			try {
				return this.leastLoaded(load);
			} catch (error) {
				if (!(error instanceof WorkerUnavailableError)) throw error;
			}
			const left = deadline - Date.now();
			if (left <= 0) throw new WorkerUnavailableError(`no mediasoup worker started within ${timeoutMs} ms`);
			await new Promise<void>((resolve) => {
				const done = () => {
					clearTimeout(timer);
					this.#events.off("started", done);
					this.#events.off("closed", done);
					resolve();
				};
				const timer = setTimeout(done, left);
				this.#events.on("started", done);
				this.#events.on("closed", done);
			});
		}
	}

	/**
	 * Count what the workers themselves hold. A leak shows here even when
	 * this process has forgotten the object (the soak benchmark reads it
	 * after everyone left, expecting zeros).
	 */
	async objectCounts(): Promise<MediaObjectCounts> {
		const counts: MediaObjectCounts = { workers: 0, routers: 0, transports: 0, producers: 0, consumers: 0 };
		for (const { worker } of this.#workers) {
			if (worker.closed) continue;
			counts.workers++;
			counts.routers += (await worker.dump()).routerIds.length;
		}
		for (const router of this.#routers) {
			if (router.closed) continue;
			const dump = await router.dump();
			counts.transports += dump.transportIds.length;
			counts.producers += dump.mapProducerIdConsumerIds.length;
			counts.consumers += dump.mapConsumerIdProducerId.length;
		}
		return counts;
	}

	close(): void {
		this.#closed = true;
		this.#events.emit("closed");
		for (const { worker } of this.#workers) worker.close();
	}

	async #start(index: number): Promise<MediaWorker> {
		const { listenIp, announcedAddress, extraAddresses = [], rtcPort, logger } = this.#options;
		const worker = await createWorker({ workerBin: this.#bin, logLevel: "warn" });
		const port = rtcPort === 0 ? undefined : rtcPort + index;
		const listen = { ip: listenIp, ...(announcedAddress ? { announcedAddress } : {}), ...(port ? { port } : {}) };
		// The same port on each extra address: a browser that will not pair with
		// the main one (Firefox and loopback) gets a candidate it can use.
		const extra = extraAddresses.map((ip) => ({ ip, ...(port ? { port } : {}) }));
		let webRtcServer: WebRtcServer;
		try {
			webRtcServer = await worker.createWebRtcServer({
				listenInfos: [listen, ...extra].flatMap((info) => [
					{ ...info, protocol: "udp" as const },
					{ ...info, protocol: "tcp" as const },
				]),
			});
		} catch (error) {
			// A worker without its server is of no use, and must not linger as a process.
			worker.close();
			throw error;
		}
		worker.observer.on("newrouter", (router) => {
			this.#routers.add(router);
			router.observer.once("close", () => this.#routers.delete(router));
		});
		worker.on("died", (error) => {
			logger.error({ worker: index, pid: worker.pid, err: error }, "mediasoup worker died");
			void this.#replace(index);
		});
		logger.info({ worker: index, pid: worker.pid, port: port ?? "auto" }, "mediasoup worker started");
		return { index, worker, webRtcServer };
	}

	async #replace(index: number): Promise<void> {
		// Rooms on the dead worker move to a live one by themselves (their
		// router reports "workerclose"; see waitForLive); new rooms land on the
		// replacement too. Starting one can fail (say its port is not free yet
		// when several died at once): try again with a growing pause, for as
		// long as the pool is open, or the node would stay a worker short.
		for (let attempt = 0; !this.#closed; attempt++) {
			try {
				const replacement = await this.#start(index);
				if (this.#closed) {
					replacement.worker.close();
					return;
				}
				this.#workers[index] = replacement;
				this.#events.emit("started", replacement);
				return;
			} catch (error) {
				const retryMs = Math.min(replaceRetryMaxMs, replaceRetryFirstMs * 2 ** attempt);
				this.#options.logger.error({ worker: index, err: error, retryMs }, "could not replace mediasoup worker");
				await new Promise((resolve) => setTimeout(resolve, retryMs));
			}
		}
	}
}
