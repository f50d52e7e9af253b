import {
	type ChatMessage,
	type ClientRequestMethod,
	type ClientRequests,
	type MediaSource,
	type PeerInfo,
	type PeerRole,
	type RefusalReason,
	type RoomMode,
	type ServerNotificationMethod,
	type ServerNotifications,
	type ServerRequests,
	signalingRoomParam,
	signalingTokenParam,
	type WebRtcTransportInfo,
} from "@mindmeet/protocol";
import { Device } from "mediasoup-client";
import type { Consumer, MediaKind, Producer, Transport } from "mediasoup-client/types";
import { Peer, WebSocketTransport } from "protoo-client";
import { createStore, produce, type SetStoreFunction } from "solid-js/store";
import { socketOrigin } from "../api/http.ts";
import { getIceServers } from "../api/rooms.ts";
import { acquireDevice, acquireTracks, captureScreen, type LocalTracks, stopTracks } from "../media/devices.ts";

/** One person in the call, as the call screen shows them. */
export interface CallPeer {
	id: string;
	name: string;
	role: PeerRole;
	isSelf: boolean;
	audioTrack?: MediaStreamTrack;
	videoTrack?: MediaStreamTrack;
	/** A shared screen, window or tab (never paused: sharing stops by closing it). */
	screenTrack?: MediaStreamTrack;
	/** Paused by its sender (remote) or by us (self): keep the track but show it as off. */
	audioPaused: boolean;
	videoPaused: boolean;
}

export interface CallState {
	/** `joined` once the SFU has let us in; `ended` after leave() or any end. */
	status: "connecting" | "joined" | "ended";
	/**
	 * The connection to the SFU dropped after we had joined and is being
	 * retried; the call stays on screen (status `joined`) meanwhile.
	 */
	reconnecting: boolean;
	mode: RoomMode;
	selfId: string | undefined;
	/** By peer id, in the order they became known (ourselves first). */
	peers: Record<string, CallPeer>;
	/** Who the SFU hears speaking now, loudest first; it never lists muted microphones. */
	speaking: readonly string[];
}

/**
 * How a call ended without the person asking to leave. `kicked` covers both the
 * notification and a later refusal of the revoked token: either way the host
 * removed us.
 */
export type CallEnd =
	| { kind: "refused"; reason: Exclude<RefusalReason, "token-revoked">; message: string }
	| { kind: "kicked" }
	| { kind: "room-closed" }
	| { kind: "disconnected" }
	| { kind: "failed"; error: unknown };

/** Things worth telling the person while the call goes on. */
export type CallNotice =
	| { kind: "peer-joined"; name: string }
	| { kind: "peer-left"; name: string }
	| { kind: "became-host" }
	/** Back after a drop (state.reconnecting tells when it dropped). */
	| { kind: "reconnected" };

export interface CallSessionOptions {
	roomId: string;
	/** From RoomInfo: an absolute ws(s) URL or a path on this origin. */
	sfuUrl: string;
	token: string;
	mode: RoomMode;
	/** Called once when the call ends on its own (never after leave()). */
	onEnded: (end: CallEnd) => void;
	onNotice: (notice: CallNotice) => void;
	/**
	 * Chat messages: `history` is the room's record sent on every (re)join
	 * (it repeats messages already seen), `live` one that was just posted.
	 */
	onChat: (messages: readonly ChatMessage[], origin: "history" | "live") => void;
}

type LocalSource = Extract<MediaSource, "mic" | "cam">;
type NewConsumer = ServerRequests["newConsumer"]["request"];

interface ConsumerEntry {
	consumer: Consumer;
	peerId: string;
	source: MediaSource;
	/** Simulcast layer last asked of the SFU for this consumer (cameras only). */
	layer?: number;
}

/** Signaling may stall; leaving must not wait for it longer than this. */
const leaveTimeoutMs = 1000;

/**
 * How protoo retries the socket (also after a drop, from scratch): about ten
 * seconds of tries, enough for a network switch or a Wi-Fi hiccup, short
 * enough that someone truly offline learns it soon.
 */
const socketRetry = { retries: 5, factor: 2, minTimeout: 500, maxTimeout: 4000 };

/**
 * Thrown inside the join sequence when the session ended, or the connection it
 * was running on dropped, meanwhile; never reported.
 */
class SessionEnded extends Error {}

/** The protoo WebSocket URL for a room: relative SFU paths resolve against this page's origin. */
export function signalingUrl(sfuUrl: string, roomId: string, token: string): string {
	const url = new URL(sfuUrl.startsWith("/") ? `${socketOrigin()}${sfuUrl}` : sfuUrl);
	url.searchParams.set(signalingTokenParam, token);
	url.searchParams.set(signalingRoomParam, roomId);
	return url.toString();
}

function isMediaSource(value: unknown): value is MediaSource {
	return value === "mic" || value === "cam" || value === "screen";
}

const kindOf = (source: MediaSource): MediaKind => (source === "mic" ? "audio" : "video");

/** Where a source's track goes on a CallPeer, with its paused flag (a screen has none). */
function trackPatch(source: MediaSource, track: MediaStreamTrack | undefined, paused: boolean): Partial<CallPeer> {
	if (source === "mic") return { audioTrack: track, audioPaused: paused };
	if (source === "cam") return { videoTrack: track, videoPaused: paused };
	return { screenTrack: track };
}

/**
 * The camera goes out in two simulcast layers (half and full resolution), so
 * the SFU can forward the small one to small tiles (see preferVideoLayer)
 * and nobody downloads 700 kbit/s to fill a thumbnail. A start bitrate of
 * 1 Mbit/s skips the slow ramp-up from the browser's default. Screens go out
 * in one layer: text must stay sharp.
 */
const cameraEncodings = {
	encodings: [
		{ scaleResolutionDownBy: 2, maxBitrate: 150_000 },
		{ scaleResolutionDownBy: 1, maxBitrate: 700_000 },
	],
	codecOptions: { videoGoogleStartBitrate: 1000 },
};

/**
 * One person's presence in one call: the protoo connection to the SFU, the
 * mediasoup device and transports, what we send and what we receive. Created
 * per call attempt; after it ends it is not reused.
 */
/** How long a dropped connection may take to come back before the others hear that its person left. */
const rejoinGraceMs = 6_000;

export class CallSession {
	readonly state: CallState;
	readonly #setState: SetStoreFunction<CallState>;
	readonly #options: CallSessionOptions;
	#peer: Peer | undefined;
	#device: Device | undefined;
	#sendTransport: Transport | undefined;
	#recvTransport: Transport | undefined;
	#local: LocalTracks = {};
	readonly #producers = new Map<MediaSource, Producer>();
	readonly #consumers = new Map<string, ConsumerEntry>();
	/** Sources being switched on or off, so a double click does not race itself. */
	readonly #switching = new Set<MediaSource>();
	/** The screen we share, owned like #local; it outlives a transport lost to a drop. */
	#screen: MediaStreamTrack | undefined;
	/** The simulcast layer each remote camera's tile asked for, by peer; applies to their next consumer too. */
	readonly #wantedLayers = new Map<string, number>();
	#ended = false;
	/** Bumped on every (re)connection and drop: a join sequence of an older one stops at its next step. */
	#attempt = 0;
	/** Whether a join ever completed: a later one is a rebuild after a drop. */
	#everJoined = false;
	/** Whether a transport of this attempt carried media: only then is its failure worth a fresh connection. */
	#mediaUp = false;
	/** Whether the call was (re)joined over the socket open now (see #backOff). */
	#socketJoined = false;
	/**
	 * Pause/resume news about consumers still being set up (newConsumer is
	 * answered asynchronously, and a producer paused right after it started,
	 * as a muted mic is after a reconnect, overtakes it), by consumer id.
	 */
	readonly #earlyPauses = new Map<string, boolean>();
	/** Sockets in a row that opened and dropped before the call came back on them. */
	#emptyOpens = 0;
	#retryTimer: number | undefined;
	/**
	 * "X left" notices held back, by peer id: someone whose connection dropped
	 * or was replaced (a reload, a network cut) usually comes back within
	 * seconds, and then neither their leaving nor their joining is news.
	 */
	readonly #heldDepartures = new Map<string, number>();

	constructor(options: CallSessionOptions) {
		this.#options = options;
		[this.state, this.#setState] = createStore<CallState>({
			status: "connecting",
			reconnecting: false,
			mode: options.mode,
			selfId: undefined,
			peers: {},
			speaking: [],
		});
	}

	get self(): CallPeer | undefined {
		return this.state.selfId ? this.state.peers[this.state.selfId] : undefined;
	}

	/** From the SFU's point of view: the role moves when the host leaves (hostChanged). */
	get isHost(): boolean {
		return this.state.status === "joined" && this.self?.role === "host";
	}

	get micOn(): boolean {
		const self = this.self;
		return Boolean(self?.audioTrack && !self.audioPaused);
	}

	get camOn(): boolean {
		const self = this.self;
		return Boolean(self?.videoTrack && !self.videoPaused);
	}

	/** Connect and join, sending these tracks; the session owns (and in the end stops) them. */
	start(tracks: LocalTracks): void {
		if (this.#peer || this.#ended) throw new Error("a call session starts once");
		this.#local = { audio: tracks.audio };
		if (this.state.mode === "video") this.#local.video = tracks.video;
		else tracks.video?.stop();

		this.#connect();
	}

	/**
	 * Open the protoo connection. protoo retries a dropped socket by itself;
	 * the SFU forgets our media with the old socket, so every 'open' runs the
	 * whole join sequence again on the fresh one. Events of a replaced peer
	 * (see #reconnectNow) are ignored.
	 */
	#connect(): void {
		const { sfuUrl, roomId, token } = this.#options;
		const peer = new Peer(new WebSocketTransport(signalingUrl(sfuUrl, roomId, token), { retry: socketRetry }));
		this.#peer = peer;
		const current = () => this.#peer === peer && !this.#ended;

		peer.on("open", () => {
			if (!current()) return;
			this.#socketJoined = false;
			this.#join().catch((error: unknown) => {
				if (!(error instanceof SessionEnded)) this.#end({ kind: "failed", error });
			});
		});
		// 'disconnected': an open socket dropped; 'failed': one try among the retries did not connect.
		peer.on("disconnected", () => {
			if (!current()) return;
			this.#connectionLost();
			if (!this.#socketJoined) this.#backOff(peer);
		});
		peer.on("failed", () => {
			if (current()) this.#connectionLost();
		});
		// The retries ran out, or the SFU closed the socket for good (after saying why, if it did).
		peer.on("close", () => {
			if (current()) this.#end({ kind: "disconnected" });
		});
		peer.on("notification", (notification) => {
			if (current()) this.#onNotification(notification.method, notification.data);
		});
		peer.on("request", (request, accept, reject) => {
			// @types/protoo-client types accept() as taking a protoo response; it takes the response data.
			const respond = accept as unknown as (data: ServerRequests["newConsumer"]["response"]) => void;
			if (request.method !== "newConsumer") {
				reject(404, `unknown method ${String(request.method)}`);
				return;
			}
			this.#onNewConsumer(request.data as NewConsumer).then(
				() => respond({}),
				(error: unknown) => reject(500, error instanceof Error ? error.message : String(error)),
			);
		});
	}

	/** Switch the microphone; turning it on the first time asks for the device. Throws MediaAccessError. */
	setMic(on: boolean): Promise<void> {
		return this.#switch("mic", on);
	}

	/** Switch the camera (video rooms only); turning it on the first time asks for the device. */
	setCam(on: boolean): Promise<void> {
		if (this.state.mode !== "video") return Promise.resolve();
		return this.#switch("cam", on);
	}

	get sharingScreen(): boolean {
		return Boolean(this.self?.screenTrack);
	}

	/**
	 * Share a screen, window or tab (the browser asks which), or stop sharing.
	 * Closing the picker without choosing is no error: nothing happens.
	 */
	async setScreenShare(on: boolean): Promise<void> {
		if (!on) return this.#stopScreen();
		if (this.#ended || this.state.status !== "joined" || this.state.reconnecting) return;
		if (this.#screen || this.#switching.has("screen")) return;
		this.#switching.add("screen");
		try {
			const track = await captureScreen();
			if (!track) return;
			if (this.#ended) {
				track.stop();
				return;
			}
			this.#screen = track;
			// The browser's own "Stop sharing" bar ends the track without asking us.
			track.addEventListener("ended", () => {
				if (this.#screen === track) void this.#stopScreen();
			});
			try {
				await this.#produce("screen", track);
			} catch (error) {
				await this.#stopScreen();
				throw error;
			}
		} finally {
			this.#switching.delete("screen");
		}
	}

	async #stopScreen(): Promise<void> {
		const producer = this.#producers.get("screen");
		this.#producers.delete("screen");
		this.#screen?.stop();
		this.#screen = undefined;
		this.#updateSelf({ screenTrack: undefined });
		if (!producer) return;
		producer.close();
		// Closing the transport side stops the media; the request lets the SFU tell the others at once.
		if (!this.#ended && !this.state.reconnecting) {
			await this.#request("closeProducer", { producerId: producer.id }).catch(() => {});
		}
	}

	/**
	 * Send from another microphone or camera without rejoining: the new track
	 * replaces the old one in the running producer, muted if it was muted.
	 * Without a track (never turned on) there is nothing to replace; the choice
	 * is remembered by the caller and used when it is turned on. Throws MediaAccessError.
	 */
	async useDevice(kind: MediaKind, deviceId: string): Promise<void> {
		const source: LocalSource = kind === "audio" ? "mic" : "cam";
		const old = this.#local[kind];
		if (this.#ended || !old || this.#switching.has(source) || old.getSettings().deviceId === deviceId) return;
		this.#switching.add(source);
		try {
			const track = await acquireDevice(kind, deviceId);
			if (this.#ended || this.#local[kind] !== old) {
				track.stop();
				return;
			}
			track.enabled = old.enabled;
			await this.#producers.get(source)?.replaceTrack({ track });
			this.#local[kind] = track;
			// Producers do not stop tracks here (stopTracks: false), so the old device is released by hand.
			old.stop();
			this.#updateSelf(kind === "audio" ? { audioTrack: track } : { videoTrack: track });
		} finally {
			this.#switching.delete(source);
		}
	}

	/**
	 * Ask the SFU to forward this peer's camera at the simulcast layer that
	 * fits its tile (0 = the small one). Repeats of the same wish send nothing.
	 */
	preferVideoLayer(peerId: string, spatialLayer: number): void {
		this.#wantedLayers.set(peerId, spatialLayer);
		for (const entry of this.#consumers.values()) {
			if (entry.peerId === peerId && entry.source === "cam") this.#sendLayer(entry);
		}
	}

	#sendLayer(entry: ConsumerEntry): void {
		const wanted = this.#wantedLayers.get(entry.peerId);
		if (wanted === undefined || entry.layer === wanted || this.#ended || this.state.reconnecting) return;
		entry.layer = wanted;
		// An SFU without layer support refuses; the camera then keeps arriving at its best layer.
		this.#request("setConsumerPreferredLayers", { consumerId: entry.consumer.id, spatialLayer: wanted }).catch(
			() => {},
		);
	}

	/** Host only: remove someone from the call; their token stays refused until the room ends. */
	async kick(peerId: string): Promise<void> {
		await this.#request("kickPeer", { peerId });
	}

	/**
	 * Post a chat message; resolves to it as the SFU stored it (id, our name,
	 * the server's time). Rejects with an Error whose message starts with the
	 * SignalingErrorCode, e.g. `rate-limited: …`.
	 */
	async sendChat(text: string): Promise<ChatMessage> {
		// Fail at once rather than wait out protoo's request timeout on a socket that is not there.
		if (this.state.status !== "joined" || this.state.reconnecting) throw new Error("not connected");
		const { message } = await this.#request("sendChat", { text });
		return message;
	}

	/** Say goodbye (briefly; the socket closing says it too), then release everything. */
	async leave(): Promise<void> {
		if (this.#ended) return;
		this.#ended = true;
		if (this.#peer?.connected) {
			await Promise.race([
				this.#request("leave", {}).catch(() => {}),
				new Promise((resolve) => window.setTimeout(resolve, leaveTimeoutMs)),
			]);
		}
		this.#teardown();
	}

	async #request<M extends ClientRequestMethod>(
		method: M,
		data: ClientRequests[M]["request"],
	): Promise<ClientRequests[M]["response"]> {
		if (!this.#peer) throw new Error("not connected");
		return (await this.#peer.request(method, data)) as ClientRequests[M]["response"];
	}

	/**
	 * Await a step of the join sequence, and stop there if the session ended or
	 * the connection of `attempt` dropped meanwhile (then a failure of the step
	 * is only a symptom of that, not worth reporting).
	 */
	async #step<T>(promise: Promise<T>, attempt = this.#attempt): Promise<T> {
		const outcome = await promise.then(
			(value) => ({ ok: true as const, value }),
			(error: unknown) => ({ ok: false as const, error }),
		);
		if (this.#ended || attempt !== this.#attempt) throw new SessionEnded();
		if (!outcome.ok) throw outcome.error;
		return outcome.value;
	}

	/**
	 * The socket opened, then dropped before the call came back on it. A proxy
	 * in front of an unreachable SFU does that (our API accepts the socket,
	 * then closes it), and protoo, having connected, would reopen at once and
	 * forever. So such drops count as failed tries: wait longer each time, and
	 * give up after as many as protoo would.
	 */
	#backOff(peer: Peer): void {
		this.#emptyOpens++;
		if (this.#emptyOpens > socketRetry.retries) {
			this.#end({ kind: "disconnected" });
			return;
		}
		const { minTimeout, factor, maxTimeout } = socketRetry;
		const delay = Math.min(maxTimeout, minTimeout * factor ** (this.#emptyOpens - 1));
		// Forgotten first, so its 'close' is not taken for the end of the call.
		this.#peer = undefined;
		peer.close();
		this.#retryTimer = window.setTimeout(() => {
			if (!this.#ended) this.#connect();
		}, delay);
	}

	/** The socket dropped or a retry failed: whatever join was under way is void. */
	#connectionLost(): void {
		this.#attempt++;
		// Before the first join the screen says "connecting" anyway.
		if (this.#everJoined) this.#setState("reconnecting", true);
	}

	/**
	 * Media stopped flowing while the socket still looks open (a dead TCP
	 * connection goes unnoticed until something is written to it): start over
	 * on a fresh socket, which makes the SFU replace our old connection.
	 */
	#reconnectNow(): void {
		this.#connectionLost();
		const stale = this.#peer;
		this.#connect();
		stale?.close();
	}

	/** Drop the media plumbing of a lost connection; the SFU closed its side with the old socket. */
	#resetMedia(): void {
		// Closing a transport closes its producers and consumers; local tracks survive (stopTracks: false).
		this.#sendTransport?.close();
		this.#recvTransport?.close();
		this.#sendTransport = undefined;
		this.#recvTransport = undefined;
		this.#producers.clear();
		this.#consumers.clear();
		this.#earlyPauses.clear();
		this.#mediaUp = false;
		for (const peer of Object.values(this.state.peers)) {
			if (!peer.isSelf) {
				this.#setState("peers", peer.id, { audioTrack: undefined, videoTrack: undefined, screenTrack: undefined });
			}
		}
	}

	/**
	 * Make the list of people match the SFU's. On a rebuild, whoever came or
	 * went while we were away is announced like any arrival or departure.
	 */
	#syncPeers(self: PeerInfo, others: PeerInfo[], announce: boolean): void {
		const present = new Set([self.id, ...others.map((info) => info.id)]);
		for (const [id, peer] of Object.entries(this.state.peers)) {
			if (present.has(id)) continue;
			this.#setState(
				"peers",
				produce((peers) => {
					delete peers[id];
				}),
			);
			if (announce) this.#options.onNotice({ kind: "peer-left", name: peer.name });
		}
		for (const info of [self, ...others]) {
			if (this.state.peers[info.id]) {
				// The role may have moved while we were away.
				this.#setState("peers", info.id, { name: info.name, role: info.role });
				continue;
			}
			this.#addPeer(info, info.id === self.id);
			if (announce && info.id !== self.id) this.#options.onNotice({ kind: "peer-joined", name: info.name });
		}
	}

	async #join(): Promise<void> {
		const attempt = ++this.#attempt;
		const rejoining = this.#everJoined;
		this.#resetMedia();
		const { roomId, token } = this.#options;
		// Without TURN most networks still connect directly, so a failed lookup is not a reason to give up.
		const iceServersLookup = getIceServers(roomId, token).catch(() => []);
		const routerRtpCapabilities = await this.#step(this.#request("getRouterRtpCapabilities", {}), attempt);
		const device = await this.#step(Device.factory(), attempt);
		await this.#step(device.load({ routerRtpCapabilities }), attempt);
		this.#device = device;
		const iceServers = await this.#step(iceServersLookup, attempt);

		const recvInfo = await this.#step(this.#request("createWebRtcTransport", { direction: "recv" }), attempt);
		this.#recvTransport = this.#createTransport(device, "recv", recvInfo, iceServers);

		const sendInfo = await this.#step(this.#request("createWebRtcTransport", { direction: "send" }), attempt);
		const send = this.#createTransport(device, "send", sendInfo, iceServers);
		send.on("produce", ({ kind, rtpParameters, appData }, callback, errback) => {
			const source = appData.source;
			if (!isMediaSource(source)) {
				errback(new Error("producer without a media source"));
				return;
			}
			this.#request("produce", { transportId: send.id, kind, rtpParameters, source }).then(
				({ producerId }) => callback({ id: producerId }),
				errback,
			);
		});
		this.#sendTransport = send;

		const joined = await this.#step(this.#request("join", { rtpCapabilities: device.recvRtpCapabilities }), attempt);
		this.#setState({ mode: joined.mode, selfId: joined.self.id });
		this.#syncPeers(joined.self, joined.peers, rejoining);
		this.#setState({ status: "joined", reconnecting: false });
		this.#everJoined = true;
		this.#socketJoined = true;
		this.#emptyOpens = 0;
		// An SFU from before chat sends no history.
		this.#options.onChat(Array.isArray(joined.chat) ? joined.chat : [], "history");

		if (joined.mode !== "video" && this.#local.video) {
			this.#local.video.stop();
			this.#local.video = undefined;
		}
		// Send what we have (again, after a drop), muted or not as the person left it or set it meanwhile.
		const self = this.self;
		if (this.#local.audio) await this.#produceLocal("mic", this.#local.audio, self?.audioPaused ?? false, attempt);
		if (this.#local.video) await this.#produceLocal("cam", this.#local.video, self?.videoPaused ?? false, attempt);
		if (this.#screen) await this.#produceLocal("screen", this.#screen, false, attempt);
		if (rejoining) this.#options.onNotice({ kind: "reconnected" });
	}

	/** #produce as a join step; a click on the switch meanwhile would start a second producer, so it waits. */
	async #produceLocal(source: MediaSource, track: MediaStreamTrack, paused: boolean, attempt: number): Promise<void> {
		this.#switching.add(source);
		try {
			await this.#step(this.#produce(source, track, paused), attempt);
		} finally {
			this.#switching.delete(source);
		}
	}

	#createTransport(
		device: Device,
		direction: "send" | "recv",
		info: WebRtcTransportInfo,
		iceServers: RTCIceServer[],
	): Transport {
		const options = { ...info, iceServers };
		const transport = direction === "send" ? device.createSendTransport(options) : device.createRecvTransport(options);
		transport.on("connect", ({ dtlsParameters }, callback, errback) => {
			this.#request("connectWebRtcTransport", { transportId: transport.id, dtlsParameters }).then(
				() => callback(),
				errback,
			);
		});
		transport.on("connectionstatechange", (connectionState) => {
			// Transports of a lost connection fail too; the rebuild replaces them.
			const current = transport === this.#sendTransport || transport === this.#recvTransport;
			if (!current || this.state.reconnecting) return;
			if (connectionState === "connected") this.#mediaUp = true;
			if (connectionState !== "failed") return;
			// Media that flowed and stopped is worth a fresh connection; media that never got
			// through (UDP and TCP to the SFU blocked) would only fail again.
			if (this.#mediaUp) this.#reconnectNow();
			else this.#end({ kind: "disconnected" });
		});
		return transport;
	}

	/** Send a local track; `paused` sends it muted from the start (a rebuild after a drop keeps a muted mic muted). */
	async #produce(source: MediaSource, track: MediaStreamTrack, paused = false): Promise<void> {
		const transport = this.#sendTransport;
		if (!transport || !this.#device?.canProduce(kindOf(source))) return;
		// A disabled track sends silence (or black) until the pause below reaches the SFU, so nothing leaks.
		track.enabled = !paused;
		// stopTracks: false, because the session owns the tracks and they outlive a transport lost to a drop.
		const producer = await transport.produce({
			track,
			stopTracks: false,
			appData: { source },
			...(source === "cam" ? cameraEncodings : {}),
		});
		if (this.#ended) {
			producer.close();
			return;
		}
		this.#producers.set(source, producer);
		this.#updateSelf(trackPatch(source, track, paused));
		if (paused) {
			producer.pause();
			await this.#request("pauseProducer", { producerId: producer.id });
		}
	}

	async #switch(source: LocalSource, on: boolean): Promise<void> {
		if (this.#ended || this.state.status !== "joined" || this.#switching.has(source)) return;
		if (this.state.reconnecting) {
			// Nobody to tell now: switch the track itself and remember the wish; the rebuild
			// produces it in this state. A device not yet opened has to wait for the connection.
			const track = this.#local[kindOf(source)];
			if (!track) return;
			track.enabled = on;
			this.#updateSelf(source === "mic" ? { audioPaused: !on } : { videoPaused: !on });
			return;
		}
		this.#switching.add(source);
		try {
			const producer = this.#producers.get(source);
			const pausedKey = source === "mic" ? "audioPaused" : "videoPaused";
			if (producer) {
				if (on === !producer.paused) return;
				// Locally first, so the person is muted the moment they click, then tell the others.
				if (on) producer.resume();
				else producer.pause();
				this.#updateSelf({ [pausedKey]: !on });
				await this.#request(on ? "resumeProducer" : "pauseProducer", { producerId: producer.id });
				return;
			}
			if (!on) return;
			const kind = kindOf(source);
			const track = (await acquireTracks({ audio: kind === "audio", video: kind === "video" }))[kind];
			if (!track) return;
			if (this.#ended) {
				track.stop();
				return;
			}
			this.#local[kind] = track;
			await this.#produce(source, track);
		} finally {
			this.#switching.delete(source);
		}
	}

	async #onNewConsumer(data: NewConsumer): Promise<void> {
		const transport = this.#recvTransport;
		if (!transport || this.#ended) throw new Error("not ready to receive media");
		const consumer = await transport.consume({
			id: data.id,
			producerId: data.producerId,
			kind: data.kind,
			rtpParameters: data.rtpParameters,
		});
		if (this.#ended) {
			consumer.close();
			return;
		}
		const entry: ConsumerEntry = { consumer, peerId: data.peerId, source: data.source };
		this.#consumers.set(consumer.id, entry);
		const paused = this.#earlyPauses.get(consumer.id) ?? data.producerPaused;
		this.#earlyPauses.delete(consumer.id);
		this.#setTrack(data.peerId, data.source, consumer.track, paused);
		if (data.source === "cam") this.#sendLayer(entry);
	}

	readonly #notificationHandlers: Partial<{
		[M in ServerNotificationMethod]: (data: ServerNotifications[M]) => void;
	}> = {
		refused: ({ reason, message }) =>
			this.#end(reason === "token-revoked" ? { kind: "kicked" } : { kind: "refused", reason, message }),
		kicked: () => this.#end({ kind: "kicked" }),
		chatMessage: (message) => this.#options.onChat([message], "live"),
		roomClosed: () => this.#end({ kind: "room-closed" }),
		hostChanged: ({ peerId }) => {
			for (const id of Object.keys(this.state.peers)) {
				this.#setState("peers", id, "role", id === peerId ? "host" : "guest");
			}
			if (peerId === this.state.selfId) this.#options.onNotice({ kind: "became-host" });
		},
		peerJoined: (info) => {
			if (this.state.peers[info.id]) return;
			this.#addPeer(info, false);
			const held = this.#heldDepartures.get(info.id);
			if (held !== undefined) {
				// Back within the grace: they never really left.
				window.clearTimeout(held);
				this.#heldDepartures.delete(info.id);
				return;
			}
			this.#options.onNotice({ kind: "peer-joined", name: info.name });
		},
		peerLeft: ({ peerId, reason }) => {
			const name = this.state.peers[peerId]?.name;
			for (const [id, entry] of this.#consumers) {
				if (entry.peerId !== peerId) continue;
				entry.consumer.close();
				this.#consumers.delete(id);
			}
			this.#setState(
				"peers",
				produce((peers) => {
					delete peers[peerId];
				}),
			);
			if (name === undefined) return;
			if (reason !== "dropped" && reason !== "replaced") {
				this.#options.onNotice({ kind: "peer-left", name });
				return;
			}
			window.clearTimeout(this.#heldDepartures.get(peerId));
			this.#heldDepartures.set(
				peerId,
				window.setTimeout(() => {
					this.#heldDepartures.delete(peerId);
					this.#options.onNotice({ kind: "peer-left", name });
				}, rejoinGraceMs),
			);
		},
		consumerClosed: ({ consumerId }) => {
			const entry = this.#consumers.get(consumerId);
			if (!entry) return;
			this.#consumers.delete(consumerId);
			entry.consumer.close();
			const peer = this.state.peers[entry.peerId];
			const trackKey = entry.source === "mic" ? "audioTrack" : entry.source === "cam" ? "videoTrack" : "screenTrack";
			if (peer?.[trackKey] === entry.consumer.track) this.#setState("peers", entry.peerId, trackKey, undefined);
		},
		consumerPaused: ({ consumerId }) => this.#markConsumer(consumerId, true),
		consumerResumed: ({ consumerId }) => this.#markConsumer(consumerId, false),
		speaking: ({ peerIds }) => this.#setState("speaking", Array.isArray(peerIds) ? peerIds : []),
	};

	#onNotification(method: string, data: unknown): void {
		if (this.#ended || !Object.hasOwn(this.#notificationHandlers, method)) return;
		const handler = this.#notificationHandlers[method as ServerNotificationMethod] as
			| ((payload: unknown) => void)
			| undefined;
		handler?.(data);
	}

	#markConsumer(consumerId: string, paused: boolean): void {
		const entry = this.#consumers.get(consumerId);
		if (!entry) {
			this.#earlyPauses.set(consumerId, paused);
			return;
		}
		if (entry.source === "screen" || !this.state.peers[entry.peerId]) return;
		this.#setState("peers", entry.peerId, entry.source === "mic" ? "audioPaused" : "videoPaused", paused);
	}

	/** Show a peer, with whatever media of theirs arrived before we knew their name. */
	#addPeer(info: PeerInfo, isSelf: boolean): void {
		if (this.state.peers[info.id]) return;
		const peer: CallPeer = { ...info, isSelf, audioPaused: false, videoPaused: false };
		for (const entry of this.#consumers.values()) {
			if (entry.peerId !== info.id) continue;
			Object.assign(peer, trackPatch(entry.source, entry.consumer.track, false));
		}
		this.#setState("peers", info.id, peer);
	}

	#setTrack(peerId: string, source: MediaSource, track: MediaStreamTrack, paused: boolean): void {
		// A consumer can arrive before the peer's announcement; #addPeer picks it up then.
		if (!this.state.peers[peerId]) return;
		this.#setState("peers", peerId, trackPatch(source, track, paused));
	}

	#updateSelf(patch: Partial<CallPeer>): void {
		const selfId = this.state.selfId;
		if (selfId && this.state.peers[selfId]) this.#setState("peers", selfId, patch);
	}

	#end(end: CallEnd): void {
		if (this.#ended) return;
		this.#ended = true;
		this.#teardown();
		this.#options.onEnded(end);
	}

	#teardown(): void {
		// Closing a transport closes its producers and consumers with it.
		this.#sendTransport?.close();
		this.#recvTransport?.close();
		this.#producers.clear();
		this.#consumers.clear();
		stopTracks(this.#local);
		this.#local = {};
		this.#screen?.stop();
		this.#screen = undefined;
		window.clearTimeout(this.#retryTimer);
		for (const held of this.#heldDepartures.values()) window.clearTimeout(held);
		this.#heldDepartures.clear();
		this.#peer?.close();
		this.#setState("status", "ended");
	}
}
