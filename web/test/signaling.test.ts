/**
 * The signaling connection's state machine, driven through a stand-in for the
 * socket (a protoo Peer needs a server; what is tested here is what the
 * connection does with the peer's events) and node's mocked clock.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";
import type { ConnectionState } from "../src/call/connection-state.ts";
import {
	ConnectionLost,
	openTimeoutMs,
	pingIntervalMs,
	requestTimeoutMs,
	SignalingConnection,
	type SignalingPeer,
} from "../src/call/signaling.ts";

type Listener = (...args: never[]) => void;

class FakePeer implements SignalingPeer {
	readonly url: string;
	closed = false;
	readonly requests: { method: string; resolve: (data: unknown) => void; reject: (error: Error) => void }[] = [];
	readonly #listeners = new Map<string, Listener[]>();

	constructor(url: string) {
		this.url = url;
	}

	on(event: string, listener: Listener): void {
		this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
	}

	emit(event: string, ...args: unknown[]): void {
		for (const listener of this.#listeners.get(event) ?? []) (listener as (...values: unknown[]) => void)(...args);
	}

	request(method: string): Promise<unknown> {
		if (this.closed) return Promise.reject(new Error("peer closed"));
		return new Promise((resolve, reject) => this.requests.push({ method, resolve, reject }));
	}

	/** Like protoo: closing emits 'close' at once, which the connection must not take for a new loss. */
	close(): void {
		if (this.closed) return;
		this.closed = true;
		this.emit("close");
	}

	/** Answer every request asked so far with an error, as an SFU that does not know the method does. */
	answerAllWithErrors(): void {
		for (const request of this.requests.splice(0)) request.reject(new Error("unknown-method: unknown method"));
	}
}

function setup() {
	const peers: FakePeer[] = [];
	const states: ConnectionState[] = [];
	const opened: number[] = [];
	let lost = 0;
	let token = "t1";
	const connection = new SignalingConnection({
		url: () => `ws://sfu/?token=${token}`,
		openPeer: (url) => {
			const peer = new FakePeer(url);
			peers.push(peer);
			return peer;
		},
		random: () => 0.5,
		onOpen: (attempt) => opened.push(attempt),
		onLost: () => lost++,
		onStateChange: (state) => states.push(state),
		onNotification: () => {},
		onRequest: () => Promise.resolve({}),
	});
	return {
		connection,
		peers,
		states,
		opened,
		lost: () => lost,
		setToken: (value: string) => {
			token = value;
		},
		last: () => {
			const peer = peers.at(-1);
			assert.ok(peer, "a peer was opened");
			return peer;
		},
	};
}

/** Open the current attempt and complete a join on it. */
function joinOn(peer: FakePeer, connection: SignalingConnection): void {
	peer.emit("open");
	connection.joined();
}

const flush = async () => {
	for (let i = 0; i < 5; i++) await Promise.resolve();
};

beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"], now: 1_000_000 }));
afterEach(() => mock.timers.reset());

test("first join: connecting → connected", () => {
	const { connection, states, opened, last } = setup();
	connection.start();
	assert.equal(connection.state, "connecting");
	last().emit("open");
	assert.deepEqual(opened, [1]);
	assert.ok(connection.open);
	connection.joined();
	assert.deepEqual(states, ["connected"]);
});

test("a drop → reconnecting, a fresh attempt with the newest token, back → connected", () => {
	const { connection, states, peers, last, setToken, lost } = setup();
	connection.start();
	joinOn(last(), connection);
	setToken("t2");
	last().emit("disconnected");
	assert.equal(connection.state, "reconnecting");
	assert.equal(lost(), 1, "the attempt's media is dropped once, not again for the peer's own close");
	assert.ok(peers[0]?.closed, "the dropped peer is closed, so protoo does not start over by itself");
	mock.timers.tick(0);
	assert.equal(peers.length, 2, "the first retry goes at once");
	assert.match(last().url, /token=t2/);
	joinOn(last(), connection);
	assert.deepEqual(states, ["connected", "reconnecting", "connected"]);
});

test("a socket closed with any code and no refusal (SFU shutdown's 4000, a proxy's 1011) is retried, never final", () => {
	const { connection, peers, last } = setup();
	connection.start();
	joinOn(last(), connection);
	last().emit("close");
	assert.equal(connection.state, "reconnecting");
	mock.timers.tick(0);
	last().emit("failed");
	mock.timers.tick(1000);
	assert.equal(peers.length, 3, "an upgrade refused with 503 ('failed') is retried too");
	joinOn(last(), connection);
	assert.equal(connection.state, "connected");
});

test("retries wait longer and longer, then give up after about 30 s → disconnected", () => {
	const { connection, states, peers, last } = setup();
	connection.start();
	joinOn(last(), connection);
	const start = Date.now();
	last().emit("disconnected");
	while (connection.state === "reconnecting") {
		const before = peers.length;
		mock.timers.tick(100);
		if (peers.length > before) last().emit("failed");
		assert.ok(Date.now() - start < 60_000, "gives up in time");
	}
	assert.equal(connection.state, "disconnected");
	assert.ok(Date.now() - start >= 30_000, `not before 30 s (gave up after ${Date.now() - start} ms)`);
	assert.ok(peers.length > 5 && peers.length < 40, `${peers.length} attempts`);
	assert.deepEqual(states.slice(-2), ["reconnecting", "disconnected"]);
	const count = peers.length;
	mock.timers.tick(60_000);
	assert.equal(peers.length, count, "nothing is tried after giving up");
});

test("a success in between starts a new streak: a long call survives many separate blips", () => {
	const { connection, last } = setup();
	connection.start();
	joinOn(last(), connection);
	for (let blip = 0; blip < 10; blip++) {
		last().emit("disconnected");
		mock.timers.tick(20_000);
		joinOn(last(), connection);
		assert.equal(connection.state, "connected", `blip ${blip}`);
	}
});

test("an attempt that does not open in time is given up and the next one tried", () => {
	const { connection, peers } = setup();
	connection.start();
	mock.timers.tick(openTimeoutMs - 1);
	assert.equal(peers.length, 1);
	mock.timers.tick(1);
	assert.ok(peers[0]?.closed);
	assert.equal(connection.state, "connecting", "before the first join it still says connecting");
	mock.timers.tick(0);
	assert.equal(peers.length, 2);
});

test("pings while connected; any answer, even an error, means alive; silence means dead", async () => {
	const { connection, last } = setup();
	connection.start();
	const first = last();
	joinOn(first, connection);
	for (let i = 0; i < 4; i++) {
		mock.timers.tick(pingIntervalMs);
		assert.deepEqual(
			first.requests.map((request) => request.method),
			["ping"],
		);
		first.answerAllWithErrors();
		await flush();
	}
	assert.equal(connection.state, "connected", "an SFU that does not know ping keeps the call");
	mock.timers.tick(pingIntervalMs);
	assert.equal(first.requests.length, 1, "a ping is out");
	mock.timers.tick(requestTimeoutMs);
	assert.equal(connection.state, "reconnecting", "no answer in time: the socket is given up");
	assert.ok(first.closed);
});

test("a request without an answer in time ends the attempt; requests on no connection fail at once", async () => {
	const { connection, last } = setup();
	await assert.rejects(connection.request("ping", {}), ConnectionLost);
	connection.start();
	joinOn(last(), connection);
	const pending = connection.request("sendChat", { text: "olá" });
	mock.timers.tick(requestTimeoutMs);
	await assert.rejects(pending, ConnectionLost);
	assert.equal(connection.state, "reconnecting");
	await assert.rejects(connection.request("ping", {}), ConnectionLost);
});

test("refused, kicked, room closed and leaving end it for good: no retry, later events ignored", () => {
	for (const end of ["refused", "kicked", "room-closed", "left"] as const) {
		const { connection, peers, states, lost, last } = setup();
		connection.start();
		joinOn(last(), connection);
		connection.end(end);
		assert.equal(connection.state, "ended");
		assert.ok(last().closed);
		last().emit("disconnected");
		mock.timers.tick(60_000);
		assert.equal(peers.length, 1, `${end}: nothing reconnects`);
		assert.equal(lost(), 0);
		assert.deepEqual(states, ["connected", "ended"]);
	}
});

test("giving up at once (media never got through) → disconnected", () => {
	const { connection, last } = setup();
	connection.start();
	joinOn(last(), connection);
	connection.giveUp();
	assert.equal(connection.state, "disconnected");
	assert.ok(last().closed);
});

test("events of a replaced attempt are ignored", () => {
	const { connection, peers, opened } = setup();
	connection.start();
	const old = peers[0];
	assert.ok(old);
	old.emit("failed");
	mock.timers.tick(0);
	old.emit("open");
	old.emit("disconnected");
	assert.deepEqual(opened, [], "the old attempt's late open is not a join");
	assert.equal(peers.length, 2, "nor does its drop start another attempt");
});
