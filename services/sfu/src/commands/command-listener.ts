/**
 * Orders from the API for this node (admin kick, admin close), received on
 * the node's Redis pub/sub channel. A subscribed Redis connection can do
 * nothing else, so this uses its own duplicate of the main client; node-redis
 * reconnects it and restores the subscription by itself after Redis restarts.
 */
import { redisChannels, type SfuCommand } from "@mindmeet/protocol";
import type { Logger } from "pino";
import type { RoomRegistry } from "../rooms/room-registry.ts";

/** What the listener needs of its connection; a node-redis client satisfies it. */
export interface CommandSubscriber {
	on(event: "error", listener: (error: Error) => void): unknown;
	connect(): Promise<unknown>;
	subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
	destroy(): void;
}

/** Parse a command without trusting it: anything off-contract is undefined. */
export function parseSfuCommand(message: string): SfuCommand | undefined {
	let value: unknown;
	try {
		value = JSON.parse(message);
	} catch {
		return undefined;
	}
	if (typeof value !== "object" || value === null) return undefined;
	const { type, roomId, peerId } = value as Record<string, unknown>;
	if (typeof roomId !== "string" || roomId.length === 0 || roomId.length > 64) return undefined;
	if (type === "close-room") return { type, roomId };
	if (type === "kick" && typeof peerId === "string" && peerId.length > 0 && peerId.length <= 64) {
		return { type, roomId, peerId };
	}
	return undefined;
}

export class CommandListener {
	readonly #subscriber: CommandSubscriber;
	readonly #rooms: RoomRegistry;
	readonly #logger: Logger;

	private constructor(subscriber: CommandSubscriber, rooms: RoomRegistry, logger: Logger) {
		this.#subscriber = subscriber;
		this.#rooms = rooms;
		this.#logger = logger;
	}

	static async start(options: {
		subscriber: CommandSubscriber;
		nodeId: string;
		rooms: RoomRegistry;
		logger: Logger;
	}): Promise<CommandListener> {
		const { subscriber, nodeId, rooms } = options;
		const logger = options.logger.child({ component: "commands" });
		const listener = new CommandListener(subscriber, rooms, logger);
		// Without a listener an error event would crash the process; reconnection is node-redis's job.
		subscriber.on("error", (error) => logger.warn({ err: error.message }, "command subscriber: redis error"));
		await subscriber.connect();
		await subscriber.subscribe(redisChannels.sfuNode(nodeId), (message) => listener.#receive(message));
		return listener;
	}

	close(): void {
		try {
			this.#subscriber.destroy();
		} catch {
			// Already closed (or never connected): nothing to release.
		}
	}

	#receive(message: string): void {
		const command = parseSfuCommand(message);
		if (!command) {
			this.#logger.warn({ message: message.slice(0, 200) }, "ignoring a malformed command");
			return;
		}
		this.#run(command).catch((error: unknown) => this.#logger.error({ err: error, command }, "command failed"));
	}

	async #run(command: SfuCommand): Promise<void> {
		// Only rooms open here: a room this node does not hold has nobody to act on.
		const room = this.#rooms.rooms.get(command.roomId);
		if (!room || room.closed) {
			this.#logger.info({ command }, "command for a room not open here; ignored");
			return;
		}
		switch (command.type) {
			case "kick":
				if (!(await room.kick(command.peerId))) this.#logger.info({ command }, "kick for an absent peer; ignored");
				else this.#logger.info({ command }, "peer kicked by an operator");
				return;
			case "close-room":
				await room.closeByOperator();
				return;
		}
	}
}
