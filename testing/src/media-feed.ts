/**
 * Media for many headless publishers from one ffmpeg: a test pattern and a
 * tone encoded once (cached under ~/.cache/mindmeet/bench/), replayed in
 * real time with `ffmpeg -re -stream_loop -1 -c copy -f rtp` (no encoding
 * while measuring: about 1% of a core) into two local UDP sockets, and every
 * packet forwarded into the send tracks of every attached peer, each with
 * its own SSRCs and payload types (see HeadlessPeer.sendRtp). So fifty
 * participants cost one ffmpeg, and what they send is real VP8 and Opus
 * that the SFU parses (key frames, picture ids) like a browser's.
 *
 * Each attached peer keeps its own RTP sequence numbers: a peer that stops
 * sending a track (nobody watches its camera: see producerDemand) and
 * starts again continues where it stopped, as a browser's encoder does;
 * otherwise the SFU would read the pause as the publisher's loss (and ask
 * for the missing packets with NACKs nobody answers).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { HeadlessPeer, SendTrackSpec } from "./headless-webrtc.ts";

export const mediaCacheDir = join(homedir(), ".cache/mindmeet/bench");

/** What a file is encoded as. Bump `version` when an encoding changes, so a stale cached file is not replayed. */
export interface MediaProfile {
	name: string;
	version: number;
	/** e.g. "640x360". */
	size: string;
	fps: number;
	videoKbps: number;
	/**
	 * Frames between key frames. A headless publisher cannot answer the
	 * SFU's key frame requests (the file is replayed, not encoded), and a
	 * consumer starts at a key frame: a new viewer's first video waits up
	 * to this long.
	 */
	keyFrameInterval: number;
	audioKbps: number;
}

/** The fan-out benchmark's publisher: VP8 ~500 kbps at 640×360, 30 fps, a key frame every 2 s; Opus 48 kbps. */
export const fullProfile: MediaProfile = {
	name: "full",
	version: 1,
	size: "640x360",
	fps: 30,
	videoKbps: 500,
	keyFrameInterval: 60,
	audioKbps: 48,
};

/**
 * A small tile's layer: what the web client's low simulcast encoding sends
 * (half resolution, at most 150 kbps; see web/src/call/media-layer.ts),
 * 320×180 at 30 fps, with a key frame every 0.5 s so a new viewer's first
 * picture does not wait long for one; Opus 48 kbps.
 */
export const tileProfile: MediaProfile = {
	name: "tile",
	version: 1,
	size: "320x180",
	fps: 30,
	videoKbps: 150,
	keyFrameInterval: 15,
	audioKbps: 48,
};

/**
 * For join timings: the tile layer with a key frame every 100 ms. A
 * browser answers a new viewer's key frame request at once; a replay cannot,
 * so this stands in for that answer (the first video waits at most 100 ms
 * for a key frame instead of up to a whole key frame interval).
 */
export const joinProfile: MediaProfile = { ...tileProfile, name: "join", keyFrameInterval: 3 };

function ffmpegBinary(): string {
	try {
		return execFileSync("sh", ["-c", "command -v ffmpeg"], { encoding: "utf8" }).trim();
	} catch {
		throw new Error("ffmpeg is not installed: apt-get install ffmpeg (headless publishers replay a file through it)");
	}
}

/** The encoded file of `profile` (10 s, looped when replayed), made on first use. */
export function encodedMedia(profile: MediaProfile = fullProfile): string {
	const path = join(mediaCacheDir, `media-${profile.name}-v${profile.version}.webm`);
	if (existsSync(path)) return path;
	mkdirSync(mediaCacheDir, { recursive: true });
	const partial = `${path}.partial.webm`;
	const rate = `${profile.videoKbps}k`;
	execFileSync(
		ffmpegBinary(),
		[
			...["-hide_banner", "-loglevel", "error", "-y"],
			...["-f", "lavfi", "-i", `testsrc2=size=${profile.size}:rate=${profile.fps}`],
			...["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"],
			...["-t", "10"],
			...["-c:v", "libvpx", "-b:v", rate, "-minrate", rate, "-maxrate", rate, "-deadline", "realtime"],
			...["-cpu-used", "8", "-g", String(profile.keyFrameInterval), "-auto-alt-ref", "0"],
			...["-c:a", "libopus", "-b:a", `${profile.audioKbps}k`, "-ac", "2", "-ar", "48000"],
			partial,
		],
		{ stdio: ["ignore", "ignore", "inherit"], timeout: 300_000 },
	);
	renameSync(partial, path);
	return path;
}

function bindSocket(onMessage: (packet: Buffer) => void): Promise<Socket> {
	return new Promise((resolve, reject) => {
		const socket = createSocket("udp4");
		socket.on("message", onMessage);
		socket.once("error", reject);
		socket.bind(0, "127.0.0.1", () => resolve(socket));
	});
}

/** One attached peer: its send tracks get the feed's packets while it sends them. */
export interface FeedSink {
	/** Stop or start sending one kind (the track stays open; sequence numbers continue where they stopped). */
	setSending(kind: "audio" | "video", sending: boolean): void;
	sending(kind: "audio" | "video"): boolean;
	/** Stop forwarding into this peer altogether. */
	detach(): void;
}

export interface SharedMediaFeed {
	readonly profile: MediaProfile;
	/** The ffmpeg process (its CPU is part of the load). */
	readonly pid: number | undefined;
	/**
	 * Forward the feed into `peer`'s send tracks: the audio packets into
	 * the track of `tracks`' audio spec, the video packets into its video
	 * spec (either may be absent), stamped with their SSRCs and payload types.
	 */
	attach(peer: HeadlessPeer, tracks: readonly SendTrackSpec[]): FeedSink;
	/** Packets forwarded into peers so far, and those not sent (track not open yet). */
	forwarded(): { sent: number; dropped: number };
	stop(): Promise<void>;
}

class Sink implements FeedSink {
	readonly #peer: HeadlessPeer;
	readonly #onDetach: (sink: Sink) => void;
	readonly #tracks = new Map<"audio" | "video", { mid: string; sending: boolean; offset: number; next: number }>();

	constructor(peer: HeadlessPeer, tracks: readonly SendTrackSpec[], onDetach: (sink: Sink) => void) {
		this.#peer = peer;
		this.#onDetach = onDetach;
		for (const spec of tracks) this.#tracks.set(spec.kind, { mid: spec.mid, sending: true, offset: 0, next: -1 });
	}

	setSending(kind: "audio" | "video", sending: boolean): void {
		const track = this.#tracks.get(kind);
		if (track) track.sending = sending;
	}

	sending(kind: "audio" | "video"): boolean {
		return this.#tracks.get(kind)?.sending === true;
	}

	detach(): void {
		this.#onDetach(this);
	}

	/** Send one packet of `kind`; the buffer is rewritten in place (the peer copies it before returning). */
	forward(kind: "audio" | "video", packet: Buffer): boolean | undefined {
		const track = this.#tracks.get(kind);
		if (!track?.sending || packet.length < 12) return undefined;
		const seq = packet.readUInt16BE(2);
		// The first packet after a pause continues this track's own numbering.
		if (track.next >= 0 && ((seq + track.offset) & 0xffff) !== track.next) {
			track.offset = (track.next - seq) & 0xffff;
		}
		const out = (seq + track.offset) & 0xffff;
		packet.writeUInt16BE(out, 2);
		track.next = (out + 1) & 0xffff;
		return this.#peer.sendRtp(track.mid, packet);
	}
}

export interface SharedFeedOptions {
	/**
	 * Spread the attached peers' copies of each packet over this many ms
	 * (default 0: all at once). Fifty browsers do not send their frames in
	 * the same millisecond; fifty peers fed from one replay would, and the
	 * SFU's socket would take them as one burst no real room makes. The
	 * peers are dealt into `spreadGroups` groups (default 8), each sent
	 * `spreadMs / spreadGroups` after the previous one.
	 */
	spreadMs?: number;
	spreadGroups?: number;
	/**
	 * Replay speed (ffmpeg's -readrate; default 1, real time). Below 1 every
	 * stream sends fewer packets per second (0.5: half as many) with the
	 * same contents: for a load that would not fit the machine at full rate,
	 * its per-packet costs scale back up.
	 */
	readRate?: number;
}

/**
 * Start replaying `profile` (until stopped); attach peers to it. `prefix`
 * wraps the ffmpeg command (e.g. taskset, to keep it off a measured core).
 */
export async function startSharedFeed(
	profile: MediaProfile = fullProfile,
	prefix: readonly string[] = [],
	options: SharedFeedOptions = {},
): Promise<SharedMediaFeed> {
	const file = encodedMedia(profile);
	const spreadMs = Math.max(0, options.spreadMs ?? 0);
	const groupCount = spreadMs > 0 ? Math.max(1, Math.floor(options.spreadGroups ?? 8)) : 1;
	const groups: Set<Sink>[] = Array.from({ length: groupCount }, () => new Set<Sink>());
	let attached = 0;
	let sent = 0;
	let dropped = 0;
	let stopped = false;
	const sendTo = (group: Set<Sink>, kind: "audio" | "video", packet: Buffer) => {
		// Each sink rewrites SSRC, payload type and sequence number in place, then the peer copies it.
		for (const sink of group) {
			const result = sink.forward(kind, packet);
			if (result === true) sent++;
			else if (result === false) dropped++;
		}
	};
	const forward = (kind: "audio" | "video") => (packet: Buffer) => {
		groups.forEach((group, index) => {
			if (group.size === 0) return;
			if (index === 0) {
				sendTo(group, kind, packet);
				return;
			}
			const copy = Buffer.from(packet);
			setTimeout(
				() => {
					if (!stopped) sendTo(group, kind, copy);
				},
				(index * spreadMs) / groupCount,
			);
		});
	};
	const sockets = [
		await bindSocket(forward("video")),
		// ffmpeg sends RTCP (sender reports) to port + 1 unless told: give it a sink, so no ICMP errors come back.
		await bindSocket(() => {}),
		await bindSocket(forward("audio")),
		await bindSocket(() => {}),
	];
	const [videoRtp, videoRtcp, audioRtp, audioRtcp] = sockets.map((socket) => socket.address().port);
	const command = [
		ffmpegBinary(),
		...["-hide_banner", "-loglevel", "error", "-nostdin"],
		...(options.readRate === undefined || options.readRate === 1 ? ["-re"] : ["-readrate", String(options.readRate)]),
		...["-stream_loop", "-1", "-i", file],
		...["-map", "0:v", "-c", "copy", "-f", "rtp", `rtp://127.0.0.1:${videoRtp}?rtcpport=${videoRtcp}`],
		...["-map", "0:a", "-c", "copy", "-f", "rtp", `rtp://127.0.0.1:${audioRtp}?rtcpport=${audioRtcp}`],
	];
	const all = [...prefix, ...command];
	const child: ChildProcess = spawn(all[0] as string, all.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
	let stderr = "";
	child.stderr?.on("data", (chunk: Buffer) => {
		stderr = (stderr + chunk.toString()).slice(-2000);
	});
	let stopping = false;
	child.once("exit", (code, signal) => {
		if (!stopping && signal === null && code !== 0) console.error(`media feed: ffmpeg exited (${code}): ${stderr}`);
	});
	return {
		profile,
		pid: child.pid,
		attach(peer, tracks) {
			const group = groups[attached++ % groupCount] as Set<Sink>;
			const sink = new Sink(peer, tracks, (gone) => group.delete(gone));
			group.add(sink);
			return sink;
		},
		forwarded: () => ({ sent, dropped }),
		async stop() {
			stopping = true;
			stopped = true;
			for (const group of groups) group.clear();
			if (child.exitCode === null && child.signalCode === null) {
				const gone = new Promise((resolve) => child.once("exit", resolve));
				child.kill("SIGTERM");
				const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
				await gone;
				clearTimeout(timer);
			}
			for (const socket of sockets) socket.close();
		},
	};
}
