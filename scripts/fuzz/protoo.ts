/**
 * The protoo fuzzer: admitted peers on raw `protoo` WebSockets (through the
 * API's /sfu/<node> proxy, as browsers connect) send a seeded mix of valid,
 * mutated, unknown, malformed, binary and oversize frames, paced under the
 * SFU's per-connection request limit. A connection the SFU or the proxy
 * closes (flooding, an oversize frame) is a correct outcome: a fresh peer is
 * admitted in its place. A control peer in the same room pings throughout.
 */
import { once } from "node:events";
import { type RoomInfo, signalingRoomParam, signalingTokenParam } from "@mindmeet/protocol";
import { knockOverHttp, SignalingPeer } from "@mindmeet/testing/signaling-peer";
import { WebSocket } from "ws";
import { deepJsonText, hostileValue, mutateObject, Random } from "./random.ts";

export interface ProtooFuzzOptions {
	baseUrl: string;
	seed: number;
	/** Frames to send in all. */
	messages: number;
	/** Fuzzing connections at once. */
	connections: number;
	log: (line: string) => void;
}

export interface ProtooFuzzReport {
	sent: number;
	/** Frame kinds sent, by name. */
	kinds: Record<string, number>;
	/** Responses by outcome: "ok" or the error reason's code (before the colon). */
	outcomes: Record<string, number>;
	/** Connections closed under us, by close code and reason. */
	closes: Record<string, number>;
	/** The last frame sent on each connection the proxy closed because it lost the SFU (a crash's suspects). */
	lastFrameBeforeSfuLost: Record<string, number>;
	peersAdmitted: number;
	controlPings: { ok: number; failed: number };
	/** Requests answered with an `internal` error, or anything else that must not happen. */
	failures: string[];
	roomId: string;
	/** A fresh peer joined the room after the run. */
	freshPeerJoined: boolean;
}

interface Context {
	transports: string[];
	producers: string[];
	peerIds: string[];
}

const id = () => "00000000-0000-4000-8000-000000000000";

function validRequest(random: Random, context: Context): { method: string; data: unknown } {
	const some = (list: string[]) => (list.length > 0 && random.chance(0.8) ? random.pick(list) : random.string(20));
	const dtlsParameters = {
		role: "client",
		fingerprints: [{ algorithm: "sha-256", value: Array.from({ length: 32 }, () => "AB").join(":") }],
	};
	const requests: { method: string; data: unknown }[] = [
		{ method: "getRouterRtpCapabilities", data: {} },
		{ method: "createWebRtcTransport", data: { direction: random.pick(["send", "recv"]) } },
		{ method: "connectWebRtcTransport", data: { transportId: some(context.transports), dtlsParameters } },
		{ method: "join", data: { rtpCapabilities: { codecs: [] } } },
		{
			method: "produce",
			data: {
				transportId: some(context.transports),
				kind: "audio",
				rtpParameters: {
					codecs: [{ mimeType: "audio/opus", payloadType: 111, clockRate: 48000, channels: 2 }],
					encodings: [{ ssrc: 1000 + random.int(100000) }],
				},
				source: random.pick(["mic", "camera", "screen"]),
			},
		},
		{ method: "closeProducer", data: { producerId: some(context.producers) } },
		{ method: "pauseProducer", data: { producerId: some(context.producers) } },
		{ method: "resumeProducer", data: { producerId: some(context.producers) } },
		{ method: "sendChat", data: { text: `fuzz ${random.string(10)}` } },
		{ method: "setConsumerPreferredLayers", data: { consumerId: id(), spatialLayer: random.int(4) } },
		{ method: "kickPeer", data: { peerId: some(context.peerIds) } },
		{ method: "leave", data: {} },
		{ method: "ping", data: {} },
		{ method: "chatHistory", data: { before: id() } },
	];
	// `leave` ends the peer's part in the call: keep it rare so most frames reach a joined peer.
	const request = random.pick(requests);
	return request.method === "leave" && random.chance(0.8) ? { method: "ping", data: {} } : request;
}

/** One frame to send, its kind, and the request it carries (to report a failure precisely). */
function nextFrame(random: Random, context: Context, nextId: () => number): { kind: string; frame: string | Buffer } {
	const request = (method: unknown, data: unknown, extra: Record<string, unknown> = {}) =>
		JSON.stringify({ request: true, id: nextId(), method, data, ...extra });
	const roll = random.int(100);
	if (roll < 12) {
		const valid = validRequest(random, context);
		return { kind: "valid request", frame: request(valid.method, valid.data) };
	}
	if (roll < 55) {
		const valid = validRequest(random, context);
		return { kind: "mutated request", frame: request(valid.method, mutateObject(random, valid.data)) };
	}
	if (roll < 62) {
		const method = random.pick(["", "constructor", "__proto__", "toString", "hasOwnProperty", random.string(12)]);
		return { kind: "unknown method", frame: request(method, hostileValue(random)) };
	}
	if (roll < 70) {
		const envelopes = [
			JSON.stringify({ request: true, method: "ping", data: {} }),
			JSON.stringify({ request: true, id: "not-a-number", method: "ping", data: {} }),
			JSON.stringify({ request: true, id: -1, method: "ping", data: {} }),
			JSON.stringify({ request: true, id: 1.5e300, method: "ping" }),
			JSON.stringify({ request: true, id: nextId(), method: 42, data: {} }),
			JSON.stringify({ request: true, id: nextId(), method: ["ping"], data: {} }),
			JSON.stringify({ request: "yes", id: nextId(), method: "ping", data: {} }),
			JSON.stringify({ request: true, id: nextId(), method: "ping", data: [1, 2, 3] }),
			JSON.stringify({ request: true, id: nextId(), method: "ping", data: "text" }),
			JSON.stringify({ request: true, response: true, notification: true, id: nextId(), method: "ping" }),
			JSON.stringify([{ request: true, id: nextId(), method: "ping", data: {} }]),
			"null",
			"42",
			'"a string"',
		];
		return { kind: "malformed envelope", frame: random.pick(envelopes) };
	}
	if (roll < 75) {
		const frames = [
			JSON.stringify({ response: true, id: random.int(1e6), ok: true, data: {} }),
			JSON.stringify({ response: true, id: random.int(1e6), ok: false, errorCode: 500, errorReason: "x" }),
			JSON.stringify({ notification: true, method: random.pick(["chatMessage", "peerJoined", "x"]), data: {} }),
			JSON.stringify({ notification: true, method: "refused", data: hostileValue(random) }),
		];
		return { kind: "client response/notification", frame: random.pick(frames) };
	}
	if (roll < 80) {
		const frames = ["", "{", "not json", '{"request":true,', "\u0000\u0001\u0002", "{}".repeat(1000), "\ud800"];
		return { kind: "non-JSON text", frame: random.pick(frames) };
	}
	if (roll < 85) {
		const bytes = Buffer.alloc(random.pick([1, 16, 1024, 20_000]));
		for (let i = 0; i < bytes.length; i++) bytes[i] = random.int(256);
		if (random.chance(0.3)) bytes.write(request("ping", {}));
		return { kind: "binary frame", frame: bytes };
	}
	if (roll < 88) {
		const nested = deepJsonText(random.pick([100, 2_000, 10_000]), random.chance(0.5));
		return {
			kind: "deeply nested JSON",
			frame: `{"request":true,"id":${nextId()},"method":"sendChat","data":${nested}}`,
		};
	}
	if (roll < 92) {
		// Just under the proxy's 64 KiB frame limit: accepted as a frame, refused as a request.
		return { kind: "huge string", frame: request("sendChat", { text: "y".repeat(60_000) }) };
	}
	if (roll < 94) {
		return { kind: "oversize frame (> 64 KiB)", frame: request("sendChat", { text: "z".repeat(70_000) }) };
	}
	// Out of order on purpose: these right after connecting, before `join` or any transport exists.
	const early = random.pick([
		{ method: "produce", data: { transportId: random.string(20), kind: "video", rtpParameters: {}, source: "camera" } },
		{ method: "connectWebRtcTransport", data: { transportId: id(), dtlsParameters: { fingerprints: [] } } },
		{ method: "resumeProducer", data: { producerId: id() } },
		{ method: "join", data: { rtpCapabilities: { codecs: [] } } },
	]);
	return { kind: "out-of-order request", frame: request(early.method, early.data) };
}

async function json<T>(response: Response): Promise<T> {
	if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
	return (await response.json()) as T;
}

export async function fuzzProtoo(options: ProtooFuzzOptions): Promise<ProtooFuzzReport> {
	const { baseUrl, log } = options;
	const random = new Random(options.seed);
	const report: ProtooFuzzReport = {
		sent: 0,
		kinds: {},
		outcomes: {},
		closes: {},
		lastFrameBeforeSfuLost: {},
		peersAdmitted: 0,
		controlPings: { ok: 0, failed: 0 },
		failures: [],
		roomId: "",
		freshPeerJoined: false,
	};
	const count = (record: Record<string, number>, key: string) => {
		record[key] = (record[key] ?? 0) + 1;
	};

	const room = await json<{ roomId: string; hostToken: string }>(
		await fetch(`${baseUrl}/api/rooms`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ hostName: "Fuzz host", mode: "audio" }),
		}),
	);
	report.roomId = room.roomId;
	const info = await json<RoomInfo>(await fetch(`${baseUrl}/api/rooms/${room.roomId}`));
	const control = await SignalingPeer.connect(baseUrl, room.roomId, room.hostToken);
	await control.join();

	const admit = async (name: string) => {
		const pending = await knockOverHttp(baseUrl, room.roomId, name);
		await json(
			await fetch(`${baseUrl}/api/rooms/${room.roomId}/knocks/${pending.knock.knockId}/admit`, {
				method: "POST",
				headers: { authorization: `Bearer ${room.hostToken}` },
			}),
		);
		report.peersAdmitted++;
		return pending.admitted;
	};

	// The control peer answers `ping` all along; a missed answer means the room was hurt.
	let pinging = true;
	const pinger = (async () => {
		while (pinging) {
			try {
				await Promise.race([
					control.request("ping", {}),
					new Promise((_, reject) => setTimeout(() => reject(new Error("no answer in 10 s")), 10_000)),
				]);
				report.controlPings.ok++;
			} catch (error) {
				report.controlPings.failed++;
				report.failures.push(`control peer ping failed: ${(error as Error).message}`);
				// Its connection is gone (the SFU went down): said once above, not every half second.
				if (control.client.closed) break;
			}
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
	})();

	let requestId = 1;
	const nextId = () => requestId++;
	const context: Context = { transports: [], producers: [], peerIds: [] };

	const worker = async (index: number) => {
		let admissionFailures = 0;
		while (report.sent < options.messages) {
			let token: string;
			try {
				const admitted = await admit(`Fuzz ${index}`);
				token = admitted.token;
				context.peerIds.push(admitted.peerId);
				admissionFailures = 0;
			} catch (error) {
				// Admission must keep working under fuzzing: a failure is a finding, and the run goes on.
				report.failures.push(`a fresh peer could not be admitted: ${(error as Error).message}`);
				// Ten in a row: this connection gives up (fewer frames sent is itself reported).
				if (++admissionFailures >= 10) return;
				await new Promise((resolve) => setTimeout(resolve, 1_000));
				continue;
			}
			const url = new URL(info.sfuUrl, baseUrl.replace(/^http/, "ws"));
			url.searchParams.set(signalingTokenParam, token);
			url.searchParams.set(signalingRoomParam, room.roomId);
			const socket = new WebSocket(url, "protoo");
			const pending = new Map<number, string>();
			let closed = false;
			let lastFrame: string | undefined;
			socket.on("message", (raw) => {
				let message: {
					response?: boolean;
					request?: boolean;
					notification?: boolean;
					id?: number;
					ok?: boolean;
					method?: string;
					data?: unknown;
					errorCode?: number;
					errorReason?: string;
				};
				try {
					message = JSON.parse(String(raw));
				} catch {
					report.failures.push(`the SFU sent a frame that is not JSON: ${String(raw).slice(0, 200)}`);
					return;
				}
				if (message.request && typeof message.id === "number") {
					// The SFU asks us to consume: accept, as a browser would.
					socket.send(JSON.stringify({ response: true, id: message.id, ok: true, data: {} }));
					return;
				}
				if (!message.response || typeof message.id !== "number") return;
				const sent = pending.get(message.id);
				pending.delete(message.id);
				if (message.ok) {
					count(report.outcomes, "ok");
					const data = message.data as { id?: unknown } | undefined;
					if (sent?.includes('"createWebRtcTransport"') && typeof data?.id === "string") {
						context.transports.push(data.id);
					}
					if (sent?.includes('"produce"') && typeof data?.id === "string") context.producers.push(data.id);
					return;
				}
				const reason = String(message.errorReason ?? "");
				count(report.outcomes, reason.split(":")[0] || `code ${message.errorCode}`);
				if (reason.startsWith("internal") || message.errorCode === 500) {
					report.failures.push(`internal error "${reason}" for request ${String(sent).slice(0, 500)}`);
				}
			});
			const closedPromise = new Promise<void>((resolve) => {
				socket.on("close", (code, reason) => {
					closed = true;
					count(report.closes, `${code} ${String(reason) || "(no reason)"}`);
					// The proxy lost the SFU under this connection: its last frame is what to suspect of the crash.
					if (String(reason) === "media server connection lost" && lastFrame !== undefined) {
						count(report.lastFrameBeforeSfuLost, lastFrame);
					}
					resolve();
				});
				socket.on("error", () => {});
			});
			try {
				await Promise.race([once(socket, "open"), closedPromise]);
			} catch {
				// closed before it opened: counted above
			}
			while (!closed && socket.readyState === WebSocket.OPEN && report.sent < options.messages) {
				const { kind, frame } = nextFrame(random, context, nextId);
				count(report.kinds, kind);
				report.sent++;
				if (typeof frame === "string") {
					const parsed = /^\{"request":true,"id":(\d+)/.exec(frame);
					if (parsed) pending.set(Number(parsed[1]), frame);
				}
				lastFrame = `${kind}: ${typeof frame === "string" ? JSON.stringify(frame.slice(0, 120)) : `<${frame.length} binary bytes>`}`;
				socket.send(frame);
				// Under the SFU's 20 requests/s per connection: a client that floods is cut, one that paces is served.
				await new Promise((resolve) => setTimeout(resolve, 60));
			}
			if (!closed) {
				// Give the last answers a moment, then leave as a client closing its tab.
				await Promise.race([closedPromise, new Promise((resolve) => setTimeout(resolve, 1_000))]);
				socket.close(1000);
				await closedPromise;
			}
		}
	};

	const progress = setInterval(() => log(`protoo: ${report.sent}/${options.messages} frames`), 10_000);
	try {
		await Promise.all(Array.from({ length: options.connections }, (_, index) => worker(index)));
	} finally {
		clearInterval(progress);
		pinging = false;
		await pinger;
	}

	// The room still works: a fresh peer is admitted, joins and sees the host.
	try {
		const { token } = await admit("Fresh peer");
		const fresh = await SignalingPeer.connect(baseUrl, room.roomId, token);
		const joined = await fresh.join();
		await fresh.request("ping", {});
		report.freshPeerJoined = Array.isArray((joined as { peers?: unknown }).peers) || joined !== undefined;
		fresh.close();
	} catch (error) {
		report.failures.push(`a fresh peer could not join after the run: ${(error as Error).message}`);
	}
	if (control.client.closed) report.failures.push("the control peer's connection was closed during the run");
	control.close();
	return report;
}
