/**
 * Publishes this node in Redis so the API can place rooms on the
 * least-loaded live node. A node that stops heartbeating is ignored.
 */
import { redisKeys, type SfuNodeStatus } from "@mindmeet/protocol";
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
	#timer: NodeJS.Timeout | undefined;

	constructor(options: {
		store: NodeRegistryStore;
		status: () => Omit<SfuNodeStatus, "heartbeatAt">;
		logger: Logger;
		/** Runs on every periodic heartbeat (not on load-change beats): keeps open rooms alive in Redis. */
		onHeartbeat?: () => void;
		intervalMs?: number;
	}) {
		this.#intervalMs = options.intervalMs ?? heartbeatIntervalMs;
		this.#store = options.store;
		this.#status = options.status;
		this.#logger = options.logger;
		this.#onHeartbeat = options.onHeartbeat;
	}

	async start(): Promise<void> {
		await this.beat();
		this.#timer = setInterval(() => {
			void this.beat();
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

	async stop(nodeId: string): Promise<void> {
		clearInterval(this.#timer);
		try {
			await this.#store.hDel(redisKeys.sfuNodes, nodeId);
		} catch {
			// Redis may already be gone at shutdown; the entry goes stale on its own.
		}
	}
}
