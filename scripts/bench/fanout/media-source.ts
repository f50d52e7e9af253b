/**
 * The synthetic publisher's media: a test pattern and a tone, encoded once
 * (VP8 ~500 kbps, Opus) into a file cached under ~/.cache/mindmeet/bench/,
 * then replayed in real time with `ffmpeg -re -stream_loop -1 -c copy -f rtp`
 * (no encoding while measuring: about 1% of a core) into two local UDP
 * sockets, from which every packet is forwarded into a WebRTC peer's send
 * tracks (re-stamped with the negotiated SSRC and payload type). Every
 * system under test gets its media this same way: from a WebRTC publisher,
 * as from a browser.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { HeadlessPeer, SendTrackSpec } from "@mindmeet/testing/headless-webrtc";

export const benchCacheDir = join(homedir(), ".cache/mindmeet/bench");

/** Bump when the encoding below changes, so a stale cached file is not replayed. */
const sourceVersion = 1;

/** The publisher's two tracks, as every system negotiates them (payload types and SSRCs are ours to choose). */
export const publisherTracks: readonly SendTrackSpec[] = [
	{ kind: "audio", mid: "0", payloadType: 100, ssrc: 0x1a2b3c01, codec: "opus", cname: "fanout-publisher" },
	{ kind: "video", mid: "1", payloadType: 101, ssrc: 0x1a2b3c02, codec: "VP8", cname: "fanout-publisher" },
];

/** RTCP feedback every system is given for VP8 (what the subscribers "support"); none for Opus. */
export const videoFeedback = [
	{ type: "nack" },
	{ type: "nack", parameter: "pli" },
	{ type: "ccm", parameter: "fir" },
] as const;

function ffmpegBinary(): string {
	try {
		return execFileSync("sh", ["-c", "command -v ffmpeg"], { encoding: "utf8" }).trim();
	} catch {
		throw new Error("ffmpeg is not installed: apt-get install ffmpeg (the fan-out benchmark's publisher)");
	}
}

/** The encoded file, made on first use (10 s of 640×360 at 30 fps: VP8 500 kbps, key frame every 2 s; Opus 48 kbps). */
export function encodedSource(): string {
	const path = join(benchCacheDir, `fanout-source-v${sourceVersion}.webm`);
	if (existsSync(path)) return path;
	mkdirSync(benchCacheDir, { recursive: true });
	const partial = `${path}.partial.webm`;
	execFileSync(
		ffmpegBinary(),
		[
			...["-hide_banner", "-loglevel", "error", "-y"],
			...["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30"],
			...["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"],
			...["-t", "10"],
			...["-c:v", "libvpx", "-b:v", "500k", "-minrate", "500k", "-maxrate", "500k", "-deadline", "realtime"],
			...["-cpu-used", "8", "-g", "60", "-auto-alt-ref", "0"],
			...["-c:a", "libopus", "-b:a", "48k", "-ac", "2", "-ar", "48000"],
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

export interface MediaFeed {
	/** RTP packets forwarded into the publisher's tracks so far (and those dropped: track not open). */
	forwarded(): { sent: number; dropped: number };
	stop(): Promise<void>;
}

/**
 * Replay the encoded file into `publisher`'s send tracks (see
 * publisherTracks) until stopped. `prefix` wraps the ffmpeg command (e.g.
 * taskset, to keep it off the SFU's core).
 */
export async function startFeed(publisher: HeadlessPeer, prefix: readonly string[] = []): Promise<MediaFeed> {
	const file = encodedSource();
	let sent = 0;
	let dropped = 0;
	const forward = (mid: string) => (packet: Buffer) => {
		if (publisher.sendRtp(mid, packet)) sent++;
		else dropped++;
	};
	const audio = publisherTracks.find((track) => track.kind === "audio");
	const video = publisherTracks.find((track) => track.kind === "video");
	if (!audio || !video) throw new Error("the publisher has an audio and a video track");
	const sockets = [
		await bindSocket(forward(video.mid)),
		// ffmpeg sends RTCP (sender reports) to port + 1 unless told: give it a sink, so no ICMP errors come back.
		await bindSocket(() => {}),
		await bindSocket(forward(audio.mid)),
		await bindSocket(() => {}),
	];
	const [videoRtp, videoRtcp, audioRtp, audioRtcp] = sockets.map((socket) => socket.address().port);
	const command = [
		ffmpegBinary(),
		...["-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-stream_loop", "-1", "-i", file],
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
		if (!stopping && signal === null && code !== 0) console.error(`fanout: ffmpeg exited (${code}): ${stderr}`);
	});
	return {
		forwarded: () => ({ sent, dropped }),
		async stop() {
			stopping = true;
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
