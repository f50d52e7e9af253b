import {
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
import { acquireTracks, type LocalTracks, stopTracks } from "../media/devices.ts";

/** One person in the call, as the call screen shows them. */
export interface CallPeer {
	id: string;
	name: string;
	role: PeerRole;
	isSelf: boolean;
	audioTrack?: MediaStreamTrack;
	videoTrack?: MediaStreamTrack;
	/** Paused by its sender (remote) or by us (self): keep the track but show it as off. */
	audioPaused: boolean;
	videoPaused: boolean;
}

export interface CallState {
	/** `joined` once the SFU has let us in; `ended` after leave() or any end. */
	status: "connecting" | "joined" | "ended";
	mode: RoomMode;
	selfId: string | undefined;
	/** By peer id, in the order they became known (ourselves first). */
	peers: Record<string, CallPeer>;
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
	| { kind: "became-host" };

export interface CallSessionOptions {
	roomId: string;
	/** From RoomInfo: an absolute ws(s) URL or a path on this origin. */
	sfuUrl: string;
	token: string;
	mode: RoomMode;
	/** Called once when the call ends on its own (never after leave()). */
	onEnded: (end: CallEnd) => void;
	onNotice: (notice: CallNotice) => void;
}

type LocalSource = Extract<MediaSource, "mic" | "cam">;
type NewConsumer = ServerRequests["newConsumer"]["request"];

interface ConsumerEntry {
	consumer: Consumer;
	peerId: string;
	kind: MediaKind;
}

/** Signaling may stall; leaving must not wait for it longer than this. */
const leaveTimeoutMs = 1000;

/** Thrown inside the join sequence when the session ended meanwhile; never reported. */
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

const kindOf = (source: LocalSource): MediaKind => (source === "mic" ? "audio" : "video");

/**
 * One person's presence in one call: the protoo connection to the SFU, the
 * mediasoup device and transports, what we send and what we receive. Created
 * per call attempt; after it ends it is not reused.
 */
export class CallSession {
	readonly state: CallState;
	readonly #setState: SetStoreFunction<CallState>;
	readonly #options: CallSessionOptions;
	#peer: Peer | undefined;
	#device: Device | undefined;
	#sendTransport: Transport | undefined;
	#recvTransport: Transport | undefined;
	#local: LocalTracks = {};
	readonly #producers = new Map<LocalSource, Producer>();
	readonly #consumers = new Map<string, ConsumerEntry>();
	/** Sources being switched on or off, so a double click does not race itself. */
	readonly #switching = new Set<LocalSource>();
	#ended = false;

	constructor(options: CallSessionOptions) {
		this.#options = options;
		[this.state, this.#setState] = createStore<CallState>({
			status: "connecting",
			mode: options.mode,
			selfId: undefined,
			peers: {},
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

		const { sfuUrl, roomId, token } = this.#options;
		const peer = new Peer(
			new WebSocketTransport(signalingUrl(sfuUrl, roomId, token), {
				retry: { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 2000 },
			}),
		);
		this.#peer = peer;

		peer.on("open", () => {
			this.#join().catch((error: unknown) => {
				if (!(error instanceof SessionEnded)) this.#end({ kind: "failed", error });
			});
		});
		// 'failed' is not handled: it is one unsuccessful attempt among the retries, and
		// 'close' follows when they run out.
		// protoo would reconnect by itself, but the SFU forgets us with the old socket, so a new
		// socket alone cannot resume the call. Until rejoining is built, a lost connection ends it.
		peer.on("disconnected", () => this.#end({ kind: "disconnected" }));
		peer.on("close", () => this.#end({ kind: "disconnected" }));
		peer.on("notification", (notification) => this.#onNotification(notification.method, notification.data));
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

	/** Host only: remove someone from the call; their token stays refused until the room ends. */
	async kick(peerId: string): Promise<void> {
		await this.#request("kickPeer", { peerId });
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

	/** Await a step of the join sequence, and stop there if the session ended meanwhile. */
	async #step<T>(promise: Promise<T>): Promise<T> {
		const value = await promise;
		if (this.#ended) throw new SessionEnded();
		return value;
	}

	async #join(): Promise<void> {
		const { roomId, token } = this.#options;
		// Without TURN most networks still connect directly, so a failed lookup is not a reason to give up.
		const iceServersLookup = getIceServers(roomId, token).catch(() => []);
		const routerRtpCapabilities = await this.#step(this.#request("getRouterRtpCapabilities", {}));
		const device = await this.#step(Device.factory());
		await this.#step(device.load({ routerRtpCapabilities }));
		this.#device = device;
		const iceServers = await this.#step(iceServersLookup);

		const recvInfo = await this.#step(this.#request("createWebRtcTransport", { direction: "recv" }));
		this.#recvTransport = this.#createTransport(device, "recv", recvInfo, iceServers);

		const sendInfo = await this.#step(this.#request("createWebRtcTransport", { direction: "send" }));
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

		const joined = await this.#step(this.#request("join", { rtpCapabilities: device.recvRtpCapabilities }));
		this.#setState({ mode: joined.mode, selfId: joined.self.id });
		this.#addPeer(joined.self, true);
		for (const info of joined.peers) this.#addPeer(info, false);
		this.#setState("status", "joined");

		if (joined.mode !== "video" && this.#local.video) {
			this.#local.video.stop();
			this.#local.video = undefined;
		}
		if (this.#local.audio) await this.#produce("mic", this.#local.audio);
		if (this.#local.video) await this.#produce("cam", this.#local.video);
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
		// No ICE restart yet: a transport that failed carries no more media, so the call is over.
		transport.on("connectionstatechange", (connectionState) => {
			if (connectionState === "failed") this.#end({ kind: "disconnected" });
		});
		return transport;
	}

	async #produce(source: LocalSource, track: MediaStreamTrack): Promise<void> {
		const transport = this.#sendTransport;
		if (!transport || !this.#device?.canProduce(kindOf(source))) return;
		const producer = await transport.produce({ track, appData: { source } });
		if (this.#ended) {
			producer.close();
			return;
		}
		this.#producers.set(source, producer);
		this.#updateSelf(
			source === "mic" ? { audioTrack: track, audioPaused: false } : { videoTrack: track, videoPaused: false },
		);
	}

	async #switch(source: LocalSource, on: boolean): Promise<void> {
		if (this.#ended || this.state.status !== "joined" || this.#switching.has(source)) return;
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
		// Screen sharing arrives in a later stage; refusing says so instead of showing nothing.
		if (data.source === "screen") throw new Error("this client does not show screen shares yet");
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
		this.#consumers.set(consumer.id, { consumer, peerId: data.peerId, kind: data.kind });
		this.#setTrack(data.peerId, data.kind, consumer.track, data.producerPaused);
	}

	readonly #notificationHandlers: Partial<{
		[M in ServerNotificationMethod]: (data: ServerNotifications[M]) => void;
	}> = {
		refused: ({ reason, message }) =>
			this.#end(reason === "token-revoked" ? { kind: "kicked" } : { kind: "refused", reason, message }),
		kicked: () => this.#end({ kind: "kicked" }),
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
			this.#options.onNotice({ kind: "peer-joined", name: info.name });
		},
		peerLeft: ({ peerId }) => {
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
			if (name !== undefined) this.#options.onNotice({ kind: "peer-left", name });
		},
		consumerClosed: ({ consumerId }) => {
			const entry = this.#consumers.get(consumerId);
			if (!entry) return;
			this.#consumers.delete(consumerId);
			entry.consumer.close();
			const peer = this.state.peers[entry.peerId];
			const trackKey = entry.kind === "audio" ? "audioTrack" : "videoTrack";
			if (peer?.[trackKey] === entry.consumer.track) this.#setState("peers", entry.peerId, trackKey, undefined);
		},
		consumerPaused: ({ consumerId }) => this.#markConsumer(consumerId, true),
		consumerResumed: ({ consumerId }) => this.#markConsumer(consumerId, false),
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
		if (!entry || !this.state.peers[entry.peerId]) return;
		this.#setState("peers", entry.peerId, entry.kind === "audio" ? "audioPaused" : "videoPaused", paused);
	}

	/** Show a peer, with whatever media of theirs arrived before we knew their name. */
	#addPeer(info: PeerInfo, isSelf: boolean): void {
		if (this.state.peers[info.id]) return;
		const peer: CallPeer = { ...info, isSelf, audioPaused: false, videoPaused: false };
		for (const entry of this.#consumers.values()) {
			if (entry.peerId !== info.id) continue;
			if (entry.kind === "audio") peer.audioTrack = entry.consumer.track;
			else peer.videoTrack = entry.consumer.track;
		}
		this.#setState("peers", info.id, peer);
	}

	#setTrack(peerId: string, kind: MediaKind, track: MediaStreamTrack, paused: boolean): void {
		// A consumer can arrive before the peer's announcement; #addPeer picks it up then.
		if (!this.state.peers[peerId]) return;
		this.#setState(
			"peers",
			peerId,
			kind === "audio" ? { audioTrack: track, audioPaused: paused } : { videoTrack: track, videoPaused: paused },
		);
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
		this.#peer?.close();
		this.#setState("status", "ended");
	}
}
