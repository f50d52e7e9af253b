/**
 * The SFU node's Prometheus metrics (docs/METRICS.md lists them), served at
 * GET /metrics on the signaling port beside /health and /stats.
 *
 * Labels are bounded on purpose: per node (the Prometheus target), per
 * worker index, media kind, direction, refusal reason. Never a room or peer
 * id: there is no end to those.
 *
 * Cheap values (counts kept in this process's maps) are read at scrape
 * time. Expensive ones (getStats of every transport, producer and consumer,
 * each a request to a worker, and the workers' CPU) are also read at scrape
 * time, once per scrape however many metrics use them, with a bounded
 * number of requests and a deadline; what does not answer keeps its last
 * value and is counted in mindmeet_sfu_stats_incomplete.
 *
 * Traffic counters (bytes, packets, losses, NACKs, PLIs) are totals over
 * objects that come and go. Each object's own counter only grows; when it
 * closes, its last value is kept in the total, so the node's total never
 * goes down (what it did between the last scrape and closing is not seen).
 * Prometheus computes rates from them.
 */
import type { RefusalReason } from "@mindmeet/protocol";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { RoomRegistry } from "../rooms/room-registry.ts";
import type { WorkerPool } from "../workers/worker-pool.ts";
import { settleBounded } from "./bounded.ts";

/** What the door and the rooms report. */
export interface SignalingMetrics {
	/** A connection got a `refused` notification (final) for `reason`. */
	refused(reason: RefusalReason): void;
	/** A connection's upgrade was answered 503 (retry later). */
	unavailable(): void;
	/** A connection's first `join` was answered, `seconds` after the connection arrived. */
	joinAnswered(seconds: number): void;
	chatMessage(): void;
}

export interface StatsBudget {
	/** At most this many getStats requests per scrape (default 5,000). */
	maxObjects: number;
	/** Requests in flight at once (default 32). */
	concurrency: number;
	/** A scrape waits for stats this long at most, ms (default 3,000). */
	timeoutMs: number;
}

const defaultBudget: StatsBudget = { maxObjects: 5_000, concurrency: 32, timeoutMs: 3_000 };

type Direction = "in" | "out";
type Kind = "audio" | "video";
type RtpField = "packets" | "lost" | "nacks" | "plis";

/** The traffic a series adds up; keys like `in:audio:packets`, `bytes:in`. */
type SeriesKey = `${Direction}:${Kind}:${RtpField}` | `bytes:${Direction}`;

/**
 * Per-node totals over objects that come and go (see the file comment).
 * Each object's value is held at its largest seen, so an RTCP report that
 * goes down by a packet (duplicates) cannot make the total go down.
 */
class Totals {
	readonly #live = new Map<string, Map<SeriesKey, number>>();
	readonly #retired = new Map<SeriesKey, number>();

	observe(objectId: string, key: SeriesKey, value: number): void {
		if (!Number.isFinite(value) || value < 0) return;
		let values = this.#live.get(objectId);
		if (!values) {
			values = new Map();
			this.#live.set(objectId, values);
		}
		values.set(key, Math.max(values.get(key) ?? 0, value));
	}

	/** Objects not in `live` have closed: their last values stay in the totals. */
	retireAllBut(live: ReadonlySet<string>): void {
		for (const [objectId, values] of this.#live) {
			if (live.has(objectId)) continue;
			for (const [key, value] of values) this.#retired.set(key, (this.#retired.get(key) ?? 0) + value);
			this.#live.delete(objectId);
		}
	}

	total(key: SeriesKey): number {
		let sum = this.#retired.get(key) ?? 0;
		for (const values of this.#live.values()) sum += values.get(key) ?? 0;
		return sum;
	}
}

interface RtpStat {
	type: string;
	packetCount: number;
	packetsLost: number;
	nackCount: number;
	pliCount: number;
}

let processRegistry: Registry | undefined;

/** The process's own metrics, in a registry of their own (never prom-client's global one). */
function processMetrics(): Registry {
	if (!processRegistry) {
		processRegistry = new Registry();
		collectDefaultMetrics({ register: processRegistry, prefix: "mindmeet_" });
	}
	return processRegistry;
}

const kinds: readonly Kind[] = ["audio", "video"];
const directions: readonly Direction[] = ["in", "out"];

export class SfuMetrics implements SignalingMetrics {
	readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;
	readonly #registry = new Registry();
	readonly #roomRegistry: () => RoomRegistry;
	readonly #workers: WorkerPool;
	readonly #redisUp: () => Promise<boolean>;
	readonly #budget: StatsBudget;
	readonly #totals = new Totals();
	readonly #workerCpu = new Map<number, { user: number; system: number }>();
	#incomplete = 0;
	#scrape: Promise<void> | undefined;
	#redis: Promise<boolean> | undefined;
	readonly #refusals: Counter<"reason">;
	readonly #unavailable: Counter;
	readonly #joins: Histogram;
	readonly #chat: Counter;

	constructor(options: {
		/** The node's rooms; a function because the registry is made after the metrics it reports to. */
		rooms: () => RoomRegistry;
		workers: WorkerPool;
		/** True when Redis answers now (bounded: the caller times it out). */
		redisUp: () => Promise<boolean>;
		budget?: Partial<StatsBudget>;
	}) {
		this.#roomRegistry = options.rooms;
		this.#workers = options.workers;
		this.#redisUp = options.redisUp;
		this.#budget = { ...defaultBudget, ...options.budget };
		const registers = [this.#registry];
		const metrics = this;

		this.#refusals = new Counter({
			name: "mindmeet_sfu_refusals_total",
			help: "Signaling connections refused (final), by reason: token-invalid, room-full, server-full, too-many-requests…",
			labelNames: ["reason"],
			registers,
		});
		this.#unavailable = new Counter({
			name: "mindmeet_sfu_unavailable_total",
			help: "Signaling connections answered 503 (Redis or workers unavailable; the client retries)",
			registers,
		});
		this.#joins = new Histogram({
			name: "mindmeet_sfu_join_seconds",
			help: "From a signaling connection's arrival to its join being answered",
			buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
			registers,
		});
		this.#chat = new Counter({ name: "mindmeet_sfu_chat_messages_total", help: "Chat messages sent", registers });

		// Cheap: counted from this process's maps.
		new Gauge({
			name: "mindmeet_sfu_rooms",
			help: "Rooms open on this node",
			registers,
			collect() {
				this.set(metrics.#rooms.rooms.size);
			},
		});
		new Gauge({
			name: "mindmeet_sfu_peers",
			help: "Signaling connections in rooms on this node",
			registers,
			collect() {
				this.set(metrics.#rooms.peerCount);
			},
		});
		new Gauge({
			name: "mindmeet_sfu_transports",
			help: "WebRTC transports open",
			registers,
			collect() {
				this.set(metrics.#counts().transports);
			},
		});
		new Gauge({
			name: "mindmeet_sfu_producers",
			help: "Producers (media sent to the SFU), by kind",
			labelNames: ["kind"],
			registers,
			collect() {
				const { producers } = metrics.#counts();
				for (const kind of kinds) this.set({ kind }, producers[kind]);
			},
		});
		new Gauge({
			name: "mindmeet_sfu_consumers",
			help: "Consumers (media sent by the SFU), by kind",
			labelNames: ["kind"],
			registers,
			collect() {
				const { consumers } = metrics.#counts();
				for (const kind of kinds) this.set({ kind }, consumers[kind]);
			},
		});
		new Gauge({
			name: "mindmeet_sfu_workers_alive",
			help: "mediasoup workers running",
			registers,
			collect() {
				this.set(metrics.#workers.workers.filter(({ worker }) => !worker.closed).length);
			},
		});
		new Gauge({
			name: "mindmeet_redis_up",
			help: "1 when this node's Redis answered a PING at scrape time, else 0",
			registers,
			async collect() {
				this.set((await metrics.#redisOnce()) ? 1 : 0);
			},
		});

		// Expensive: one bounded refresh per scrape feeds all of these.
		new Counter({
			name: "mindmeet_sfu_worker_cpu_seconds_total",
			help: "CPU time of each mediasoup worker process (getResourceUsage), by mode (user, system)",
			labelNames: ["worker", "mode"],
			registers,
			async collect() {
				await metrics.#refreshOnce();
				this.reset();
				for (const [index, cpu] of metrics.#workerCpu) {
					this.inc({ worker: String(index), mode: "user" }, cpu.user);
					this.inc({ worker: String(index), mode: "system" }, cpu.system);
				}
			},
		});
		const traffic = (name: string, help: string, key: (direction: Direction) => SeriesKey) =>
			new Counter({
				name,
				help,
				labelNames: ["direction"],
				registers,
				async collect() {
					await metrics.#refreshOnce();
					this.reset();
					for (const direction of directions) this.inc({ direction }, metrics.#totals.total(key(direction)));
				},
			});
		traffic(
			"mindmeet_sfu_transport_bytes_total",
			"Bytes through the WebRTC transports: in (received from browsers) and out (sent to them), RTP and RTCP",
			(direction) => `bytes:${direction}`,
		);
		const rtp = (name: string, help: string, field: RtpField) =>
			new Counter({
				name,
				help,
				labelNames: ["direction", "kind"],
				registers,
				async collect() {
					await metrics.#refreshOnce();
					this.reset();
					for (const direction of directions) {
						for (const kind of kinds)
							this.inc({ direction, kind }, metrics.#totals.total(`${direction}:${kind}:${field}`));
					}
				},
			});
		rtp(
			"mindmeet_sfu_rtp_packets_total",
			"RTP packets: in (received by producers), out (sent by consumers)",
			"packets",
		);
		rtp(
			"mindmeet_sfu_rtp_packets_lost_total",
			"RTP packets lost: in (on the way from the sender to the SFU), out (reported lost by receivers)",
			"lost",
		);
		rtp(
			"mindmeet_sfu_rtcp_nacks_total",
			"NACKs: in (sent by the SFU to senders), out (received from receivers)",
			"nacks",
		);
		rtp(
			"mindmeet_sfu_rtcp_plis_total",
			"PLIs (keyframe requests): in (sent by the SFU to senders), out (received from receivers)",
			"plis",
		);
		new Gauge({
			name: "mindmeet_sfu_stats_incomplete",
			help: "Objects whose stats did not come back within the scrape's budget (their last values are used)",
			registers,
			async collect() {
				await metrics.#refreshOnce();
				this.set(metrics.#incomplete);
			},
		});
	}

	refused(reason: RefusalReason): void {
		this.#refusals.inc({ reason });
	}

	unavailable(): void {
		this.#unavailable.inc();
	}

	joinAnswered(seconds: number): void {
		this.#joins.observe(seconds);
	}

	chatMessage(): void {
		this.#chat.inc();
	}

	/** The text Prometheus scrapes: this node's metrics and the process's. */
	async text(): Promise<string> {
		const [own, process] = await Promise.all([this.#registry.metrics(), processMetrics().metrics()]);
		return `${own}\n${process}`;
	}

	get #rooms(): RoomRegistry {
		return this.#roomRegistry();
	}

	#counts() {
		let transports = 0;
		const producers = { audio: 0, video: 0 };
		const consumers = { audio: 0, video: 0 };
		for (const room of this.#rooms.rooms.values()) {
			for (const peer of room.peers.values()) {
				for (const transport of peer.transports.values()) if (!transport.closed) transports++;
				for (const producer of peer.producers.values()) if (!producer.closed) producers[producer.kind]++;
				for (const consumer of peer.consumers.values()) if (!consumer.closed) consumers[consumer.kind]++;
			}
		}
		return { transports, producers, consumers };
	}

	/** One Redis probe per scrape, shared by whoever asks during it. */
	#redisOnce(): Promise<boolean> {
		this.#redis ??= this.#redisUp()
			.catch(() => false)
			.finally(() => setImmediate(() => (this.#redis = undefined)));
		return this.#redis;
	}

	/** One stats refresh per scrape: the metrics' collect() callbacks all start in the same tick. */
	#refreshOnce(): Promise<void> {
		this.#scrape ??= this.#refresh().finally(() => setImmediate(() => (this.#scrape = undefined)));
		return this.#scrape;
	}

	async #refresh(): Promise<void> {
		const deadline = Date.now() + this.#budget.timeoutMs;
		const live = new Set<string>();
		const tasks: (() => Promise<void>)[] = [];
		for (const room of this.#rooms.rooms.values()) {
			for (const peer of room.peers.values()) {
				for (const transport of peer.transports.values()) {
					if (transport.closed) continue;
					live.add(transport.id);
					tasks.push(async () => {
						for (const stat of await transport.getStats()) {
							this.#totals.observe(transport.id, "bytes:in", stat.bytesReceived);
							this.#totals.observe(transport.id, "bytes:out", stat.bytesSent);
						}
					});
				}
				for (const producer of peer.producers.values()) {
					if (producer.closed) continue;
					live.add(producer.id);
					tasks.push(async () => this.#observeRtp(producer.id, "in", producer.kind, await producer.getStats()));
				}
				for (const consumer of peer.consumers.values()) {
					if (consumer.closed) continue;
					live.add(consumer.id);
					tasks.push(async () => this.#observeRtp(consumer.id, "out", consumer.kind, await consumer.getStats()));
				}
			}
		}
		const cpu = this.#workers.workers.map(({ index, worker }) => async () => {
			if (worker.closed) return;
			const usage = await worker.getResourceUsage();
			// ru_utime and ru_stime are milliseconds.
			this.#workerCpu.set(index, { user: usage.ru_utime / 1000, system: usage.ru_stime / 1000 });
		});
		// Each task answers `true` once done, so what stays undefined failed, timed out or was never asked.
		const done = await settleBounded(
			[...cpu, ...tasks].map((task) => async () => {
				await task();
				return true;
			}),
			{ limit: cpu.length + this.#budget.maxObjects, concurrency: this.#budget.concurrency, deadline },
		);
		this.#incomplete = done.slice(cpu.length).filter((result) => result === undefined).length;
		this.#totals.retireAllBut(live);
	}

	#observeRtp(objectId: string, direction: Direction, kind: Kind, stats: readonly RtpStat[]): void {
		// A producer's stats are its inbound streams; a consumer's are its outbound stream (plus its producer's).
		const type = direction === "in" ? "inbound-rtp" : "outbound-rtp";
		let packets = 0;
		let lost = 0;
		let nacks = 0;
		let plis = 0;
		for (const stat of stats) {
			if (stat.type !== type) continue;
			packets += stat.packetCount;
			lost += stat.packetsLost;
			nacks += stat.nackCount;
			plis += stat.pliCount;
		}
		this.#totals.observe(objectId, `${direction}:${kind}:packets`, packets);
		this.#totals.observe(objectId, `${direction}:${kind}:lost`, lost);
		this.#totals.observe(objectId, `${direction}:${kind}:nacks`, nacks);
		this.#totals.observe(objectId, `${direction}:${kind}:plis`, plis);
	}
}
