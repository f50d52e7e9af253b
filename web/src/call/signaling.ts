/**
 * The signaling connection to the SFU: one protoo Peer per attempt, one
 * explicit ConnectionState, retries driven by the shared back-off policy
 * (protoo's own retries are off), and a liveness check: a network cut leaves
 * TCP silently open, so a request without an answer within requestTimeoutMs
 * (the pings make sure there is always one) ends the attempt.
 */
import type { ClientRequestMethod, ClientRequests, ServerRequestMethod } from "@mindmeet/protocol";
import { type ConnectionEvent, type ConnectionState, isTerminal, nextConnectionState } from "./connection-state.ts";
import { callBackoff, RetryStreak } from "./reconnect-policy.ts";

/**
 * What the connection needs of a protoo Peer; an interface so that tests can
 * stand in for the socket (see protoo-peer.ts for the real one).
 */
export interface SignalingPeer {
	request(method: string, data?: unknown): Promise<unknown>;
	close(): void;
	/** 'disconnected': an open socket dropped; 'failed': it never opened; 'close': any other end. */
	on(event: "open" | "disconnected" | "failed" | "close", listener: () => void): void;
	on(event: "notification", listener: (notification: { method: string; data?: unknown }) => void): void;
	on(
		event: "request",
		listener: (
			request: { method: string; data?: unknown },
			accept: (data: unknown) => void,
			reject: (code: number, reason: string) => void,
		) => void,
	): void;
}

export type SignalingRequest = <M extends ClientRequestMethod>(
	method: M,
	data: ClientRequests[M]["request"],
) => Promise<ClientRequests[M]["response"]>;

/** While connected, a ping this often keeps something in flight, so a dead socket is noticed. */
export const pingIntervalMs = 2_500;
/** No answer to a request (any answer, even an error) within this long: the connection is dead. */
export const requestTimeoutMs = 5_000;
/** An attempt that has not opened within this long is given up and the next one scheduled. */
export const openTimeoutMs = 4_000;

/** Thrown for requests of an attempt that is over; never worth reporting. */
export class ConnectionLost extends Error {
	constructor() {
		super("connection lost");
		this.name = "ConnectionLost";
	}
}

export interface SignalingEvents {
	/** The URL for the next attempt (built with the newest token). */
	url: () => string;
	/** Open one attempt, without retries of its own: this connection's policy decides when to try again. */
	openPeer: (url: string) => SignalingPeer;
	/** The jitter's random numbers (tests fix them). */
	random?: () => number;
	/** Attempt number `attempt` opened: join over it. */
	onOpen: (attempt: number) => void;
	/** The current attempt is over (closed, failed, silent); its media is void. Called before the next one. */
	onLost: () => void;
	onStateChange: (state: ConnectionState) => void;
	onNotification: (method: string, data: unknown) => void;
	/** A request from the SFU; resolve with the response data, reject to refuse it. */
	onRequest: (method: ServerRequestMethod | string, data: unknown) => Promise<unknown>;
}

export class SignalingConnection {
	readonly #events: SignalingEvents;
	readonly #streak: RetryStreak;
	#state: ConnectionState = "connecting";
	#peer: SignalingPeer | undefined;
	#open = false;
	#attempt = 0;
	#retryTimer: ReturnType<typeof setTimeout> | undefined;
	#openTimer: ReturnType<typeof setTimeout> | undefined;
	#pingTimer: ReturnType<typeof setInterval> | undefined;

	constructor(events: SignalingEvents) {
		this.#events = events;
		this.#streak = new RetryStreak(callBackoff, events.random);
	}

	get state(): ConnectionState {
		return this.#state;
	}

	/** Number of the current attempt; a join sequence of an older one stops at its next step. */
	get attempt(): number {
		return this.#attempt;
	}

	/** Whether requests can be sent now. */
	get open(): boolean {
		return this.#open && !isTerminal(this.#state);
	}

	start(): void {
		if (this.#attempt > 0) throw new Error("a signaling connection starts once");
		this.#connect();
	}

	/** Send a request on the current attempt; no answer in time ends the attempt. */
	readonly request: SignalingRequest = (method, data) => {
		const peer = this.#peer;
		if (!peer || !this.open) return Promise.reject(new ConnectionLost());
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				reject(new ConnectionLost());
				if (this.#peer === peer) this.#lost();
			}, requestTimeoutMs);
			peer.request(method, data).then(
				(response) => {
					clearTimeout(timer);
					resolve(response as ClientRequests[typeof method]["response"]);
				},
				(error: unknown) => {
					clearTimeout(timer);
					reject(this.#peer === peer ? error : new ConnectionLost());
				},
			);
		});
	};

	/** The join sequence completed on the current attempt: the call is (back) on; failures start a new streak. */
	joined(): void {
		this.#streak.succeeded();
		this.#transition("joined");
		this.#startPings();
	}

	/** Something outside the socket showed the connection dead (media stopped): start over on a fresh one. */
	drop(): void {
		if (!isTerminal(this.#state)) this.#lost();
	}

	/** Stop trying: retrying cannot help (media never got through). */
	giveUp(): void {
		this.#close();
		this.#transition("gave-up");
	}

	/** A final end: refused, kicked, room closed, or the person left. */
	end(event: Extract<ConnectionEvent, "refused" | "kicked" | "room-closed" | "left">): void {
		this.#close();
		this.#transition(event);
	}

	#transition(event: ConnectionEvent): void {
		const next = nextConnectionState(this.#state, event);
		if (next === this.#state) return;
		this.#state = next;
		this.#events.onStateChange(next);
	}

	#connect(): void {
		const attempt = ++this.#attempt;
		const peer = this.#events.openPeer(this.#events.url());
		this.#peer = peer;
		this.#open = false;
		const current = () => this.#peer === peer && !isTerminal(this.#state);
		this.#openTimer = setTimeout(() => {
			if (current() && !this.#open) this.#lost();
		}, openTimeoutMs);

		peer.on("open", () => {
			if (!current()) return;
			clearTimeout(this.#openTimer);
			this.#open = true;
			this.#events.onOpen(attempt);
		});
		// 'disconnected' (an open socket dropped), 'failed' (it never opened), 'close' (any other end,
		// also code 4000): without a refusal before it, every one of them is "unavailable".
		const lost = () => {
			if (current()) this.#lost();
		};
		peer.on("disconnected", lost);
		peer.on("failed", lost);
		peer.on("close", lost);
		peer.on("notification", (notification) => {
			if (current()) this.#events.onNotification(notification.method, notification.data);
		});
		peer.on("request", (request, accept, reject) => {
			if (!current()) {
				reject(503, "connection replaced");
				return;
			}
			// @types/protoo-client types accept() as taking a protoo response; it takes the response data.
			const respond = accept as unknown as (data: unknown) => void;
			this.#events
				.onRequest(request.method, request.data)
				.then(respond, (error: unknown) => reject(500, error instanceof Error ? error.message : String(error)));
		});
	}

	/** The current attempt is over without a refusal: tell, then retry under the policy or give up. */
	#lost(): void {
		this.#close();
		this.#transition("lost");
		this.#events.onLost();
		if (isTerminal(this.#state)) return;
		const delay = this.#streak.failed(Date.now());
		if (delay === null) {
			this.#transition("gave-up");
			return;
		}
		this.#retryTimer = setTimeout(() => {
			if (!isTerminal(this.#state)) this.#connect();
		}, delay);
	}

	#startPings(): void {
		clearInterval(this.#pingTimer);
		const peer = this.#peer;
		this.#pingTimer = setInterval(() => {
			if (this.#peer !== peer || !this.open) {
				clearInterval(this.#pingTimer);
				return;
			}
			// Any answer means alive, even an error (an SFU from before `ping` says "unknown method");
			// silence is caught by request() itself.
			this.request("ping", {}).catch(() => {});
		}, pingIntervalMs);
	}

	/** Forget the current attempt first, so its own 'close' is not taken for a new loss. */
	#close(): void {
		clearTimeout(this.#retryTimer);
		clearTimeout(this.#openTimer);
		clearInterval(this.#pingTimer);
		const peer = this.#peer;
		this.#peer = undefined;
		this.#open = false;
		peer?.close();
	}
}
