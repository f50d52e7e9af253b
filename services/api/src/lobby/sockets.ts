/**
 * The two lobby WebSockets. Both follow one order so no event is lost and
 * none is shown twice: authorise, subscribe to the channel (events that
 * arrive from then on are held), read the current state from Redis and send
 * it, then release the held events, skipping what the state already covered.
 */
import {
	type KnockInfo,
	LobbyGuestEvent,
	LobbyHostEvent,
	lobbyCloseCodes,
	redisChannels,
	type TokenClaims,
} from "@mindmeet/protocol";
import { parseRecord } from "@mindmeet/protocol/records";
import type { FastifyBaseLogger } from "fastify";
import WebSocket from "ws";
import type { EventHub } from "../event-hub.ts";
import { HttpError } from "../http-errors.ts";
import { describeError, isStorageUnavailable } from "../redis.ts";
import { closeCodeFor, type RoomAuthorizer } from "../room-auth.ts";
import { type KnockRecord, type KnockStore, secretMatches } from "./knocks.ts";

export interface LobbySocketDeps {
	store: KnockStore;
	hub: EventHub;
	auth: RoomAuthorizer;
	/** True once the server has begun shutting down: sockets it closes are not guests leaving. */
	isShuttingDown: () => boolean;
}

/** Close code for a failure while setting a socket up: Redis away → try again later (1013), anything else 1011. */
function failureClose(error: unknown): { code: number; reason: string } {
	if (error instanceof HttpError) return { code: closeCodeFor(error.statusCode), reason: error.message };
	if (isStorageUnavailable(error)) return { code: 1013, reason: "storage unavailable, try again shortly" };
	return { code: 1011, reason: "unexpected error" };
}

/** Shared lifecycle: a socket that is closed once, releases its subscription and timers, and holds early events. */
class Session {
	protected readonly socket: WebSocket;
	protected readonly log: FastifyBaseLogger;
	protected finished = false;
	#stop: (() => void) | undefined;
	readonly #timers = new Map<string, NodeJS.Timeout>();
	#held: string[] | undefined = [];

	constructor(socket: WebSocket, log: FastifyBaseLogger) {
		this.socket = socket;
		this.log = log;
	}

	/** Subscribe; events are held until `release()`. False when the socket closed meanwhile. */
	protected async subscribe(hub: EventHub, channel: string): Promise<boolean> {
		const stop = await hub.listen(channel, (message) => {
			if (this.finished) return;
			if (this.#held) this.#held.push(message);
			else this.deliver(message);
		});
		if (this.finished) {
			stop();
			return false;
		}
		this.#stop = stop;
		return true;
	}

	protected release(): void {
		const held = this.#held ?? [];
		this.#held = undefined;
		for (const message of held) if (!this.finished) this.deliver(message);
	}

	protected deliver(_message: string): void {}

	protected send(event: LobbyGuestEvent | LobbyHostEvent, onSent?: () => void): void {
		if (this.socket.readyState !== WebSocket.OPEN) return;
		this.socket.send(JSON.stringify(event), (error) => {
			if (!error) onSent?.();
		});
	}

	protected setTimer(key: string, at: number, run: () => void): void {
		this.clearTimer(key);
		const timer = setTimeout(
			() => {
				this.#timers.delete(key);
				if (!this.finished) run();
			},
			Math.max(0, at - Date.now()),
		);
		this.#timers.set(key, timer);
	}

	protected clearTimer(key: string): void {
		clearTimeout(this.#timers.get(key));
		this.#timers.delete(key);
	}

	/** Close (once) after whatever was sent before; frames go out in order. */
	protected finish(code: number, reason: string): void {
		if (this.finished) return;
		this.cleanup();
		if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
			this.socket.close(code, reason);
		}
	}

	protected fail(error: unknown, what: string): void {
		const { code, reason } = failureClose(error);
		if (code >= 4000) this.log.info({ code, reason }, `${what} refused`);
		else this.log.warn({ error: describeError(error) }, `${what} failed`);
		this.finish(code, reason);
	}

	protected cleanup(): void {
		this.finished = true;
		this.#held = undefined;
		this.#stop?.();
		this.#stop = undefined;
		for (const timer of this.#timers.values()) clearTimeout(timer);
		this.#timers.clear();
	}
}

/**
 * `GET /api/rooms/:roomId/knocks/:knockId/wait?secret=…`: the knocking guest
 * waits here for the host's answer. Closing it while the knock is pending
 * withdraws the knock (the guest closed the tab).
 */
export class GuestWaitSession extends Session {
	readonly #deps: LobbySocketDeps;
	readonly #roomId: string;
	readonly #knockId: string;
	/** Set once the secret matched: only then may closing the socket withdraw the knock. */
	#owner = false;
	/** Set once a final answer went out: closing after that withdraws nothing. */
	#answered = false;

	constructor(socket: WebSocket, log: FastifyBaseLogger, deps: LobbySocketDeps, roomId: string, knockId: string) {
		super(socket, log);
		this.#deps = deps;
		this.#roomId = roomId;
		this.#knockId = knockId;
		socket.on("close", () => this.#closed());
	}

	async start(secret: string | undefined): Promise<void> {
		try {
			const { store, hub } = this.#deps;
			if (!secret) return this.finish(lobbyCloseCodes.unauthorized, "knock secret required");
			const found = await store.read(this.#roomId, this.#knockId);
			if (!found) return this.finish(lobbyCloseCodes.notFound, "unknown knock");
			if (!secretMatches(found.knock, secret)) return this.finish(lobbyCloseCodes.unauthorized, "wrong knock secret");
			if (this.finished) return;
			this.#owner = true;
			if (!(await this.subscribe(hub, redisChannels.knock(this.#knockId)))) return;
			// Read again: the answer may have come between the first read and the subscription.
			const current = await store.read(this.#roomId, this.#knockId);
			if (!current) return this.finish(lobbyCloseCodes.notFound, "unknown knock");
			this.#sendState(current.knock);
			this.release();
		} catch (error) {
			this.fail(error, "knock wait");
		}
	}

	#sendState(knock: KnockRecord): void {
		switch (knock.status) {
			case "pending":
				this.send({ type: "waiting", expiresAt: knock.expiresAt });
				this.setTimer("expiry", knock.expiresAt, () => void this.#expire());
				return;
			case "admitted":
				if (knock.admittedToken && knock.admittedPeerId) {
					this.#answer({ type: "admitted", token: knock.admittedToken, peerId: knock.admittedPeerId });
				} else {
					// Delivered once already; the token is not kept after that.
					this.finish(lobbyCloseCodes.notFound, "knock already answered");
				}
				return;
			case "denied":
			case "expired":
				this.#answer({ type: knock.status });
				return;
			case "cancelled":
				this.finish(lobbyCloseCodes.notFound, "knock was cancelled");
				return;
		}
	}

	protected override deliver(message: string): void {
		// An event off the contract is dropped, as if it had not come.
		const event = parseRecord(LobbyGuestEvent, message);
		if (!event || event.type === "waiting") return;
		this.#answer(event);
	}

	/** Send a final answer, then close normally. Only the first one counts. */
	#answer(event: Exclude<LobbyGuestEvent, { type: "waiting" }>): void {
		if (this.finished || this.#answered) return;
		this.#answered = true;
		if (event.type === "admitted") {
			const { token } = event;
			this.send(event, () => {
				this.#deps.store.forgetToken(this.#roomId, this.#knockId, token).catch((error: unknown) => {
					this.log.warn({ error: describeError(error) }, "could not drop a delivered guest token");
				});
			});
		} else {
			this.send(event);
		}
		this.log.info({ answer: event.type }, "knock answer delivered");
		this.finish(lobbyCloseCodes.done, event.type);
	}

	/** The knock's time is up: expire it (once, whoever gets there first) and tell the guest. */
	async #expire(): Promise<void> {
		try {
			const outcome = await this.#deps.store.settle(this.#roomId, this.#knockId, "expired");
			if (outcome.result === "conflict") {
				// Answered at the last moment (its event may still be on its way) or cancelled over HTTP.
				const { knock } = outcome;
				if (knock.status === "cancelled") this.finish(lobbyCloseCodes.notFound, "knock was cancelled");
				else this.#sendState(knock);
			} else {
				this.#answer({ type: "expired" });
			}
		} catch (error) {
			this.fail(error, "knock expiry");
		}
	}

	#closed(): void {
		const withdraw = this.#owner && !this.#answered && !this.#deps.isShuttingDown();
		this.cleanup();
		if (!withdraw) return;
		this.#deps.store
			.settle(this.#roomId, this.#knockId, "cancelled")
			.then((outcome) => {
				if (outcome.result === "settled") this.log.info("knock withdrawn: the guest left");
			})
			.catch((error: unknown) => {
				this.log.warn({ error: describeError(error) }, "could not withdraw a knock");
			});
	}
}

/**
 * `GET /api/rooms/:roomId/lobby?token=<host token>`: the host's queue. Only
 * the room's current host may hold one; when the role moves, the socket says
 * so and closes. It also expires the knocks it shows when their time is up,
 * so a guest who never opened its waiting socket still leaves the queue.
 */
export class HostLobbySession extends Session {
	readonly #deps: LobbySocketDeps;
	readonly #roomId: string;
	#host: TokenClaims | undefined;
	/** Knocks the host has been shown and not yet told the end of. */
	readonly #shown = new Set<string>();

	constructor(socket: WebSocket, log: FastifyBaseLogger, deps: LobbySocketDeps, roomId: string) {
		super(socket, log);
		this.#deps = deps;
		this.#roomId = roomId;
		socket.on("close", () => this.cleanup());
	}

	async start(token: string | undefined): Promise<void> {
		try {
			const { auth, store, hub } = this.#deps;
			this.#host = await auth.host(this.#roomId, token);
			if (this.finished) return;
			if (!(await this.subscribe(hub, redisChannels.lobby(this.#roomId)))) return;
			const knocks = await store.pending(this.#roomId);
			if (this.finished) return;
			for (const knock of knocks) this.#track(knock);
			this.send({ type: "knocks", knocks });
			this.release();
		} catch (error) {
			this.fail(error, "host lobby");
		}
	}

	#track(knock: KnockInfo): void {
		this.#shown.add(knock.id);
		this.setTimer(knock.id, knock.expiresAt, () => {
			this.#deps.store.settle(this.#roomId, knock.id, "expired").catch((error: unknown) => {
				this.log.warn({ error: describeError(error) }, "could not expire a knock");
			});
		});
	}

	protected override deliver(message: string): void {
		const event = parseRecord(LobbyHostEvent, message);
		if (!event) return;
		switch (event.type) {
			case "knock":
				// Already in the snapshot when it was published between subscribing and reading.
				if (this.#shown.has(event.knock.id)) return;
				this.#track(event.knock);
				this.send(event);
				return;
			case "knock-ended":
				// Ended before the snapshot was read: the host never saw it.
				if (!this.#shown.delete(event.knockId)) return;
				this.clearTimer(event.knockId);
				this.send(event);
				return;
			case "host-changed":
				this.send(event);
				if (event.peerId !== this.#host?.sub) this.finish(lobbyCloseCodes.forbidden, "host role moved");
				return;
			case "room-closed":
				this.send(event);
				this.finish(lobbyCloseCodes.done, "room closed");
				return;
			case "knocks":
				return;
		}
	}
}
