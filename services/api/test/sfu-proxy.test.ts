/**
 * Unit test of the /sfu/:nodeId byte pipe. The upstream here is a plain `ws`
 * server, not an SFU: what is tested is that messages, the query string and
 * close codes go through the API unchanged.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { freePort } from "@mindmeet/testing/ports";
import WebSocket, { WebSocketServer } from "ws";
import { maxPendingMessages } from "../src/sfu-proxy/plugin.ts";
import { registerNode, startTestApi, type TestApi } from "./helpers.ts";

interface Upstream {
	server: WebSocketServer;
	port: number;
	/** Request URL and socket of each connection, in order. */
	connections: { url: string; protocol: string; socket: WebSocket }[];
}

async function startUpstream(): Promise<Upstream> {
	const port = await freePort();
	const server = new WebSocketServer({
		port,
		host: "127.0.0.1",
		handleProtocols: (protocols) => (protocols.has("protoo") ? "protoo" : false),
	});
	await once(server, "listening");
	const upstream: Upstream = { server, port, connections: [] };
	server.on("connection", (socket: WebSocket, request: IncomingMessage) => {
		upstream.connections.push({ url: request.url ?? "", protocol: socket.protocol, socket });
		socket.on("message", (data, isBinary) => {
			const text = data.toString();
			if (text === "close-4403") socket.close(4403, "x");
			else if (text === "vanish") socket.terminate();
			else socket.send(isBinary ? data : `echo:${text}`, { binary: isBinary });
		});
	});
	return upstream;
}

/** Queue every message and the close of a client socket, so none is missed between awaits. */
function watch(socket: WebSocket) {
	const queue: string[] = [];
	const waiters: ((message: string) => void)[] = [];
	socket.on("message", (data) => {
		const waiter = waiters.shift();
		if (waiter) waiter(data.toString());
		else queue.push(data.toString());
	});
	const closed = new Promise<{ code: number; reason: string }>((resolve) =>
		socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
	);
	socket.on("error", () => {});
	const next = (): Promise<string> => {
		const queued = queue.shift();
		if (queued !== undefined) return Promise.resolve(queued);
		return new Promise((resolve) => waiters.push(resolve));
	};
	return { next, closed };
}

describe("sfu proxy byte pipe (a plain ws server stands in for the SFU node)", { timeout: 60_000 }, () => {
	let api: TestApi;
	let upstream: Upstream;
	let base: string;

	before(async () => {
		api = await startTestApi();
		upstream = await startUpstream();
		await registerNode(api.redis, { id: "pipe-node", signalingUrl: `ws://127.0.0.1:${upstream.port}` });
		await api.app.listen({ port: 0, host: "127.0.0.1" });
		const address = api.app.server.address();
		assert.ok(address && typeof address === "object");
		base = `ws://127.0.0.1:${address.port}`;
	});
	after(async () => {
		await api?.close();
		for (const client of upstream?.server.clients ?? []) client.terminate();
		upstream?.server.close();
	});

	test("messages pass both ways and the upstream sees the query token", async () => {
		const client = new WebSocket(`${base}/sfu/pipe-node?token=abc`, "protoo");
		const seen = watch(client);
		await once(client, "open");
		assert.equal(client.protocol, "protoo");
		// Sent at once: the proxy buffers until its upstream connection is open.
		client.send("one");
		client.send("two");
		assert.equal(await seen.next(), "echo:one");
		assert.equal(await seen.next(), "echo:two");

		const connection = upstream.connections.at(-1);
		assert.ok(connection);
		assert.equal(connection.url, "/?token=abc");
		assert.equal(connection.protocol, "protoo");

		connection.socket.send(JSON.stringify({ notification: true, method: "peerJoined" }));
		assert.equal(await seen.next(), '{"notification":true,"method":"peerJoined"}');
		client.close(1000);
		await seen.closed;
	});

	test("an upstream close(4403, 'x') reaches the browser as 4403 'x'", async () => {
		const client = new WebSocket(`${base}/sfu/pipe-node?token=abc`, "protoo");
		const seen = watch(client);
		await once(client, "open");
		client.send("close-4403");
		assert.deepEqual(await seen.closed, { code: 4403, reason: "x" });
	});

	test("an upstream that vanishes closes the browser with 1011", async () => {
		const client = new WebSocket(`${base}/sfu/pipe-node?token=abc`, "protoo");
		const seen = watch(client);
		await once(client, "open");
		client.send("hello");
		assert.equal(await seen.next(), "echo:hello");
		client.send("vanish");
		assert.deepEqual(await seen.closed, { code: 1011, reason: "media server connection lost" });
	});

	test("the browser closing closes the upstream", async () => {
		const client = new WebSocket(`${base}/sfu/pipe-node?token=closing`, "protoo");
		const seen = watch(client);
		await once(client, "open");
		client.send("ping");
		assert.equal(await seen.next(), "echo:ping");
		const connection = upstream.connections.find((c) => c.url === "/?token=closing");
		assert.ok(connection);
		const upstreamClosed = once(connection.socket, "close");
		client.close(1000, "bye");
		const [code] = (await upstreamClosed) as [number];
		assert.equal(code, 1000);
	});

	test("an unknown node closes the browser with 4404", async () => {
		const client = new WebSocket(`${base}/sfu/no-such-node?token=abc`, "protoo");
		const seen = watch(client);
		assert.deepEqual(await seen.closed, { code: 4404, reason: "unknown media server" });
	});

	test("a client without the protoo subprotocol is refused", async () => {
		const client = new WebSocket(`${base}/sfu/pipe-node?token=abc`);
		const [, response] = (await once(client, "unexpected-response")) as [unknown, IncomingMessage];
		assert.equal(response.statusCode, 400);
		response.resume();
		client.on("error", () => {});
		client.terminate();
	});

	test("a client offering only another subprotocol is refused", async () => {
		const client = new WebSocket(`${base}/sfu/pipe-node?token=abc`, "graphql-ws");
		const [, response] = (await once(client, "unexpected-response")) as [unknown, IncomingMessage];
		assert.equal(response.statusCode, 400);
		response.resume();
		client.on("error", () => {});
		client.terminate();
	});

	test("an unreachable node closes the browser with 1011 'media server unreachable'", async () => {
		const deadPort = await freePort();
		await registerNode(api.redis, { id: "dead-node", signalingUrl: `ws://127.0.0.1:${deadPort}` });
		const client = new WebSocket(`${base}/sfu/dead-node?token=abc`, "protoo");
		const seen = watch(client);
		assert.deepEqual(await seen.closed, { code: 1011, reason: "media server unreachable" });
	});

	test(`more than ${maxPendingMessages} messages before the upstream opens → 1008`, async () => {
		// A TCP server that accepts and never answers the WebSocket handshake.
		const silent: Server = createServer();
		const held: Socket[] = [];
		silent.on("connection", (socket) => held.push(socket));
		const silentPort = await freePort();
		silent.listen(silentPort, "127.0.0.1");
		await once(silent, "listening");
		try {
			await registerNode(api.redis, { id: "silent-node", signalingUrl: `ws://127.0.0.1:${silentPort}` });
			const client = new WebSocket(`${base}/sfu/silent-node?token=abc`, "protoo");
			const seen = watch(client);
			await once(client, "open");
			for (let i = 0; i <= maxPendingMessages; i++) client.send(`m${i}`);
			const closed = await seen.closed;
			assert.equal(closed.code, 1008);
		} finally {
			for (const socket of held) socket.destroy();
			silent.close();
		}
	});
});
