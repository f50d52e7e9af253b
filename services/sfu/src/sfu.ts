/**
 * The SFU process: workers, rooms, the protoo endpoint and the node's
 * heartbeat in Redis, wired together. Dependencies come in; nothing global.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { redisPublicKeyStore, TokenVerifier } from "@mindmeet/protocol/token-keys";
import type { Logger } from "pino";
import { CommandListener, type CommandSubscriber } from "./commands/command-listener.ts";
import type { SfuConfig } from "./config.ts";
import { NodeRegistry, type NodeRegistryStore } from "./registry/node-registry.ts";
import { RoomRegistry, type RoomStore } from "./rooms/room-registry.ts";
import { SignalingServer } from "./signaling/signaling-server.ts";
import { WorkerPool } from "./workers/worker-pool.ts";

/** The Redis commands the SFU uses; a node-redis client satisfies it. */
export type SfuRedis = RoomStore &
	NodeRegistryStore & {
		set(key: string, value: string, options: { EX: number } | { expiration: "KEEPTTL" }): Promise<unknown>;
		/** A second connection with the same options, for the command subscription. */
		duplicate(): CommandSubscriber;
	};

export interface Sfu {
	readonly nodeId: string;
	readonly port: number;
	readonly signalingUrl: string;
	readonly rooms: RoomRegistry;
	readonly workers: WorkerPool;
	close(): Promise<void>;
}

export async function startSfu(config: SfuConfig, deps: { redis: SfuRedis; logger: Logger }): Promise<Sfu> {
	const { redis, logger } = deps;
	const workers = await WorkerPool.create({
		count: config.workers,
		listenIp: config.listenIp,
		announcedAddress: config.announcedAddress,
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
	const rooms = new RoomRegistry({
		pool: workers,
		store: redis,
		logger,
		onChange: loadChanged,
		lifetimes: { occupiedTtlMs: config.roomOccupiedTtlMs, graceMs: config.roomGraceMs },
		hostHandoverGraceMs: config.hostHandoverGraceMs,
		speakingThresholdDbov: config.speakingThresholdDbov,
	});

	const httpServer: Server = createServer((request, response) => {
		if (request.method === "GET" && request.url === "/health") {
			response.writeHead(200, { "content-type": "application/json" });
			response.end(JSON.stringify({ ok: true, node: config.nodeId, rooms: rooms.rooms.size, peers: rooms.peerCount }));
			return;
		}
		response.writeHead(404, { "content-type": "application/json" });
		response.end(JSON.stringify({ statusCode: 404, error: "Not Found", message: "not found" }));
	});
	const signaling = new SignalingServer({
		httpServer,
		verifier: new TokenVerifier(redisPublicKeyStore(redis)),
		rooms,
		logger,
	});
	await new Promise<void>((resolve, reject) => {
		httpServer.once("error", reject);
		httpServer.listen(config.signalingPort, config.signalingHost, () => resolve());
	});
	const port = (httpServer.address() as AddressInfo).port;
	const signalingUrl =
		config.signalingUrl ?? `ws://${config.signalingHost === "0.0.0.0" ? "127.0.0.1" : config.signalingHost}:${port}`;

	const registry = new NodeRegistry({
		store: redis,
		logger,
		status: () => ({
			id: config.nodeId,
			signalingUrl,
			...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
			peers: rooms.peerCount,
			rooms: rooms.rooms.size,
			workers: workers.workers.length,
		}),
		// While anyone is in a room, its Redis keys must outlive the next heartbeat.
		onHeartbeat: () => void rooms.refreshLifetimes(),
	});
	// Listen for the API's orders before announcing the node, so none is missed.
	const subscriber = redis.duplicate();
	let commands: CommandListener;
	try {
		commands = await CommandListener.start({ subscriber, nodeId: config.nodeId, rooms, logger });
	} catch (error) {
		try {
			subscriber.destroy();
		} catch {
			// Never connected: nothing to release.
		}
		signaling.stop();
		workers.close();
		httpServer.close();
		throw error;
	}
	await registry.start();
	logger.info({ node: config.nodeId, signalingUrl, workers: workers.workers.length }, "sfu ready");

	return {
		nodeId: config.nodeId,
		port,
		signalingUrl,
		rooms,
		workers,
		async close() {
			clearTimeout(beatTimer);
			commands.close();
			await registry.stop(config.nodeId);
			signaling.stop();
			await rooms.closeAll();
			workers.close();
			httpServer.closeAllConnections();
			await new Promise<void>((resolve) => httpServer.close(() => resolve()));
		},
	};
}
