/**
 * (c) Janus 1.1.2 (Debian's package), VideoRoom plugin: the publisher
 * publishes into a room over WebRTC (the same headless peer and feed as for
 * mediasoup) and each subscriber subscribes to its feed, so Janus does what
 * an SFU does per subscriber: one ICE/DTLS/SRTP session each, every packet
 * re-encrypted per subscriber. (The Streaming plugin would take ffmpeg's
 * plain RTP directly, skipping the publisher's SRTP decryption that the
 * mediasoup systems do; VideoRoom matches them.)
 *
 * Configuration is generated into a temporary directory: HTTP API on
 * 127.0.0.1 (one session, one handle per peer, one long poll for events),
 * admin API for reading a handle's negotiated SRTP profile, no session
 * timeout, only the VideoRoom plugin and the HTTP transport loaded, the
 * room's optional header extensions off (audio level, video orientation,
 * playout delay, transport-wide CC) as in the mediasoup systems.
 * `eventLoops` 0 keeps Janus's default threading (a thread and event loop
 * per handle); 1 sets `event_loops = 1` (all handles on one loop).
 *
 * libnice skips loopback interfaces when gathering candidates; with
 * `ice_enforce_list = "lo"` and an LD_PRELOAD shim that clears IFF_LOOPBACK
 * from getifaddrs() (no-loopback.c, compiled here on first use), Janus
 * gathers 127.0.0.1.
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { within } from "@mindmeet/testing/bounded";
import { HeadlessPeer, restrictOffer } from "@mindmeet/testing/headless-webrtc";
import { freePort } from "../../stack.ts";
import { pin, sfuCore } from "./cpu.ts";
import { benchCacheDir, publisherTracks } from "./media-source.ts";
import { subscriberOfferLimits } from "./mediasoup-params.ts";
import type { FanoutSystem } from "./system.ts";

export const janusDescription =
	"Janus runs its VideoRoom plugin (publisher → room → one subscriber handle per peer), with the room's optional header extensions off; its offer to each subscriber is narrowed to the same codecs, feedback and extensions before answering (it offers RTX, transport-cc, REMB and abs-send-time besides), and what was negotiated is read from its offer and the answer.";

const janusLib = "/usr/lib/x86_64-linux-gnu/janus";
const room = 1234;

function janusBinary(): string {
	try {
		return execFileSync("sh", ["-c", "command -v janus"], { encoding: "utf8" }).trim();
	} catch {
		throw new Error("janus is not installed: apt-get install janus (the fan-out benchmark's Janus)");
	}
}

/** The shim, built once per source version into the bench cache. */
function loopbackShim(): string {
	const source = join(fileURLToPath(new URL(".", import.meta.url)), "no-loopback.c");
	const hash = createHash("sha256").update(readFileSync(source)).digest("hex").slice(0, 12);
	const library = join(benchCacheDir, `no-loopback-${hash}.so`);
	if (existsSync(library)) return library;
	mkdirSync(benchCacheDir, { recursive: true });
	try {
		execFileSync("gcc", ["-shared", "-fPIC", "-O2", "-o", `${library}.tmp`, source, "-ldl"], { stdio: "inherit" });
	} catch {
		throw new Error("could not build the LD_PRELOAD shim for Janus: gcc is needed (apt-get install gcc libc6-dev)");
	}
	execFileSync("mv", [`${library}.tmp`, library]);
	return library;
}

function writeConfig(dir: string, httpPort: number, adminPort: number, adminSecret: string, eventLoops: number): void {
	const disabledPlugins = [
		"audiobridge",
		"duktape",
		"echotest",
		"lua",
		"nosip",
		"recordplay",
		"sip",
		"streaming",
		"textroom",
		"videocall",
		"voicemail",
	].map((name) => `libjanus_${name}.so`);
	const disabledTransports = ["mqtt", "nanomsg", "pfunix", "rabbitmq", "websockets"].map(
		(name) => `libjanus_${name}.so`,
	);
	writeFileSync(
		join(dir, "janus.jcfg"),
		`general: {
	configs_folder = "${dir}"
	plugins_folder = "${janusLib}/plugins"
	transports_folder = "${janusLib}/transports"
	events_folder = "${janusLib}/events"
	loggers_folder = "${janusLib}/loggers"
	debug_level = 3
	session_timeout = 0
	admin_secret = "${adminSecret}"
}
media: {
	rtp_port_range = "20000-40000"
${eventLoops > 0 ? `\tevent_loops = ${eventLoops}\n` : ""}}
nat: {
	nice_debug = false
	ice_enforce_list = "lo"
	ice_tcp = false
}
plugins: {
	disable = "${disabledPlugins.join(",")}"
}
transports: {
	disable = "${disabledTransports.join(",")}"
}
events: {
	broadcast = false
}
`,
	);
	writeFileSync(
		join(dir, "janus.transport.http.jcfg"),
		`general: {
	json = "plain"
	base_path = "/janus"
	http = true
	port = ${httpPort}
	ip = "127.0.0.1"
	https = false
}
admin: {
	admin_base_path = "/admin"
	admin_http = true
	admin_port = ${adminPort}
	admin_ip = "127.0.0.1"
	admin_https = false
}
`,
	);
	writeFileSync(
		join(dir, "janus.plugin.videoroom.jcfg"),
		`general: {
}
room-${room}: {
	description = "fanout"
	publishers = 1
	bitrate = 0
	fir_freq = 0
	audiocodec = "opus"
	videocodec = "vp8"
	audiolevel_ext = false
	audiolevel_event = false
	videoorient_ext = false
	playoutdelay_ext = false
	transport_wide_cc_ext = false
	notify_joining = false
}
`,
	);
}

interface JanusEvent {
	janus: string;
	sender?: number;
	transaction?: string;
	plugindata?: { data: Record<string, unknown> };
	jsep?: { type: string; sdp: string };
	data?: { id: number };
	error?: { code: number; reason: string };
}

/** The Janus HTTP API: one session, requests by POST, events by one long poll. */
class JanusSession {
	readonly #base: string;
	readonly #session: number;
	readonly #waiting = new Map<string, (event: JanusEvent) => void>();
	#polling = true;

	private constructor(base: string, session: number) {
		this.#base = base;
		this.#session = session;
		void this.#poll();
	}

	static async create(base: string): Promise<JanusSession> {
		const created = await post(base, { janus: "create" });
		if (!created.data) throw new Error(`janus create: ${JSON.stringify(created)}`);
		return new JanusSession(base, created.data.id);
	}

	get id(): number {
		return this.#session;
	}

	async attach(): Promise<number> {
		const attached = await post(`${this.#base}/${this.#session}`, {
			janus: "attach",
			plugin: "janus.plugin.videoroom",
		});
		if (!attached.data) throw new Error(`janus attach: ${JSON.stringify(attached)}`);
		return attached.data.id;
	}

	/** Send a plugin message; resolves with the plugin's asynchronous answer (the event with our transaction). */
	async message(
		handle: number,
		body: Record<string, unknown>,
		jsep?: { type: string; sdp: string },
	): Promise<JanusEvent> {
		const transaction = randomBytes(8).toString("hex");
		const answered = new Promise<JanusEvent>((resolve) => this.#waiting.set(transaction, resolve));
		const ack = await post(`${this.#base}/${this.#session}/${handle}`, {
			janus: "message",
			transaction,
			body,
			...(jsep ? { jsep } : {}),
		});
		if (ack.janus === "error") throw new Error(`janus message: ${JSON.stringify(ack.error)}`);
		if (ack.janus === "success") return ack;
		const event = await within(answered, 30_000, `janus ${String(body.request)}`);
		const data = event.plugindata?.data;
		if (data?.error) throw new Error(`janus ${String(body.request)}: ${String(data.error)}`);
		return event;
	}

	close(): void {
		this.#polling = false;
	}

	async #poll(): Promise<void> {
		while (this.#polling) {
			try {
				const response = await fetch(`${this.#base}/${this.#session}?maxev=100&rid=${Date.now()}`, {
					signal: AbortSignal.timeout(40_000),
				});
				const body = (await response.json()) as JanusEvent | JanusEvent[];
				for (const event of Array.isArray(body) ? body : [body]) {
					const waiter = event.transaction ? this.#waiting.get(event.transaction) : undefined;
					if (waiter && event.transaction && event.janus === "event") {
						this.#waiting.delete(event.transaction);
						waiter(event);
					}
				}
			} catch {
				if (!this.#polling) return;
				await new Promise((resolve) => setTimeout(resolve, 100));
			}
		}
	}
}

async function post(url: string, body: Record<string, unknown>): Promise<JanusEvent> {
	const response = await fetch(url, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ transaction: randomBytes(8).toString("hex"), ...body }),
		signal: AbortSignal.timeout(30_000),
	});
	return (await response.json()) as JanusEvent;
}

/** What an offer/answer pair settled on, per m-line: codec, RTCP feedback and header extensions both sides listed. */
function describeSdp(offer: string, answer: string): string {
	const sections = (sdp: string) => sdp.split(/\r?\n(?=m=)/).slice(1);
	const answered = sections(answer);
	return sections(offer)
		.map((section, index) => {
			const kind = section.match(/^m=(\w+)/)?.[1] ?? "?";
			const theirs = answered[index] ?? "";
			const payloadType = theirs.match(/^m=\w+ \d+ \S+ (\d+)/)?.[1];
			const codec = theirs.match(new RegExp(`a=rtpmap:${payloadType} ([^/\\r\\n]+)`))?.[1] ?? "?";
			const feedback = [...theirs.matchAll(new RegExp(`a=rtcp-fb:${payloadType} ([^\\r\\n]+)`, "g"))].map(
				(match) => match[1],
			);
			const offeredExtensions = new Set([...section.matchAll(/a=extmap:\d+\S* (\S+)/g)].map((match) => match[1]));
			const extensions = [...theirs.matchAll(/a=extmap:\d+\S* (\S+)/g)]
				.map((match) => match[1])
				.filter((uri) => uri && offeredExtensions.has(uri))
				.map((uri) => uri?.split(/[:/]/).pop());
			const rtx = /a=rtpmap:\d+ rtx\//.test(theirs) ? ", rtx" : "";
			return `${kind}: ${codec}${rtx}, feedback [${feedback.join(", ")}], extensions [${extensions.join(", ")}]`;
		})
		.join("; ");
}

export async function startJanus(options: { eventLoops: number }): Promise<FanoutSystem> {
	const binary = janusBinary();
	const shim = loopbackShim();
	const dir = mkdtempSync(join(tmpdir(), "mindmeet-janus-"));
	const [httpPort, adminPort] = [await freePort(), await freePort()];
	const adminSecret = randomBytes(12).toString("hex");
	writeConfig(dir, httpPort, adminPort, adminSecret, options.eventLoops);
	// Started on the SFU core: every thread it makes inherits the pinning.
	const child: ChildProcess = spawn(
		"taskset",
		["-c", String(sfuCore), binary, "-C", join(dir, "janus.jcfg"), "-F", dir],
		{
			env: { ...process.env, LD_PRELOAD: shim },
			stdio: ["ignore", "pipe", "pipe"],
		},
	);
	let output = "";
	const keep = (chunk: Buffer) => {
		output = (output + chunk.toString()).slice(-8000);
	};
	child.stdout?.on("data", keep);
	child.stderr?.on("data", keep);
	const base = `http://127.0.0.1:${httpPort}/janus`;
	const peers: HeadlessPeer[] = [];
	let session: JanusSession | undefined;
	const stop = async () => {
		session?.close();
		for (const peer of peers) peer.close();
		if (child.exitCode === null && child.signalCode === null) {
			const gone = new Promise((resolve) => child.once("exit", resolve));
			child.kill("SIGTERM");
			const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
			await gone;
			clearTimeout(timer);
		}
		rmSync(dir, { recursive: true, force: true });
	};
	try {
		for (let attempt = 0; ; attempt++) {
			if (child.exitCode !== null) throw new Error(`janus exited (${child.exitCode}):\n${output}`);
			try {
				if ((await fetch(`${base}/info`, { signal: AbortSignal.timeout(1_000) })).ok) break;
			} catch {
				// not listening yet
			}
			if (attempt > 300) throw new Error(`janus did not answer on ${base} within 30 s:\n${output}`);
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
		if (child.pid === undefined) throw new Error("janus has no pid");
		// taskset exec()s janus: same pid. Pin again in case threads started before the exec settled.
		pin(child.pid, sfuCore);
		const janus = await JanusSession.create(base);
		session = janus;

		const publisher = new HeadlessPeer("janus-publisher");
		peers.push(publisher);
		const publisherHandle = await janus.attach();
		const offer = await publisher.offer(publisherTracks);
		const joined = await janus.message(
			publisherHandle,
			{ request: "joinandconfigure", room, ptype: "publisher", display: "publisher", audio: true, video: true },
			{ type: "offer", sdp: offer },
		);
		if (!joined.jsep) throw new Error(`janus gave the publisher no answer: ${JSON.stringify(joined)}`);
		publisher.accept(joined.jsep.sdp);
		await publisher.connected();
		const feed = joined.plugindata?.data.id;
		if (typeof feed !== "number" && typeof feed !== "string") throw new Error("janus gave the publisher no feed id");

		let negotiated = "";
		return {
			name: options.eventLoops > 0 ? `Janus (event_loops = ${options.eventLoops})` : "Janus (default threading)",
			pids: [child.pid],
			roles: ["janus"],
			publisher,
			get negotiated() {
				return negotiated;
			},
			async subscribe(index) {
				const peer = new HeadlessPeer(`janus-subscriber-${index}`);
				peers.push(peer);
				const handle = await janus.attach();
				const attached = await janus.message(handle, {
					request: "join",
					room,
					ptype: "subscriber",
					streams: [{ feed }],
				});
				if (!attached.jsep) throw new Error(`janus gave subscriber ${index} no offer`);
				// Narrowed to what the mediasoup subscribers negotiate (no RTX, transport-cc, REMB, abs-send-time).
				const answer = await peer.answer(restrictOffer(attached.jsep.sdp, subscriberOfferLimits));
				await janus.message(handle, { request: "start" }, { type: "answer", sdp: answer });
				await peer.connected();
				if (!negotiated) {
					negotiated = describeSdp(attached.jsep.sdp, answer);
					const profile = await srtpProfile(adminPort, adminSecret, janus.id, handle);
					negotiated += `; SRTP ${profile}`;
				}
				return peer;
			},
			stop,
		};
	} catch (error) {
		await stop();
		throw error;
	}
}

/** The SRTP profile Janus negotiated on a handle, from the admin API's handle_info. */
async function srtpProfile(adminPort: number, secret: string, session: number, handle: number): Promise<string> {
	try {
		const info = (await post(`http://127.0.0.1:${adminPort}/admin/${session}/${handle}`, {
			janus: "handle_info",
			admin_secret: secret,
		})) as JanusEvent & { info?: { webrtc?: { dtls?: Record<string, unknown> } } };
		const dtls = info.info?.webrtc?.dtls;
		return String(dtls?.["srtp-profile"] ?? "unknown");
	} catch (error) {
		return `unknown (${(error as Error).message})`;
	}
}
