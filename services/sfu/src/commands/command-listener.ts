/**
 * Orders from the API for this node (admin kick, admin close). They arrive on
 * the node's Redis stream (sfuCommandKeys.stream), read in a consumer group:
 * an order given while this node's connection is down stays in the stream and
 * is read when the connection is back, and one read but not yet acknowledged
 * (the connection dropped mid-way) is read again from the group's pending list.
 * Each outcome is written for the API, which waits for it, in the same script
 * that acknowledges the entry.
 *
 * The reads block, so this uses its own duplicate of the main client; node-redis
 * reconnects it by itself, and the loop here simply tries again.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
	SfuCommand,
	type SfuCommandOutcome,
	sfuCommandGroup,
	sfuCommandKeys,
	sfuCommandMaxAgeMs,
	sfuCommandOutcomeTtlSeconds,
} from "@mindmeet/protocol";
import { parseRecord } from "@mindmeet/protocol/records";
import type { Logger } from "pino";
import type { RoomRegistry } from "../rooms/room-registry.ts";

/** What the listener needs of its connection; a node-redis client satisfies it. */
export interface CommandConnection {
	on(event: "error", listener: (error: Error) => void): unknown;
	connect(): Promise<unknown>;
	sendCommand(args: string[]): Promise<unknown>;
	destroy(): void;
}

/** One order as read from the stream. */
export interface QueuedCommand {
	/** The stream entry id (what is acknowledged). */
	entryId: string;
	/** The API's id for the order (where the outcome goes); undefined when the entry is unusable. */
	id: string | undefined;
	command: SfuCommand | undefined;
	/** Epoch ms the API queued it. */
	at: number;
}

/** Parse a command without trusting it: anything off-contract is undefined. */
export function parseSfuCommand(message: string): SfuCommand | undefined {
	const command = parseRecord(SfuCommand, message);
	if (!command) return undefined;
	// Rebuilt from the known fields: commands are logged, and nothing else stored alongside may reach the log.
	const { roomId } = command;
	return command.type === "kick" ? { type: "kick", roomId, peerId: command.peerId } : { type: "close-room", roomId };
}

const commandIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Entries of an XREADGROUP reply: RESP2 [[stream, [[entryId, [field, value, …]], …]]], RESP3 a map
 * stream → entries (an object or a Map, depending on the client's type mapping), or null.
 * Anything off-shape is skipped; an entry without usable fields comes back with id/command undefined.
 */
export function parseStreamReply(reply: unknown): QueuedCommand[] {
	let streams: unknown[] = [];
	if (Array.isArray(reply)) streams = reply.map((stream) => (Array.isArray(stream) ? stream[1] : undefined));
	else if (reply instanceof Map) streams = [...reply.values()];
	else if (typeof reply === "object" && reply !== null) streams = Object.values(reply);
	const out: QueuedCommand[] = [];
	for (const entries of streams) {
		if (!Array.isArray(entries)) continue;
		for (const entry of entries as unknown[]) {
			if (!Array.isArray(entry) || typeof entry[0] !== "string") continue;
			const fields = new Map<string, string>();
			// A deleted-but-pending entry comes back with null fields.
			if (Array.isArray(entry[1])) {
				const list = entry[1] as unknown[];
				for (let i = 0; i + 1 < list.length; i += 2) {
					const [name, value] = [list[i], list[i + 1]];
					if (typeof name === "string" && typeof value === "string") fields.set(name, value);
				}
			}
			const id = fields.get("id");
			const command = fields.get("command");
			const at = Number(fields.get("at"));
			out.push({
				entryId: entry[0],
				id: id !== undefined && commandIdPattern.test(id) ? id : undefined,
				command: command === undefined ? undefined : parseSfuCommand(command),
				at: Number.isFinite(at) ? at : 0,
			});
		}
	}
	return out;
}

/**
 * Record the outcome (first one wins: an order handled twice after a lost
 * acknowledgement keeps its first answer) and acknowledge the entry.
 * KEYS: stream, outcome key (or the stream again when there is none). ARGV: group, entry id, outcome, TTL s, has outcome.
 */
const ackScript = `
if ARGV[5] == '1' then redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4], 'NX') end
return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
`;

/** Remembered outcomes of recently handled orders, for an entry read again after a lost acknowledgement. */
const rememberedOutcomes = 256;

export class CommandListener {
	readonly #connection: CommandConnection;
	readonly #rooms: RoomRegistry;
	readonly #logger: Logger;
	readonly #stream: string;
	readonly #consumer: string;
	readonly #handled = new Map<string, SfuCommandOutcome>();
	#closed = false;
	#loop: Promise<void> = Promise.resolve();

	private constructor(connection: CommandConnection, nodeId: string, rooms: RoomRegistry, logger: Logger) {
		this.#connection = connection;
		this.#rooms = rooms;
		this.#logger = logger;
		this.#stream = sfuCommandKeys.stream(nodeId);
		this.#consumer = nodeId;
	}

	static async start(options: {
		connection: CommandConnection;
		nodeId: string;
		rooms: RoomRegistry;
		logger: Logger;
	}): Promise<CommandListener> {
		const { connection, nodeId, rooms } = options;
		const logger = options.logger.child({ component: "commands" });
		const listener = new CommandListener(connection, nodeId, rooms, logger);
		// Without a listener an error event would crash the process; reconnection is node-redis's job.
		connection.on("error", (error) => logger.warn({ err: error.message }, "command connection: redis error"));
		await connection.connect();
		// The group exists before the node announces itself: nothing queued from then on is missed.
		await listener.#ensureGroup();
		listener.#loop = listener.#run();
		return listener;
	}

	/** Stop reading; resolves once the loop has ended. */
	async close(): Promise<void> {
		this.#closed = true;
		try {
			this.#connection.destroy();
		} catch {
			// Already closed (or never connected): nothing to release.
		}
		await this.#loop;
	}

	async #ensureGroup(): Promise<void> {
		try {
			// From the stream's start: after Redis lost everything, orders queued since then are all new.
			await this.#connection.sendCommand(["XGROUP", "CREATE", this.#stream, sfuCommandGroup, "0", "MKSTREAM"]);
		} catch (error) {
			if (!(error instanceof Error && error.message.startsWith("BUSYGROUP"))) throw error;
		}
		await this.#connection.sendCommand(["CLIENT", "SETNAME", `mm-sfu-commands-${this.#consumer}`]);
	}

	async #run(): Promise<void> {
		// After every (re)connection, first what this consumer was given but never acknowledged.
		let backlog = true;
		let needsGroup = false;
		while (!this.#closed) {
			try {
				if (needsGroup) {
					await this.#ensureGroup();
					needsGroup = false;
				}
				const reply = await this.#connection.sendCommand([
					"XREADGROUP",
					"GROUP",
					sfuCommandGroup,
					this.#consumer,
					"COUNT",
					"32",
					...(backlog ? [] : ["BLOCK", "5000"]),
					"STREAMS",
					this.#stream,
					backlog ? "0" : ">",
				]);
				const entries = parseStreamReply(reply);
				if (backlog && entries.length === 0) backlog = false;
				for (const entry of entries) await this.#handle(entry);
			} catch (error) {
				if (this.#closed) return;
				// NOGROUP: Redis came back without the stream (no persistence); anything else: the connection.
				needsGroup = true;
				backlog = true;
				this.#logger.debug({ err: error instanceof Error ? error.message : String(error) }, "command read failed");
				await sleep(200);
			}
		}
	}

	async #handle(entry: QueuedCommand): Promise<void> {
		let outcome: SfuCommandOutcome | undefined;
		if (!entry.id || !entry.command) {
			this.#logger.warn({ entryId: entry.entryId }, "ignoring a malformed command");
		} else {
			outcome = this.#handled.get(entry.id);
			if (outcome === undefined) {
				outcome = await this.#carryOut(entry.command, entry.at);
				this.#handled.set(entry.id, outcome);
				if (this.#handled.size > rememberedOutcomes) {
					const oldest = this.#handled.keys().next().value;
					if (oldest !== undefined) this.#handled.delete(oldest);
				}
			}
		}
		const outcomeKey = entry.id ? sfuCommandKeys.outcome(entry.id) : this.#stream;
		await this.#connection.sendCommand([
			"EVAL",
			ackScript,
			"2",
			this.#stream,
			outcomeKey,
			sfuCommandGroup,
			entry.entryId,
			outcome ?? "",
			String(sfuCommandOutcomeTtlSeconds),
			outcome && entry.id ? "1" : "0",
		]);
	}

	async #carryOut(command: SfuCommand, at: number): Promise<SfuCommandOutcome> {
		if (Date.now() - at > sfuCommandMaxAgeMs) {
			this.#logger.info({ command }, "command too old when read; dropped");
			return "expired";
		}
		// Only rooms open here: a room this node does not hold has nobody to act on.
		const room = this.#rooms.rooms.get(command.roomId);
		if (!room || room.closed) {
			this.#logger.info({ command }, "command for a room not open here; ignored");
			return "not-found";
		}
		try {
			switch (command.type) {
				case "kick":
					if (!(await room.kick(command.peerId))) {
						this.#logger.info({ command }, "kick for an absent peer; ignored");
						return "not-found";
					}
					this.#logger.info({ command }, "peer kicked by an operator");
					return "kicked";
				case "close-room":
					await room.closeByOperator();
					return "closed";
			}
		} catch (error) {
			this.#logger.error({ err: error, command }, "command failed");
			return "failed";
		}
	}
}
