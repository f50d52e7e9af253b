/**
 * Chat delivery latency: 20 protoo clients in one room, each sending 2
 * messages a second through the real path (API proxy → SFU → Redis history →
 * broadcast), measured from send to receipt on every member. Side by side with
 * a bare WebSocket broadcast server in its own process, same clients, same
 * pattern, same run.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import {
	type ChatMessage,
	type LobbyGuestEvent,
	type RoomInfo,
	signalingRoomParam,
	signalingTokenParam,
} from "@mindmeet/protocol";
import { Peer as ProtooClient, WebSocketTransport } from "protoo-client";
import { WebSocket } from "ws";
import { freePort, repoRoot, type Stack } from "../stack.ts";
import { type BenchSection, markdownTable, percentile } from "./measure.ts";

const clients = 20;
const perSecond = 2;
const seconds = Number(process.env.BENCH_CHAT_SECONDS ?? 10);

async function json<T>(response: Response): Promise<T> {
	if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
	return (await response.json()) as T;
}

/** Tokens for `count` people in one room: the host's, then guests admitted through the real lobby. */
async function roomWithPeople(stack: Stack, count: number) {
	const post = (path: string, body?: unknown, token?: string) =>
		fetch(`${stack.url}${path}`, {
			method: "POST",
			headers: {
				...(body ? { "content-type": "application/json" } : {}),
				...(token ? { authorization: `Bearer ${token}` } : {}),
			},
			...(body ? { body: JSON.stringify(body) } : {}),
		});
	const room = await json<{ roomId: string; hostToken: string }>(
		await post("/api/rooms", { hostName: "P0", mode: "audio" }),
	);
	const tokens = [room.hostToken];
	for (let i = 1; i < count; i++) {
		const knock = await json<{ knockId: string; knockSecret: string }>(
			await post(`/api/rooms/${room.roomId}/knocks`, { name: `P${i}` }),
		);
		const wait = new WebSocket(
			`${stack.url.replace("http", "ws")}/api/rooms/${room.roomId}/knocks/${knock.knockId}/wait?secret=${knock.knockSecret}`,
		);
		const admitted = new Promise<string>((resolve, reject) => {
			wait.on("message", (data) => {
				const event = JSON.parse(String(data)) as LobbyGuestEvent;
				if (event.type === "admitted") resolve(event.token);
				else if (event.type !== "waiting") reject(new Error(event.type));
			});
		});
		await once(wait, "open");
		await json(await post(`/api/rooms/${room.roomId}/knocks/${knock.knockId}/admit`, undefined, room.hostToken));
		tokens.push(await admitted);
		wait.close();
	}
	const info = await json<RoomInfo>(await fetch(`${stack.url}/api/rooms/${room.roomId}`));
	return {
		roomId: room.roomId,
		tokens,
		sfuUrl: info.sfuUrl.startsWith("/") ? `${stack.url.replace("http", "ws")}${info.sfuUrl}` : info.sfuUrl,
	};
}

interface Sender {
	send(text: string): void;
	onText(listener: (text: string) => void): void;
	close(): void;
}

async function mindmeetClients(stack: Stack): Promise<Sender[]> {
	const { roomId, tokens, sfuUrl } = await roomWithPeople(stack, clients);
	return Promise.all(
		tokens.map(async (token) => {
			const url = new URL(sfuUrl);
			url.searchParams.set(signalingRoomParam, roomId);
			url.searchParams.set(signalingTokenParam, token);
			const peer = new ProtooClient(new WebSocketTransport(url.toString(), { retry: { retries: 0 } }));
			await once(peer as unknown as NodeJS.EventEmitter, "open");
			const rtpCapabilities = await peer.request("getRouterRtpCapabilities", {});
			await peer.request("join", { rtpCapabilities });
			const listeners: ((text: string) => void)[] = [];
			peer.on("notification", (notification) => {
				if (notification.method === "chatMessage") {
					for (const listener of listeners) listener((notification.data as ChatMessage).text);
				}
			});
			return {
				send: (text: string) => void peer.request("sendChat", { text }),
				onText: (listener: (text: string) => void) => listeners.push(listener),
				close: () => peer.close(),
			};
		}),
	);
}

/** The peer: a WebSocket server that sends every message it receives to every client, nothing else. */
async function echoClients(): Promise<{ senders: Sender[]; stop: () => void }> {
	const port = await freePort();
	const server = spawn(
		process.execPath,
		[
			"--input-type=module",
			"-e",
			`import { WebSocketServer } from "ws";
			 const wss = new WebSocketServer({ port: ${port}, host: "127.0.0.1" });
			 wss.on("connection", (socket) => socket.on("message", (data) => { for (const c of wss.clients) c.send(String(data)); }));
			 wss.on("listening", () => console.log("ready"));`,
		],
		{ cwd: `${repoRoot}/services/api`, stdio: ["ignore", "pipe", "inherit"] },
	);
	await once(server.stdout, "data");
	const senders = await Promise.all(
		Array.from({ length: clients }, async () => {
			const socket = new WebSocket(`ws://127.0.0.1:${port}`);
			await once(socket, "open");
			const listeners: ((text: string) => void)[] = [];
			socket.on("message", (data) => {
				for (const listener of listeners) listener(String(data));
			});
			return {
				send: (text: string) => socket.send(text),
				onText: (listener: (text: string) => void) => listeners.push(listener),
				close: () => socket.close(),
			};
		}),
	);
	return { senders, stop: () => server.kill() };
}

/** Every client sends `perSecond` messages a second for `seconds`; returns every delivery's latency in ms. */
async function measure(senders: Sender[]): Promise<number[]> {
	const sentAt = new Map<string, number>();
	const latencies: number[] = [];
	for (const sender of senders) {
		sender.onText((text) => {
			const started = sentAt.get(text);
			if (started !== undefined) latencies.push(performance.now() - started);
		});
	}
	const expected = senders.length * senders.length * perSecond * seconds;
	let sequence = 0;
	const timers = senders.map((sender, index) =>
		setTimeout(
			() => {
				let sent = 0;
				const timer = setInterval(() => {
					if (sent++ >= perSecond * seconds) return clearInterval(timer);
					const text = `m${sequence++}-${index}`;
					sentAt.set(text, performance.now());
					sender.send(text);
				}, 1000 / perSecond);
			},
			(index * 1000) / perSecond / senders.length,
		),
	);
	// Let the last messages arrive (bounded).
	for (let waited = 0; waited < (seconds + 5) * 10 && latencies.length < expected; waited++) {
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
	for (const timer of timers) clearTimeout(timer);
	return latencies;
}

export async function chatBenchmark(stack: Stack): Promise<BenchSection> {
	const mindmeet = await mindmeetClients(stack);
	const ours = await measure(mindmeet);
	for (const sender of mindmeet) sender.close();
	const echo = await echoClients();
	const theirs = await measure(echo.senders);
	for (const sender of echo.senders) sender.close();
	echo.stop();

	const expected = clients * clients * perSecond * seconds;
	const ms = (value: number) => `${value.toFixed(1)} ms`;
	const table = markdownTable(
		["figure", "Mindmeet chat", "peer: bare WebSocket broadcast", "ratio"],
		[
			[
				"delivery latency p50",
				ms(percentile(ours, 50)),
				ms(percentile(theirs, 50)),
				(percentile(ours, 50) / percentile(theirs, 50)).toFixed(2),
			],
			[
				"delivery latency p99",
				ms(percentile(ours, 99)),
				ms(percentile(theirs, 99)),
				(percentile(ours, 99) / percentile(theirs, 99)).toFixed(2),
			],
			["deliveries received / expected", `${ours.length} / ${expected}`, `${theirs.length} / ${expected}`, "—"],
		],
	);
	console.log(`\n${table}\n`);
	return {
		title: "Chat delivery",
		markdown: `${clients} protoo clients (Node, protoo-client) in one room, each sending ${perSecond} messages a
second for ${seconds} s, staggered; latency from the send call to the \`chatMessage\`
notification on every member, sender included, all clocks in one process. The Mindmeet path
is the real one: WebSocket to the API, the API's proxy to the SFU, validation,
rate limit, Redis append, broadcast. The peer is a bare \`ws\` server in its own process that
sends each message it receives to every client. Target: p99 ≤ 30 ms on loopback.

${table}`,
	};
}
