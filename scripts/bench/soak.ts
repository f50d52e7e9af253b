/**
 * Soak: many rooms of people joining, chatting, reloading and leaving for
 * minutes on end, then everyone gone. What it looks for is what a long day
 * leaves behind: memory that does not come back, and mediasoup objects
 * (routers, transports, producers, consumers) that outlive their people.
 *
 * The people are headless: protoo-client, the library the web client uses,
 * over the real path (the lobby over HTTP, the API's signaling proxy, the
 * SFU). Each creates real WebRtcTransports, connects them (with a made-up
 * DTLS fingerprint, so no packet ever flows), produces a microphone and a
 * camera with RTP parameters the router accepts, and joins with the
 * router's own capabilities, so the SFU makes a real consumer for every
 * other producer in the room. Tokens are renewed as the web client renews
 * them, and shortened so that a reload after a renewal is part of the run.
 */
import { once } from "node:events";
import {
	type ClientRequestMethod,
	type ClientRequests,
	type LobbyGuestEvent,
	type RenewTokenResponse,
	type RoomInfo,
	signalingRoomParam,
	signalingTokenParam,
} from "@mindmeet/protocol";
import type { RtpCapabilities, RtpParameters } from "mediasoup-client/types";
import { Peer as ProtooClient, WebSocketTransport } from "protoo-client";
import { WebSocket } from "ws";
import { freePort, type Stack, startStack } from "../stack.ts";
import { type BenchSection, markdownTable, rssMiB } from "./measure.ts";

const roomCount = Number(process.env.BENCH_SOAK_ROOMS ?? 20);
const perRoom = Number(process.env.BENCH_SOAK_PEOPLE ?? 4);
const durationMs = Number(process.env.BENCH_SOAK_SECONDS ?? 600) * 1000;
/** Guest tokens live this long in the soak, so several renewals happen in one run. */
const guestTokenTtl = 60;

/** What the SFU reports about itself at GET /stats (see services/sfu/src/sfu.ts). */
interface SfuStats {
	rooms: number;
	peers: number;
	mediasoup: { workers: number; routers: number; transports: number; producers: number; consumers: number };
}

async function json<T>(response: Response): Promise<T> {
	if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
	return (await response.json()) as T;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (min: number, max: number) => min + Math.random() * (max - min);

function post(stack: Stack, path: string, body?: unknown, token?: string): Promise<Response> {
	return fetch(`${stack.url}${path}`, {
		method: "POST",
		headers: {
			...(body ? { "content-type": "application/json" } : {}),
			...(token ? { authorization: `Bearer ${token}` } : {}),
		},
		...(body ? { body: JSON.stringify(body) } : {}),
	});
}

/** Knock, have the host admit, return the guest's credentials. */
async function admit(stack: Stack, roomId: string, hostToken: () => string, name: string) {
	const knock = await json<{ knockId: string; knockSecret: string }>(
		await post(stack, `/api/rooms/${roomId}/knocks`, { name }),
	);
	const wait = new WebSocket(
		`${stack.url.replace("http", "ws")}/api/rooms/${roomId}/knocks/${knock.knockId}/wait?secret=${knock.knockSecret}`,
	);
	const admitted = new Promise<{ token: string; peerId: string }>((resolve, reject) => {
		wait.on("message", (data) => {
			const event = JSON.parse(String(data)) as LobbyGuestEvent;
			if (event.type === "admitted") resolve({ token: event.token, peerId: event.peerId });
			else if (event.type !== "waiting") reject(new Error(`knock ended: ${event.type}`));
		});
		wait.on("close", () => reject(new Error("waiting socket closed")));
	});
	admitted.catch(() => {});
	await once(wait, "open");
	await json(await post(stack, `/api/rooms/${roomId}/knocks/${knock.knockId}/admit`, undefined, hostToken()));
	const credentials = await admitted;
	wait.close();
	return credentials;
}

/** RTP parameters for one stream of the router's first codec of `kind`, as a browser would offer them. */
function sendParameters(caps: RtpCapabilities, kind: "audio" | "video"): RtpParameters {
	const codec = caps.codecs?.find((c) => c.kind === kind && !/rtx$/i.test(c.mimeType));
	if (!codec || codec.preferredPayloadType === undefined) throw new Error(`the router has no ${kind} codec`);
	return {
		mid: kind === "audio" ? "0" : "1",
		codecs: [
			{
				mimeType: codec.mimeType,
				payloadType: codec.preferredPayloadType,
				clockRate: codec.clockRate,
				...(codec.channels ? { channels: codec.channels } : {}),
				parameters: codec.parameters ?? {},
				rtcpFeedback: [],
			},
		],
		headerExtensions: [],
		encodings: [{ ssrc: Math.floor(between(1e6, 4e9)) }],
		rtcp: { cname: `soak-${Math.random().toString(36).slice(2)}` },
	};
}

const fakeDtls = {
	role: "client" as const,
	fingerprints: [
		{
			algorithm: "sha-256" as const,
			value: Array.from({ length: 32 }, () =>
				Math.floor(between(0, 256)).toString(16).padStart(2, "0").toUpperCase(),
			).join(":"),
		},
	],
};

/** One person without a browser, through the real path; see the file comment. */
class HeadlessPerson {
	readonly name: string;
	token: string;
	#peer: ProtooClient | undefined;
	readonly #stack: Stack;
	readonly #roomId: string;
	#renewTimer: NodeJS.Timeout | undefined;
	failures = 0;

	constructor(stack: Stack, roomId: string, name: string, token: string) {
		this.#stack = stack;
		this.#roomId = roomId;
		this.name = name;
		this.token = token;
	}

	#request<M extends ClientRequestMethod>(
		method: M,
		data: ClientRequests[M]["request"],
	): Promise<ClientRequests[M]["response"]> {
		if (!this.#peer) throw new Error("not connected");
		return this.#peer.request(method, data);
	}

	/** Open signaling and go through the whole media sequence the web client runs. */
	async connect(): Promise<void> {
		const info = await json<RoomInfo>(await fetch(`${this.#stack.url}/api/rooms/${this.#roomId}`));
		const url = new URL(info.sfuUrl, this.#stack.url.replace(/^http/, "ws"));
		url.searchParams.set(signalingTokenParam, this.token);
		url.searchParams.set(signalingRoomParam, this.#roomId);
		const peer = new ProtooClient(new WebSocketTransport(url.toString(), { retry: { retries: 0 } }));
		// New consumers are accepted as a browser does; the SFU then resumes them.
		peer.on("request", (_request, accept) => accept());
		this.#peer = peer;
		await Promise.race([
			once(peer as unknown as NodeJS.EventEmitter, "open"),
			once(peer as unknown as NodeJS.EventEmitter, "failed").then(() => {
				throw new Error("signaling did not open");
			}),
		]);
		const caps = await this.#request("getRouterRtpCapabilities", {});
		const [send, recv] = await Promise.all([
			this.#request("createWebRtcTransport", { direction: "send" }),
			this.#request("createWebRtcTransport", { direction: "recv" }),
		]);
		await Promise.all([
			this.#request("connectWebRtcTransport", { transportId: send.id, dtlsParameters: fakeDtls }),
			this.#request("connectWebRtcTransport", { transportId: recv.id, dtlsParameters: fakeDtls }),
		]);
		await this.#request("join", { rtpCapabilities: caps });
		await this.#request("produce", {
			transportId: send.id,
			kind: "audio",
			source: "mic",
			rtpParameters: sendParameters(caps, "audio"),
		});
		await this.#request("produce", {
			transportId: send.id,
			kind: "video",
			source: "cam",
			rtpParameters: sendParameters(caps, "video"),
		});
		this.#scheduleRenewal();
	}

	/** Renew at half the token's remaining life, as the web client does. */
	#scheduleRenewal(): void {
		clearTimeout(this.#renewTimer);
		const payload = JSON.parse(Buffer.from(this.token.split(".")[1] ?? "", "base64url").toString()) as { exp: number };
		const inMs = Math.max(1000, (payload.exp * 1000 - Date.now()) / 2);
		this.#renewTimer = setTimeout(() => {
			void post(this.#stack, `/api/rooms/${this.#roomId}/token`, undefined, this.token)
				.then((response) => json<RenewTokenResponse>(response))
				.then(
					(renewed) => {
						this.token = renewed.token;
						this.#scheduleRenewal();
					},
					() => {
						this.failures++;
					},
				);
		}, inMs);
		this.#renewTimer.unref();
	}

	chat(): Promise<unknown> {
		const text = `soak ${this.name} ${"olá 🎉 ".repeat(Math.floor(between(1, 40)))}`;
		return this.#request("sendChat", { text });
	}

	/** A reload: the socket just goes, and the same person comes back with the same token. */
	async reload(): Promise<void> {
		this.#peer?.close();
		this.#peer = undefined;
		await sleep(between(100, 1500));
		await this.connect();
	}

	async leave(): Promise<void> {
		clearTimeout(this.#renewTimer);
		await this.#request("leave", {}).catch(() => {});
		this.#peer?.close();
		this.#peer = undefined;
	}
}

interface SoakRoom {
	roomId: string;
	host: HeadlessPerson;
	guests: (HeadlessPerson | undefined)[];
}

async function openRoom(stack: Stack, index: number): Promise<SoakRoom> {
	const created = await json<{ roomId: string; hostToken: string }>(
		await post(stack, "/api/rooms", { hostName: `Host ${index}`, mode: "video" }),
	);
	const host = new HeadlessPerson(stack, created.roomId, `Host ${index}`, created.hostToken);
	await host.connect();
	const room: SoakRoom = { roomId: created.roomId, host, guests: [] };
	for (let g = 1; g < perRoom; g++) room.guests.push(await joinGuest(stack, room, `Guest ${index}.${g}`));
	return room;
}

async function joinGuest(stack: Stack, room: SoakRoom, name: string): Promise<HeadlessPerson> {
	const credentials = await admit(stack, room.roomId, () => room.host.token, name);
	const guest = new HeadlessPerson(stack, room.roomId, name, credentials.token);
	await guest.connect();
	return guest;
}

/** One guest's life for the soak: chat, reload, or leave and knock again, at random, until the end. */
async function guestLoop(stack: Stack, room: SoakRoom, slot: number, until: number, counts: Record<string, number>) {
	while (Date.now() < until) {
		await sleep(between(4000, 15_000));
		if (Date.now() >= until) break;
		const guest = room.guests[slot];
		if (!guest) break;
		const roll = Math.random();
		try {
			if (roll < 0.5) {
				await guest.chat();
				counts.chats = (counts.chats ?? 0) + 1;
			} else if (roll < 0.75) {
				await guest.reload();
				counts.reloads = (counts.reloads ?? 0) + 1;
			} else {
				await guest.leave();
				room.guests[slot] = undefined;
				await sleep(between(500, 3000));
				room.guests[slot] = await joinGuest(stack, room, guest.name);
				counts.rejoins = (counts.rejoins ?? 0) + 1;
			}
		} catch {
			counts.errors = (counts.errors ?? 0) + 1;
		}
	}
}

async function sfuStats(statsUrl: string): Promise<SfuStats> {
	return json<SfuStats>(await fetch(statsUrl));
}

/** Wait (bounded) until the SFU holds no room, then give its counts. */
async function settled(statsUrl: string): Promise<SfuStats> {
	let stats = await sfuStats(statsUrl);
	for (let i = 0; i < 100 && (stats.rooms > 0 || stats.mediasoup.routers > 0); i++) {
		await sleep(200);
		stats = await sfuStats(statsUrl);
	}
	await sleep(3000);
	return sfuStats(statsUrl);
}

export async function soakBenchmark(): Promise<BenchSection> {
	const sfuPort = await freePort();
	const stack = await startStack({
		apiPort: await freePort(),
		sfuPort,
		rtcPort: 0,
		sfuWorkers: 2,
		output: "ignore",
		logLevel: "warn",
		env: {
			KNOCK_RATE_LIMIT: "100000",
			ROOM_CREATE_RATE_LIMIT: "100000",
			GUEST_TOKEN_TTL: String(guestTokenTtl),
			ROOM_GRACE_SECONDS: "1",
		},
	});
	const statsUrl = `http://127.0.0.1:${sfuPort}/stats`;
	try {
		const pids = () => ({ sfu: stack.processes.sfu.pid ?? 0, api: stack.processes.api.pid ?? 0 });
		// Warm-up: one room through its whole life, so the start figure is of a process that has run.
		const warm = await openRoom(stack, -1);
		for (const person of [...warm.guests, warm.host]) await person?.leave();
		const before = await settled(statsUrl);
		const start = { sfu: rssMiB(pids().sfu), api: rssMiB(pids().api) };

		const rooms: SoakRoom[] = [];
		for (let i = 0; i < roomCount; i++) rooms.push(await openRoom(stack, i));
		const full = await sfuStats(statsUrl);
		const peak = { sfu: rssMiB(pids().sfu), api: rssMiB(pids().api) };

		const counts: Record<string, number> = {};
		const until = Date.now() + durationMs;
		const loops: Promise<void>[] = [];
		for (const room of rooms) {
			for (let slot = 0; slot < room.guests.length; slot++) loops.push(guestLoop(stack, room, slot, until, counts));
			// The host chats and reloads too.
			loops.push(
				(async () => {
					while (Date.now() < until) {
						await sleep(between(8000, 25_000));
						if (Date.now() >= until) break;
						try {
							if (Math.random() < 0.7) await room.host.chat();
							else await room.host.reload();
						} catch {
							counts.errors = (counts.errors ?? 0) + 1;
						}
					}
				})(),
			);
		}
		await Promise.all(loops);
		for (const room of rooms) {
			for (const person of [...room.guests, room.host]) await person?.leave();
		}
		const after = await settled(statsUrl);
		const end = { sfu: rssMiB(pids().sfu), api: rssMiB(pids().api) };
		const renewalFailures = rooms.reduce(
			(sum, room) => sum + room.host.failures + room.guests.reduce((s, g) => s + (g?.failures ?? 0), 0),
			0,
		);

		const change = (a: number, b: number) => `${(((b - a) / a) * 100).toFixed(1)} %`;
		const memoryTable = markdownTable(
			[
				"resident memory (MiB)",
				"start (after warm-up, empty)",
				`${roomCount} × ${perRoom} in`,
				"end (everyone left)",
				"end vs start",
			],
			[
				[
					"SFU (Node + workers)",
					start.sfu.toFixed(1),
					peak.sfu.toFixed(1),
					end.sfu.toFixed(1),
					change(start.sfu, end.sfu),
				],
				["API", start.api.toFixed(1), peak.api.toFixed(1), end.api.toFixed(1), change(start.api, end.api)],
			],
		);
		const m = (s: SfuStats) => s.mediasoup;
		const objectTable = markdownTable(
			["mediasoup objects (workers' dumps)", "before", "everyone in", "after everyone left"],
			[
				["rooms open on the SFU", before.rooms, full.rooms, after.rooms],
				["routers", m(before).routers, m(full).routers, m(after).routers],
				["transports", m(before).transports, m(full).transports, m(after).transports],
				["producers", m(before).producers, m(full).producers, m(after).producers],
				["consumers", m(before).consumers, m(full).consumers, m(after).consumers],
			],
		);
		const activity = `chat messages ${counts.chats ?? 0}, reloads ${counts.reloads ?? 0}, leave-and-knock-again ${counts.rejoins ?? 0}, failed actions ${counts.errors ?? 0}, failed token renewals ${renewalFailures}`;
		console.log(`\n${memoryTable}\n\n${objectTable}\n\n${activity}\n`);
		return {
			title: "Soak",
			markdown: `${roomCount} rooms × ${perRoom} people for ${Math.round(durationMs / 60_000)} min on an SFU with 2 workers. Each
person is headless (protoo-client over the real path: lobby, API proxy, SFU) and owns real
mediasoup objects: two WebRtcTransports (connected with a made-up DTLS fingerprint, so no media
flows), a microphone and a camera producer, and a consumer of every other producer in its
room. Guests, every 4–15 s at random: chat (a message of up to ~280 characters with accents and
emoji), reload (the socket drops, the same token comes back), or leave and knock again; hosts
chat and reload. Guest tokens live ${guestTokenTtl} s and are renewed at half-life, as the web client
does. At the end everyone leaves. There is no peer for this run: the figures to read are the
memory at the end against the start (target: within 10 %) and the mediasoup objects after
everyone left (target: zero).

${memoryTable}

${objectTable}

Activity: ${activity}.`,
		};
	} finally {
		await stack.stop();
	}
}
