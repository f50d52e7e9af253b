/**
 * (d) A burst of joins: `count` people arrive evenly over `spreadSeconds`,
 * each joining while the others are still on their way in. The room's host
 * sends a microphone and a camera (the shared replay); every joiner only
 * watches (no media of its own, so both systems forward the same streams).
 *
 * - product: the joiner knocks over HTTP and waits on its socket; the host's
 *   lobby socket shows the knock and the host admits it over the API at once;
 *   then protoo, capabilities and both transports, join, the SFU's
 *   newConsumer requests, DTLS. Per join: knock → first RTP packet of the
 *   host's video (and of its audio) at the joiner.
 * - bare mediasoup (the fan-out's bare system: the same worker binary, no
 *   product code, no lobby): transport, consume, DTLS. Per join: the first
 *   request → the first RTP packet.
 *
 * A consumer starts at a key frame, and a replayed file cannot make one on
 * request: the first video packet waits for the next key frame of the
 * replay (every 0.5 s in the tile profile), in both systems alike.
 */
import { HeadlessParticipant } from "@mindmeet/testing/headless-participant";
import type { HeadlessPeer } from "@mindmeet/testing/headless-webrtc";
import { type MediaProfile, startSharedFeed } from "@mindmeet/testing/media-feed";
import { freePort, startStack } from "../../stack.ts";
import { startBareMediasoup } from "../fanout/bare-mediasoup.ts";
import { childrenOf, cpuWindow, loadCore, pin, sfuCore } from "../fanout/cpu.ts";
import { publisherTracks } from "../fanout/media-source.ts";
import { admitEveryKnock, createRoom, crowdEnv } from "./room.ts";

export interface JoinBurstOptions {
	count: number;
	spreadSeconds: number;
	profile: MediaProfile;
	/** Joiners send a microphone and a camera too (product only): a room that fills as they come. */
	joinersSend?: boolean;
	/** Bound on one join, ms. */
	timeoutMs: number;
}

export interface JoinTimes {
	/** ms from the join's start (knock, or first request) to its first RTP packet of the host's video; NaN if none. */
	video: number[];
	audio: number[];
	/** product only: knock → admitted (token on the waiting socket). */
	admitted: number[];
	failures: string[];
	/** Over the burst: the SFU's processes and core 0 as a whole, % of one core (the rest is other load). */
	sfuPercent: number;
	corePercent: number;
}

const noTimes = (): JoinTimes => ({
	video: [],
	audio: [],
	admitted: [],
	failures: [],
	sfuPercent: Number.NaN,
	corePercent: Number.NaN,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Run `join(i)` for i = 0..count-1, the i-th started at i × spread / count. */
async function burst(count: number, spreadSeconds: number, join: (index: number) => Promise<void>): Promise<void> {
	const began = Date.now();
	await Promise.all(
		Array.from({ length: count }, async (_, index) => {
			await sleep(Math.max(0, began + (index * spreadSeconds * 1000) / count - Date.now()));
			await join(index);
		}),
	);
}

/** Waits (bounded) until `ready()` or the deadline, polling. */
async function until(ready: () => boolean, deadline: number): Promise<void> {
	while (!ready() && Date.now() < deadline) await sleep(20);
}

export async function productJoinBurst(options: JoinBurstOptions): Promise<JoinTimes> {
	const stack = await startStack({
		apiPort: await freePort(),
		rtcPort: 0,
		sfuWorkers: 1,
		output: "ignore",
		logLevel: "warn",
		env: crowdEnv({ maxPeers: 1000, peersPerRouter: 1000 }),
	});
	const times = noTimes();
	const people: HeadlessParticipant[] = [];
	const feed = await startSharedFeed(options.profile, ["taskset", "-c", String(loadCore)], { spreadMs: 20 });
	let lobby: WebSocket | undefined;
	try {
		const sfuPid = stack.pid("sfu");
		if (sfuPid === undefined) throw new Error("the SFU is not running");
		const sfuPids = [sfuPid, ...childrenOf(sfuPid)];
		for (const pid of sfuPids) pin(pid, sfuCore);
		for (const service of ["api", "redis"] as const) {
			const pid = stack.pid(service);
			if (pid !== undefined) pin(pid, loadCore);
		}
		const { roomId, hostToken } = await createRoom(stack);
		lobby = await admitEveryKnock(stack, roomId, hostToken, (message) => times.failures.push(message));
		const host = await HeadlessParticipant.enter(stack.url, roomId, hostToken, {
			name: "Host",
			sources: ["mic", "cam"],
			feed,
		});
		people.push(host);
		await host.connected();
		const hostId = host.peerId;
		const cpu = cpuWindow(sfuPids);
		await burst(options.count, options.spreadSeconds, async (index) => {
			const deadline = Date.now() + options.timeoutMs;
			try {
				const pending = await HeadlessParticipant.knock(stack.url, roomId, `Joiner ${index}`);
				const participant = await pending.enter({
					timeoutMs: options.timeoutMs,
					...(options.joinersSend ? { sources: ["mic", "cam"] as const, feed } : {}),
					watch: (consumer) => consumer.peerId === hostId,
				});
				people.push(participant);
				const first = (kind: "audio" | "video") => {
					const consumer = participant
						.consumers()
						.find((candidate) => candidate.peerId === hostId && candidate.kind === kind);
					return consumer ? participant.received(consumer.id)?.firstAt : undefined;
				};
				await until(() => first("video") !== undefined && first("audio") !== undefined, deadline);
				const video = first("video");
				const audio = first("audio");
				if (video === undefined || audio === undefined) throw new Error("no RTP of the host's video and audio");
				times.video.push(video - pending.knockedAt);
				times.audio.push(audio - pending.knockedAt);
				times.admitted.push((participant.timeline.admitted ?? Number.NaN) - pending.knockedAt);
			} catch (error) {
				times.failures.push(`join ${index}: ${(error as Error).message}`);
			}
		});
		const used = cpu.end();
		times.sfuPercent = used.systemPercent;
		times.corePercent = used.corePercent;
		return times;
	} finally {
		lobby?.close();
		await Promise.all(people.map((participant) => participant.close({ leave: false })));
		await feed.stop();
		await stack.stop();
	}
}

export async function bareJoinBurst(options: JoinBurstOptions): Promise<JoinTimes> {
	const times = noTimes();
	const system = await startBareMediasoup();
	const feed = await startSharedFeed(options.profile, ["taskset", "-c", String(loadCore)], { spreadMs: 20 });
	try {
		feed.attach(system.publisher, publisherTracks);
		await system.publisher.connected();
		// The payload types the bare router gives Opus and VP8 are the product's (same codec list).
		const first = (peer: HeadlessPeer, kind: "audio" | "video") =>
			peer.streams().find((stream) => (kind === "audio") === (stream.payloadType === opusPayloadType))?.firstAt;
		const cpu = cpuWindow(system.pids);
		await burst(options.count, options.spreadSeconds, async (index) => {
			const started = Date.now();
			const deadline = started + options.timeoutMs;
			try {
				const peer = await system.subscribe(index);
				await until(() => first(peer, "video") !== undefined && first(peer, "audio") !== undefined, deadline);
				const video = first(peer, "video");
				const audio = first(peer, "audio");
				if (video === undefined || audio === undefined) throw new Error("no RTP of the publisher's video and audio");
				times.video.push(video - started);
				times.audio.push(audio - started);
			} catch (error) {
				times.failures.push(`join ${index}: ${(error as Error).message}`);
			}
		});
		const used = cpu.end();
		times.sfuPercent = used.systemPercent;
		times.corePercent = used.corePercent;
		return times;
	} finally {
		await feed.stop();
		await system.stop();
	}
}

/** Opus's payload type in the product's router (first in its codec list, so mediasoup gives it 100). */
export const opusPayloadType = 100;
