/**
 * Publishes this node in Redis so the API can place rooms on the
 * least-loaded live node. A node that stops heartbeating is ignored.
 */
import { redisKeys, type SfuNodeStatus, sfuRtpCapabilitiesKey } from "@mindmeet/protocol";
import type { RtpCapabilities } from "mediasoup/types";
import type { Logger } from "pino";

export interface NodeRegistryStore {
	hSet(key: string, field: string, value: string): Promise<unknown>;
	hDel(key: string, field: string): Promise<unknown>;
}

/** The default heartbeat interval (SfuConfig.heartbeatIntervalMs); the API treats a node silent for 15 s as gone. */
export const heartbeatIntervalMs = 5_000;

export class NodeRegistry {
	readonly #store: NodeRegistryStore;
	readonly #status: () => Omit<SfuNodeStatus, "heartbeatAt">;
	readonly #logger: Logger;
	readonly #onHeartbeat: (() => void) | undefined;
	readonly #intervalMs: number;
	/** JSON of the routers' RTP capabilities (rtp-capabilities.ts), or undefined when there are none to publish. */
	readonly #capabilities: string | undefined;
	#timer: NodeJS.Timeout | undefined;

	constructor(options: {
		store: NodeRegistryStore;
		status: () => Omit<SfuNodeStatus, "heartbeatAt">;
		logger: Logger;
		/** Runs on every periodic heartbeat (not on load-change beats): keeps open rooms alive in Redis. */
		onHeartbeat?: () => void;
		intervalMs?: number;
		/** What this node's routers can do, published under sfuRtpCapabilitiesKey for browsers still waiting to join. */
		rtpCapabilities?: RtpCapabilities;
	}) {
		this.#capabilities = options.rtpCapabilities ? JSON.stringify(options.rtpCapabilities) : undefined;
		this.#intervalMs = options.intervalMs ?? heartbeatIntervalMs;
		this.#store = options.store;
		this.#status = options.status;
		this.#logger = options.logger;
		this.#onHeartbeat = options.onHeartbeat;
	}

	async start(): Promise<void> {
		await Promise.all([this.beat(), this.#publishCapabilities()]);
		this.#timer = setInterval(() => {
			void this.beat();
			// Again on every periodic beat (not on load changes): a restarted Redis has them back within one.
			void this.#publishCapabilities();
			this.#onHeartbeat?.();
		}, this.#intervalMs);
		this.#timer.unref();
	}

	/** Publish the current status now (also called when load changes). */
	async beat(): Promise<void> {
		const status: SfuNodeStatus = { ...this.#status(), heartbeatAt: Date.now() };
		try {
			await this.#store.hSet(redisKeys.sfuNodes, status.id, JSON.stringify(status));
		} catch (error) {
			this.#logger.warn({ err: error }, "could not publish node status");
		}
	}

	async #publishCapabilities(): Promise<void> {
		if (this.#capabilities === undefined) return;
		try {
			await this.#store.hSet(sfuRtpCapabilitiesKey, this.#status().id, this.#capabilities);
		} catch (error) {
			this.#logger.warn({ err: error }, "could not publish the routers' RTP capabilities");
		}
	}

	async stop(nodeId: string): Promise<void> {
		clearInterval(this.#timer);
		try {
			await Promise.all([
				this.#store.hDel(redisKeys.sfuNodes, nodeId),
				this.#store.hDel(sfuRtpCapabilitiesKey, nodeId),
			]);
		} catch {
			// Redis may already be gone at shutdown; the entry goes stale on its own.
		}
	}
}
