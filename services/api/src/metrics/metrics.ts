/**
 * The API's Prometheus metrics (docs/METRICS.md lists them). One registry per
 * app, never prom-client's global one: tests build many apps in one process,
 * and each must count only its own requests. Process metrics (CPU, memory,
 * event loop) belong to the process, so they live in one registry per
 * process, started the first time any app is scraped.
 *
 * Redis availability and the live SFU nodes are read when Prometheus
 * scrapes (one PING and one HGETALL, bounded by a timeout), not kept up to
 * date in between.
 */
import type { KnockEnd } from "@mindmeet/protocol";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { ApiRedis } from "../redis.ts";
import { probeBackends } from "../sfu-nodes.ts";

/** Why a knock was turned away before it was queued. */
export type KnockRefusal = "queue-full" | "room-full";

/** What the lobby reports (see KnockStore). */
export interface KnockMetrics {
	knockCreated(): void;
	/** A knock left "pending"; `waitedMs` is known when its record was (not for records Redis already expired). */
	knockEnded(end: KnockEnd, waitedMs: number | undefined): void;
	knockRefused(reason: KnockRefusal): void;
}

/** What room creation reports. */
export interface RoomMetrics {
	roomCreated(): void;
}

const httpMethods = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

let processRegistry: Registry | undefined;

/** The process's own metrics, in a registry of their own (never the global default one). */
function processMetrics(): Registry {
	if (!processRegistry) {
		processRegistry = new Registry();
		collectDefaultMetrics({ register: processRegistry, prefix: "mindmeet_" });
	}
	return processRegistry;
}

export class ApiMetrics implements KnockMetrics, RoomMetrics {
	readonly #registry = new Registry();
	readonly #knocks: Counter<"outcome">;
	readonly #knocksCreated: Counter;
	readonly #knockWait: Histogram<"outcome">;
	readonly #roomsCreated: Counter;
	readonly #http: Counter<"method" | "route" | "status">;

	constructor(redis: Pick<ApiRedis, "ping" | "hGetAll">) {
		const registers = [this.#registry];
		this.#knocksCreated = new Counter({
			name: "mindmeet_knocks_created_total",
			help: "Knocks queued for a host",
			registers,
		});
		this.#knocks = new Counter({
			name: "mindmeet_knock_outcomes_total",
			help: "How knocks ended: admitted, denied, cancelled (the guest left), expired; or refused before queueing (queue-full: too many waiting; room-full: no place in the call)",
			labelNames: ["outcome"],
			registers,
		});
		this.#knockWait = new Histogram({
			name: "mindmeet_knock_wait_seconds",
			help: "From the knock to the host's answer (or the guest leaving, or the expiry)",
			labelNames: ["outcome"],
			buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
			registers,
		});
		this.#roomsCreated = new Counter({
			name: "mindmeet_rooms_created_total",
			help: "Rooms created",
			registers,
		});
		this.#http = new Counter({
			name: "mindmeet_http_requests_total",
			help: "HTTP requests answered, by route pattern and status class",
			labelNames: ["method", "route", "status"],
			registers,
		});
		// One probe serves both gauges of a scrape (their collect() callbacks run concurrently).
		let probe: ReturnType<typeof probeBackends> | undefined;
		const probeOnce = () => {
			probe ??= probeBackends(redis).finally(() => {
				setImmediate(() => {
					probe = undefined;
				});
			});
			return probe;
		};
		new Gauge({
			name: "mindmeet_redis_up",
			help: "1 when the API's Redis answered a PING at scrape time, else 0",
			registers,
			async collect() {
				this.set((await probeOnce()).redis === "up" ? 1 : 0);
			},
		});
		new Gauge({
			name: "mindmeet_sfu_nodes_live",
			help: "SFU nodes whose heartbeat in Redis is recent (0 when Redis is unreachable)",
			registers,
			async collect() {
				this.set((await probeOnce()).nodes?.length ?? 0);
			},
		});
	}

	knockCreated(): void {
		this.#knocksCreated.inc();
	}

	knockEnded(end: KnockEnd, waitedMs: number | undefined): void {
		this.#knocks.inc({ outcome: end });
		if (waitedMs !== undefined && waitedMs >= 0) this.#knockWait.observe({ outcome: end }, waitedMs / 1000);
	}

	knockRefused(reason: KnockRefusal): void {
		this.#knocks.inc({ outcome: reason });
	}

	roomCreated(): void {
		this.#roomsCreated.inc();
	}

	/**
	 * One answered request. `route` is the route's pattern (bounded), never
	 * the URL: ids and tokens must not become label values.
	 */
	httpRequest(method: string, route: string | undefined, statusCode: number): void {
		this.#http.inc({
			method: httpMethods.has(method) ? method : "other",
			route: route ?? "unmatched",
			status: `${Math.floor(statusCode / 100)}xx`,
		});
	}

	readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;

	/** The text Prometheus scrapes: this app's metrics and the process's. */
	async text(): Promise<string> {
		const [own, process] = await Promise.all([this.#registry.metrics(), processMetrics().metrics()]);
		return `${own}\n${process}`;
	}
}
