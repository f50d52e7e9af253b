/**
 * The SFU process: workers, rooms, the protoo endpoint and the node's
 * heartbeat in Redis, wired together. Dependencies come in; nothing global.
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { redisPublicKeyStore, TokenVerifier } from "@mindmeet/protocol/token-keys";
import type { Logger } from "pino";
import { type CommandConnection, CommandListener } from "./commands/command-listener.ts";
import type { SfuConfig } from "./config.ts";
import { SfuMetrics } from "./metrics/sfu-metrics.ts";
import { RoomPlacement } from "./placement/room-placement.ts";
import { NodeRegistry, type NodeRegistryStore } from "./registry/node-registry.ts";
import { probeRouterRtpCapabilities } from "./registry/rtp-capabilities.ts";
import { RoomRegistry, type RoomStore } from "./rooms/room-registry.ts";
import { SignalingServer } from "./signaling/signaling-server.ts";
import { WorkerPool } from "./workers/worker-pool.ts";

/** The Redis commands the SFU uses; a node-redis client satisfies it. */
export type SfuRedis = RoomStore &
	NodeRegistryStore & {
		set(key: string, value: string, options: { EX: number } | { expiration: "KEEPTTL" }): Promise<unknown>;
		/** A second connection with the same options, for the command stream's blocking reads. */
		duplicate(): CommandConnection;
		/** "ready": connected again (after a Redis restart, say), so lost rooms are written back at once. */
		on(event: "ready", listener: () => void): unknown;
		off(event: "ready", listener: () => void): unknown;
		/** For /health and the metrics: is Redis there now. */
		ping(): Promise<string>;
	};

/** How long /health and /metrics wait for Redis's PONG before calling it down, ms. */
const redisProbeTimeoutMs = 2_000;

function json(response: ServerResponse, statusCode: number, body: unknown): void {
	response.writeHead(statusCode, { "content-type": "application/json", "cache-control": "no-store" });
	response.end(JSON.stringify(body));
}

export interface Sfu {
	readonly nodeId: string;
	readonly port: number;
	readonly signalingUrl: string;
	readonly rooms: RoomRegistry;
	readonly workers: WorkerPool;
	readonly metrics: SfuMetrics;
	close(): Promise<void>;
}

export async function startSfu(config: SfuConfig, deps: { redis: SfuRedis; logger: Logger }): Promise<Sfu> {
	const { redis, logger } = deps;
	const workers = await WorkerPool.create({
		count: config.workers,
		listenIp: config.listenIp,
		announcedAddress: config.announcedAddress,
		extraAddresses: config.extraAddresses,
		rtcPort: config.rtcPort,
		workerBin: config.workerBin,
		logger,
	});

	let beatTimer: NodeJS.Timeout | undefined;
	// Load changes are published promptly but at most twice a second.
	const loadChanged = () => {
		beatTimer ??= setTimeout(() => {
			beatTimer = undefined;
			void registry.beat();
		}, 500);
	};
	const redisUp = async (): Promise<boolean> => {
		let timer: NodeJS.Timeout | undefined;
		try {
			return await Promise.race([
				redis.ping().then(() => true),
				new Promise<boolean>((resolve) => {
					timer = setTimeout(resolve, redisProbeTimeoutMs, false);
				}),
			]);
		} catch {
			return false;
		} finally {
			clearTimeout(timer);
		}
	};
	const metrics = new SfuMetrics({ rooms: () => rooms, workers, redisUp });
	const rooms = new RoomRegistry({
		pool: workers,
		store: redis,
		logger,
		onChange: loadChanged,
		lifetimes: { occupiedTtlMs: config.roomOccupiedTtlMs, graceMs: config.roomGraceMs },
		hostHandoverGraceMs: config.hostHandoverGraceMs,
		speakingThresholdDbov: config.speakingThresholdDbov,
		maxRooms: config.maxRooms,
		roomMaxPeers: config.roomMaxPeers,
		requestLimits: config.requestLimits,
		roomPeersPerRouter: config.roomPeersPerRouter,
		metrics,
	});

	// The internal port (never published): the API's signaling proxy, and these for operators and Prometheus.
	const httpServer: Server = createServer((request, response) => {
		if (request.method === "GET" && request.url === "/health") {
			// Serving a call takes Redis (tokens' keys, rooms) and a live worker; 503 says which is missing.
			void redisUp().then((up) => {
				const alive = workers.workers.filter(({ worker }) => !worker.closed).length;
				const ok = up && alive > 0;
				json(response, ok ? 200 : 503, {
					ok,
					node: config.nodeId,
					redis: up ? "up" : "down",
					workers: { alive, total: workers.workers.length },
					rooms: rooms.rooms.size,
					peers: rooms.peerCount,
				});
			});
			return;
		}
		if (request.method === "GET" && request.url === "/stats") {
			// Counts only, no ids: for the operator and the soak benchmark (listens where /health does).
			workers.objectCounts().then(
				(mediasoup) => json(response, 200, { rooms: rooms.rooms.size, peers: rooms.peerCount, mediasoup }),
				() => json(response, 503, { statusCode: 503, error: "Service Unavailable", message: "workers busy" }),
			);
			return;
		}
		if (request.method === "GET" && request.url === "/metrics") {
			metrics.text().then(
				(text) => {
					response.writeHead(200, { "content-type": metrics.contentType, "cache-control": "no-store" });
					response.end(text);
				},
				(error: unknown) => {
					logger.warn({ err: error }, "could not collect metrics");
					json(response, 500, { statusCode: 500, error: "Internal Server Error", message: "metrics failed" });
				},
			);
			return;
		}
		json(response, 404, { statusCode: 404, error: "Not Found", message: "not found" });
	});
	const placement = new RoomPlacement({ store: redis, nodeId: config.nodeId, logger });
	const signaling = new SignalingServer({
		httpServer,
		verifier: new TokenVerifier(redisPublicKeyStore(redis)),
		rooms,
		logger,
		keepalive: { intervalMs: config.keepaliveIntervalMs, graceMs: config.keepaliveGraceMs },
		metrics,
		placement,
	});
	/**
	 * Give up the rooms open here whose record now names another node (this
	 * node's heartbeat went stale and the API placed them elsewhere): drop
	 * their connections as a crash would, so their people reconnect to the
	 * room's node, and close them without departures or writes to Redis.
	 */
	const giveUpMovedRooms = async () => {
		await Promise.all(
			[...rooms.rooms.values()].map(async (room) => {
				const placedOn = await placement.elsewhere(room.id);
				if (placedOn === undefined || room.closed) return;
				logger.warn({ room: room.id, placedOn, peers: room.peers.size }, "room placed on another node; giving it up");
				room.records.relinquish();
				// Sockets first, then the room in the same tick: nobody gets protoo's final close (4000).
				signaling.dropRoom(room.id);
				room.close();
			}),
		);
	};
	await new Promise<void>((resolve, reject) => {
		httpServer.once("error", reject);
		httpServer.listen(config.signalingPort, config.signalingHost, () => resolve());
	});
	const port = (httpServer.address() as AddressInfo).port;
	const signalingUrl =
		config.signalingUrl ?? `ws://${config.signalingHost === "0.0.0.0" ? "127.0.0.1" : config.signalingHost}:${port}`;

	const rtpCapabilities = await probeRouterRtpCapabilities(workers, logger);
	const registry = new NodeRegistry({
		store: redis,
		logger,
		...(rtpCapabilities ? { rtpCapabilities } : {}),
		status: () => ({
			id: config.nodeId,
			signalingUrl,
			...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
			peers: rooms.peerCount,
			rooms: rooms.rooms.size,
			workers: workers.workers.length,
		}),
		// While anyone is in a room, its Redis keys must outlive the next heartbeat
		// (and come back if Redis lost them).
		onHeartbeat: () => {
			void rooms.refreshLifetimes();
			giveUpMovedRooms().catch((error: unknown) => logger.warn({ err: error }, "could not give up moved rooms"));
		},
		intervalMs: config.heartbeatIntervalMs,
	});
	// Listen for the API's orders before announcing the node, so none is missed.
	const commandConnection = redis.duplicate();
	let commands: CommandListener;
	try {
		commands = await CommandListener.start({ connection: commandConnection, nodeId: config.nodeId, rooms, logger });
	} catch (error) {
		try {
			commandConnection.destroy();
		} catch {
			// Never connected: nothing to release.
		}
		signaling.stop();
		workers.close();
		httpServer.close();
		throw error;
	}
	await registry.start();
	// Don't wait for the next heartbeat once Redis is back: knocks need the room record.
	const redisReady = () => void rooms.reassertAll();
	redis.on("ready", redisReady);
	logger.info({ node: config.nodeId, signalingUrl, workers: workers.workers.length }, "sfu ready");

	let closing: Promise<void> | undefined;
	return {
		nodeId: config.nodeId,
		port,
		signalingUrl,
		rooms,
		workers,
		metrics,
		close() {
			closing ??= shutdown();
			return closing;
		},
	};

	async function shutdown(): Promise<void> {
		clearTimeout(beatTimer);
		redis.off("ready", redisReady);
		await commands.close();
		// No new connections, and the open ones end as a crash would end them:
		// no refused, no roomClosed, no close code 4000. Clients treat that as
		// unavailable, keep their credentials and come back once the node
		// (or another one) is up; the rooms' keys get the grace period.
		signaling.stop();
		signaling.dropAll();
		// Close the rooms before the dropped sockets report their close (next
		// tick): peers must not be processed as departures one by one, which
		// would hand the host role over on the way down.
		const roomsClosed = rooms.closeAll();
		await registry.stop(config.nodeId);
		await roomsClosed;
		workers.close();
		httpServer.closeAllConnections();
		await new Promise<void>((resolve) => httpServer.close(() => resolve()));
	}
}
