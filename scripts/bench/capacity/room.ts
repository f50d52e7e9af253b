/**
 * One product room full of headless participants (testing/src/headless-participant.ts):
 * the real stack (Redis, API, SFU with its workers), a host who enters with
 * its token and admits every knock from its lobby socket as it arrives (as
 * the host's page does, with no human delay), and guests who knock over
 * HTTP, wait, enter, and send a microphone and a camera from one shared
 * ffmpeg replay. Each participant shows at most `visibleVideos` of the
 * others' cameras (the first ones offered to it: those already in when it
 * joined, then newcomers, as a grid page without speakers); the rest it
 * pauses as the web client pauses off-page tiles. Everyone's audio is
 * always consumed.
 *
 * Pinning: the SFU's node process and workers on `sfuCores`, everything
 * else (API, Redis, this process with every participant, ffmpeg) on the
 * load core.
 */
import type { LobbyHostEvent } from "@mindmeet/protocol";
import { HeadlessParticipant } from "@mindmeet/testing/headless-participant";
import { type MediaProfile, type SharedMediaFeed, startSharedFeed } from "@mindmeet/testing/media-feed";
import { admitOverHttp, createRoomOverHttp } from "@mindmeet/testing/signaling-peer";
import { freePort, type Stack, startStack } from "../../stack.ts";
import { childrenOf, loadCore, pin } from "../fanout/cpu.ts";

export interface CapacityRoomOptions {
	/** mediasoup workers in the SFU. */
	workers: number;
	/** SFU_ROOM_PEERS_PER_ROUTER: people per router before the room takes another worker. */
	peersPerRouter: number;
	/** ROOM_MAX_PEERS. */
	maxPeers: number;
	/** taskset list for the SFU's node process and workers. */
	sfuCores: string;
	profile: MediaProfile;
	/** Cameras each participant shows at once (the rest of its video consumers paused). */
	visibleVideos: number;
	/** Participants entering at once while the room fills. */
	concurrency: number;
	/** Replay speed of the shared feed (default 1; see SharedFeedOptions.readRate). */
	readRate?: number;
	/**
	 * How many participants (the host and the first guests) count the RTP
	 * they receive; the others receive it all the same but skip the
	 * per-packet hand-over to JavaScript (see HeadlessPeerOptions.countRtp),
	 * so the load side costs less. Default: everyone counts.
	 */
	counting?: number;
}

export interface CapacityRoom {
	readonly stack: Stack;
	readonly roomId: string;
	readonly host: HeadlessParticipant;
	/** Everyone, the host first, in the order they entered. */
	readonly participants: readonly HeadlessParticipant[];
	readonly sfuPid: number;
	readonly workerPids: readonly number[];
	/** This side's processes (besides this one): API, Redis, ffmpeg. */
	readonly loadPids: readonly number[];
	readonly feed: SharedMediaFeed;
	/** Fill the room up to `total` participants (host included). */
	fill(total: number): Promise<void>;
	stop(): Promise<void>;
}

/** The host's lobby socket: every knock admitted over the API the moment it is shown. */
export async function admitEveryKnock(
	stack: Stack,
	roomId: string,
	hostToken: string,
	onError: (message: string) => void,
): Promise<WebSocket> {
	const url = new URL(`/api/rooms/${encodeURIComponent(roomId)}/lobby`, stack.url.replace(/^http/, "ws"));
	url.searchParams.set("token", hostToken);
	const socket = new WebSocket(url);
	const admit = (knockId: string) => {
		admitOverHttp(stack.url, roomId, knockId, hostToken).catch((error: Error) => onError(error.message));
	};
	socket.addEventListener("message", (event) => {
		const data = JSON.parse(String(event.data)) as LobbyHostEvent;
		if (data.type === "knocks") for (const knock of data.knocks) admit(knock.id);
		else if (data.type === "knock") admit(data.knock.id);
	});
	await new Promise<void>((resolve, reject) => {
		socket.addEventListener("open", () => resolve(), { once: true });
		socket.addEventListener("error", () => reject(new Error("the host's lobby socket did not open")), { once: true });
	});
	return socket;
}

export function createRoom(stack: Stack): Promise<{ roomId: string; hostToken: string }> {
	return createRoomOverHttp(stack.url, "Host");
}

/** Environment for a stack that takes a benchmark's crowd from one address. */
export function crowdEnv(options: { maxPeers: number; peersPerRouter: number }): Record<string, string> {
	return {
		KNOCK_RATE_LIMIT: "100000",
		ROOM_CREATE_RATE_LIMIT: "100000",
		KNOCKS_PENDING_MAX: "10000",
		ROOM_MAX_PEERS: String(options.maxPeers),
		SFU_ROOM_PEERS_PER_ROUTER: String(options.peersPerRouter),
		// Every participant lives in one process whose event loop lags when its core is full (a 50-person
		// room); a browser's would not. Without a longer grace the SFU reads that lag as a dead connection
		// and drops the participant (seen once, as a closed peer connection while the room filled).
		SIGNALING_KEEPALIVE_GRACE_SECONDS: "60",
	};
}

export async function startCapacityRoom(options: CapacityRoomOptions): Promise<CapacityRoom> {
	const stack = await startStack({
		apiPort: await freePort(),
		rtcPort: 0,
		sfuWorkers: options.workers,
		output: "ignore",
		logLevel: "warn",
		env: crowdEnv(options),
	});
	const participants: HeadlessParticipant[] = [];
	let feed: SharedMediaFeed | undefined;
	let lobby: WebSocket | undefined;
	const stop = async () => {
		lobby?.close();
		// Leaving one by one would make the SFU tell everyone else each time: just drop them, the room ends with the stack.
		await Promise.all(participants.map((participant) => participant.close({ leave: false })));
		await feed?.stop();
		await stack.stop();
	};
	try {
		const sfuPid = stack.pid("sfu");
		if (sfuPid === undefined) throw new Error("the SFU is not running");
		const workerPids = childrenOf(sfuPid);
		if (workerPids.length !== options.workers) {
			throw new Error(`expected ${options.workers} mediasoup workers under the SFU, found ${workerPids.length}`);
		}
		for (const pid of [sfuPid, ...workerPids]) pin(pid, options.sfuCores);
		const loadPids: number[] = [];
		for (const service of ["api", "redis"] as const) {
			const pid = stack.pid(service);
			if (pid !== undefined) {
				pin(pid, loadCore);
				loadPids.push(pid);
			}
		}
		// Browsers' frames do not all leave in the same millisecond: spread the copies over an audio packet's 20 ms.
		feed = await startSharedFeed(options.profile, ["taskset", "-c", String(loadCore)], {
			spreadMs: 20,
			...(options.readRate === undefined ? {} : { readRate: options.readRate }),
		});
		if (feed.pid !== undefined) loadPids.push(feed.pid);
		const { roomId, hostToken } = await createRoom(stack);
		const errors: string[] = [];
		lobby = await admitEveryKnock(stack, roomId, hostToken, (message) => errors.push(message));
		const sharedFeed = feed;
		const watchFirst = () => {
			let shown = 0;
			return (consumer: { kind: string }) => consumer.kind === "video" && shown++ < options.visibleVideos;
		};
		const host = await HeadlessParticipant.enter(stack.url, roomId, hostToken, {
			name: "Host",
			sources: ["mic", "cam"],
			feed: sharedFeed,
			watch: watchFirst(),
		});
		participants.push(host);
		let named = 1;
		return {
			stack,
			roomId,
			host,
			participants,
			sfuPid,
			workerPids,
			loadPids,
			feed: sharedFeed,
			async fill(total) {
				await Promise.all(
					Array.from({ length: options.concurrency }, async () => {
						while (named < total) {
							const index = named++;
							const pending = await HeadlessParticipant.knock(stack.url, roomId, `Guest ${index}`);
							const participant = await pending.enter({
								countRtp: index < (options.counting ?? Number.POSITIVE_INFINITY),
								sources: ["mic", "cam"],
								feed: sharedFeed,
								watch: watchFirst(),
							});
							participants.push(participant);
						}
					}),
				);
				if (errors.length > 0) throw new Error(errors.join("; "));
				// Everyone has everyone's microphone and camera (paused or not) before anything is measured.
				const others = total - 1;
				await Promise.all(participants.map((participant) => participant.consumersAtLeast(2 * others, 60_000)));
				await Promise.all(
					participants.map((participant) =>
						participant.connected().catch((error: Error) => {
							throw new Error(`${participant.name}: ${error.message}`);
						}),
					),
				);
			},
			stop,
		};
	} catch (error) {
		await stop();
		throw error;
	}
}
