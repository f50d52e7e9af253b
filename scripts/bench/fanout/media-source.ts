/**
 * The fan-out publisher's media: testing/src/media-feed.ts's full profile (a
 * test pattern and a tone encoded once, VP8 ~500 kbps at 640×360 and Opus,
 * replayed in real time by ffmpeg without encoding: about 1% of a core),
 * forwarded into one WebRTC publisher's send tracks with the SSRCs and
 * payload types below. Every system under test gets its media this same
 * way: from a WebRTC publisher, as from a browser.
 */
import type { HeadlessPeer, SendTrackSpec } from "@mindmeet/testing/headless-webrtc";
import { fullProfile, mediaCacheDir, startSharedFeed } from "@mindmeet/testing/media-feed";

/** Where built helpers (the Janus loopback shim) and encoded files are cached. */
export const benchCacheDir = mediaCacheDir;

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

export interface MediaFeed {
	/** RTP packets forwarded into the publisher's tracks so far (and those dropped: track not open). */
	forwarded(): { sent: number; dropped: number };
	stop(): Promise<void>;
}

/**
 * Replay the full profile into `publisher`'s send tracks (see
 * publisherTracks) until stopped. `prefix` wraps the ffmpeg command (e.g.
 * taskset, to keep it off the SFU's core).
 */
export async function startFeed(publisher: HeadlessPeer, prefix: readonly string[] = []): Promise<MediaFeed> {
	const feed = await startSharedFeed(fullProfile, prefix);
	feed.attach(publisher, publisherTracks);
	return { forwarded: () => feed.forwarded(), stop: () => feed.stop() };
}
