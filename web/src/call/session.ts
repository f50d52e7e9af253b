/**
 * One person's presence in one call, put together from parts that each do
 * one job:
 *
 * - SignalingConnection (signaling.ts): the protoo socket, one attempt at a
 *   time, with the one ConnectionState and the shared back-off policy;
 * - MediaLayer (media-layer.ts): device, transports, producers, consumers of
 *   one attempt, closed whole on a drop or a `mediaReset` and built again;
 * - LocalTracks (local-tracks.ts): what we send and its mute state, which
 *   outlive attempts;
 * - the roster (roster.ts): pure updates of who is in the call, applied here
 *   to the Solid store the screen reads;
 * - TokenRenewal (renewal.ts): credentials that last as long as the call.
 *
 * What ends the call: only a `refused` notification, `kicked`, `roomClosed`
 * (final), or the back-off policy giving up (`disconnected`, rejoinable with
 * the same credentials). Everything else is retried.
 */
import type {
	ChatMessage,
	MediaSource,
	PeerInfo,
	RefusalReason,
	RoomMode,
	ServerNotificationMethod,
	ServerNotifications,
} from "@mindmeet/protocol";
import { signalingRoomParam, signalingTokenParam } from "@mindmeet/protocol";
import type { Device } from "mediasoup-client";
import type { MediaKind } from "mediasoup-client/types";
import { batch } from "solid-js";
import { createStore, reconcile, type SetStoreFunction } from "solid-js/store";
import { socketOrigin } from "../api/http.ts";
import { getIceServers, renewToken } from "../api/rooms.ts";
import { acquireDevice, acquireTracks, captureScreen, type LocalTracks as StartTracks } from "../media/devices.ts";
import { type ConnectionEvent, type ConnectionState, isInCall } from "./connection-state.ts";
import { markJoin } from "./join-timeline.ts";
import { LocalTracks } from "./local-tracks.ts";
import { kindOf, MediaLayer, type NewConsumer } from "./media-layer.ts";
import { openProtooPeer } from "./protoo-peer.ts";
import { type Credentials, TokenRenewal } from "./renewal.ts";
import {
	addPeer,
	type CallPeer,
	clearPeerTrack,
	clearRemoteMedia,
	emptyRoster,
	type Roster,
	removePeer,
	setHost,
	setPeerPaused,
	setPeerTrack,
	setSpeaking,
	syncRoster,
	trackPatch,
	updateSelf,
} from "./roster.ts";
import { ConnectionLost, SignalingConnection } from "./signaling.ts";

export type { ConnectionState } from "./connection-state.ts";
export type { CallPeer } from "./roster.ts";

export interface CallState {
	/** The one connection state (see connection-state.ts); the two fields below are derived from it. */
	connection: ConnectionState;
	/** `joined` once the SFU has let us in (also while reconnecting); `ended` after leave() or any end. */
	status: "connecting" | "joined" | "ended";
	/** connection === "reconnecting": the call stays on screen meanwhile. */
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
 * removed us. `disconnected`: the retries gave up; the credentials still work.
 */
export type CallEnd =
	| { kind: "refused"; reason: Exclude<RefusalReason, "token-revoked">; message: string }
	| { kind: "kicked" }
	| { kind: "room-closed" }
	| { kind: "disconnected" };

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
	credentials: Credentials;
	mode: RoomMode;
	/** Called once when the call ends on its own (never after leave()). */
	onEnded: (end: CallEnd) => void;
	onNotice: (notice: CallNotice) => void;
	/**
	 * Chat messages: `history` is the newest page sent on every (re)join (it
	 * repeats messages already seen; `more` says older ones can be asked for
	 * with loadOlderChat), `live` one that was just posted.
	 */
	onChat: (messages: readonly ChatMessage[], origin: "history" | "live", more?: boolean) => void;
	/** Renewed credentials, to be kept for a reload. */
	onCredentials: (credentials: Credentials) => void;
	/**
	 * A device loaded before the call with the capabilities the room's node
	 * published (preloaded-device.ts), for the first attempt: it then skips
	 * `getRouterRtpCapabilities`. Undefined, or resolving to undefined: ask the SFU.
	 */
	preloadedDevice?: Promise<Device | undefined>;
}

type LocalSource = Extract<MediaSource, "mic" | "cam">;

/** Signaling may stall; leaving must not wait for it longer than this. */
const leaveTimeoutMs = 1000;
/** How long visibility changes gather before the SFU is told (a page flip settles well within ~300 ms). */
const viewSettleMs = 150;
/** How long a dropped connection may take to come back before the others hear that its person left. */
export const rejoinGraceMs = 6_000;

/** Thrown inside a join sequence overtaken by a drop, a newer attempt or a mediaReset; never reported. */
class Superseded extends Error {}

/** The protoo WebSocket URL for a room: relative SFU paths resolve against this page's origin. */
export function signalingUrl(sfuUrl: string, roomId: string, token: string): string {
	const url = new URL(sfuUrl.startsWith("/") ? `${socketOrigin()}${sfuUrl}` : sfuUrl);
	url.searchParams.set(signalingTokenParam, token);
	url.searchParams.set(signalingRoomParam, roomId);
	return url.toString();
}

function statusOf(connection: ConnectionState): CallState["status"] {
	if (connection === "connecting") return "connecting";
	return isInCall(connection) ? "joined" : "ended";
}

const finalEvents: Record<
	Exclude<CallEnd["kind"], "disconnected">,
	Extract<ConnectionEvent, "refused" | "kicked" | "room-closed">
> = {
	refused: "refused",
	kicked: "kicked",
	"room-closed": "room-closed",
};

export class CallSession {
	readonly state: CallState;
	readonly #setState: SetStoreFunction<CallState>;
	readonly #options: CallSessionOptions;
	readonly #connection: SignalingConnection;
	readonly #renewal: TokenRenewal;
	readonly #local = new LocalTracks();
	#media: MediaLayer | undefined;
	/** The source of truth for who is in the call; #apply copies it into the store. */
	#roster: Roster = emptyRoster;
	/** Sources being switched on or off, so a double click does not race itself. */
	readonly #switching = new Set<MediaSource>();
	/** The simulcast layer each remote camera's tile asked for, by peer; applies to their next consumer too. */
	readonly #wantedLayers = new Map<string, number>();
	/**
	 * How many views show each remote video right now, by `peerId:source`
	 * (a tile, a shared screen). Nobody showing it → the SFU stops forwarding
	 * it. Kept across rebuilds: new consumers start in the state this says.
	 */
	readonly #views = new Map<string, number>();
	/** Videos whose view count changed since the SFU was last told, applied together shortly after. */
	readonly #viewChanges = new Set<string>();
	#viewTimer: ReturnType<typeof setTimeout> | undefined;
	/** Bumped when an attempt opens or is lost and on mediaReset: an older join sequence stops at its next step. */
	#generation = 0;
	#everJoined = false;
	/** Whether media ever got through to the SFU in this call (on any attempt). */
	#mediaEverUp = false;
	#ended = false;
	/**
	 * What the first attempt takes instead of asking once connected: the
	 * preloaded device, and the ICE servers, asked of the API as the session
	 * starts (alongside the signaling socket's opening, not after it).
	 * Later attempts ask again: a room may have moved to another node meanwhile.
	 */
	#early: { device: Promise<Device | undefined>; iceServers: Promise<RTCIceServer[]> } | undefined;
	/**
	 * "X left" notices held back, by peer id: someone whose connection dropped
	 * or was replaced (a reload, a network cut), or who was missing when we
	 * came back, usually returns within seconds, and then neither their
	 * leaving nor their joining is news.
	 */
	readonly #heldDepartures = new Map<string, ReturnType<typeof setTimeout>>();

	constructor(options: CallSessionOptions) {
		this.#options = options;
		[this.state, this.#setState] = createStore<CallState>({
			connection: "connecting",
			status: "connecting",
			reconnecting: false,
			mode: options.mode,
			selfId: undefined,
			peers: {},
			speaking: [],
		});
		this.#renewal = new TokenRenewal({
			credentials: options.credentials,
			renew: (token) => renewToken(options.roomId, token),
			onRenewed: (credentials) => options.onCredentials(credentials),
		});
		this.#connection = new SignalingConnection({
			url: () => signalingUrl(options.sfuUrl, options.roomId, this.#renewal.token),
			openPeer: openProtooPeer,
			onOpen: () => this.#rejoin(),
			onLost: () => this.#onLost(),
			onStateChange: (state) => this.#onStateChange(state),
			onNotification: (method, data) => this.#onNotification(method, data),
			onRequest: (method, data) => {
				if (method !== "newConsumer") return Promise.reject(new Error(`unknown method ${method}`));
				return this.#onNewConsumer(data as NewConsumer).then(() => ({}));
			},
		});
	}

	get self(): CallPeer | undefined {
		return this.state.selfId ? this.state.peers[this.state.selfId] : undefined;
	}

	/** The newest token: for the lobby socket and answers to knocks. */
	get token(): string {
		return this.#renewal.token;
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

	get sharingScreen(): boolean {
		return Boolean(this.self?.screenTrack);
	}

	/** Connect and join, sending these tracks; the session owns (and in the end stops) them. */
	start(tracks: StartTracks): void {
		if (this.#ended || this.#connection.attempt > 0) throw new Error("a call session starts once");
		this.#local.set("mic", tracks.audio);
		if (this.state.mode === "video") this.#local.set("cam", tracks.video);
		else tracks.video?.stop();
		this.#early = {
			device: this.#options.preloadedDevice ?? Promise.resolve(undefined),
			iceServers: this.#iceServers(),
		};
		this.#connection.start();
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

	/**
	 * Share a screen, window or tab (the browser asks which), or stop sharing.
	 * Closing the picker without choosing is no error: nothing happens.
	 */
	async setScreenShare(on: boolean): Promise<void> {
		if (!on) return this.#stopScreen();
		if (this.#ended || this.state.connection !== "connected") return;
		if (this.#local.get("screen") || this.#switching.has("screen")) return;
		this.#switching.add("screen");
		try {
			const track = await captureScreen();
			if (!track) return;
			if (this.#ended) {
				track.stop();
				return;
			}
			this.#local.set("screen", track);
			// The browser's own "Stop sharing" bar ends the track without asking us.
			track.addEventListener("ended", () => {
				if (this.#local.get("screen") === track) void this.#stopScreen();
			});
			try {
				if (await this.#media?.produce("screen", track, false))
					this.#apply(updateSelf(this.#roster, { screenTrack: track }));
			} catch (error) {
				await this.#stopScreen();
				throw error;
			}
		} finally {
			this.#switching.delete("screen");
		}
	}

	async #stopScreen(): Promise<void> {
		this.#local.stop("screen");
		this.#apply(updateSelf(this.#roster, { screenTrack: undefined }));
		await this.#media?.closeProducer("screen").catch(() => {});
	}

	/**
	 * Send from another microphone or camera without rejoining: the new track
	 * replaces the old one in the running producer, muted if it was muted.
	 * Without a track (never turned on) there is nothing to replace; the choice
	 * is remembered by the caller and used when it is turned on. Throws MediaAccessError.
	 */
	async useDevice(kind: MediaKind, deviceId: string): Promise<void> {
		const source: LocalSource = kind === "audio" ? "mic" : "cam";
		const old = this.#local.get(source);
		if (this.#ended || !old || this.#switching.has(source) || old.getSettings().deviceId === deviceId) return;
		this.#switching.add(source);
		try {
			const track = await acquireDevice(kind, deviceId);
			if (this.#ended || this.#local.get(source) !== old) {
				track.stop();
				return;
			}
			track.enabled = old.enabled;
			await this.#media?.replaceTrack(source, track);
			this.#local.set(source, track);
			// Producers do not stop tracks (stopTracks: false), so the old device is released by hand.
			old.stop();
			this.#apply(updateSelf(this.#roster, kind === "audio" ? { audioTrack: track } : { videoTrack: track }));
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
		if (this.state.connection === "connected") this.#media?.preferLayer(peerId, spatialLayer);
	}

	/**
	 * A view starts (`shown`) or stops showing this peer's video. Changes are
	 * gathered for a moment (a page flip hides and shows many tiles at once,
	 * a scroll passes tiles by) and then sent, only where the result changed.
	 */
	showVideo(peerId: string, source: "cam" | "screen", shown: boolean): void {
		const key = `${peerId}:${source}`;
		const count = Math.max(0, (this.#views.get(key) ?? 0) + (shown ? 1 : -1));
		if (count === 0) this.#views.delete(key);
		else this.#views.set(key, count);
		this.#viewChanges.add(key);
		this.#viewTimer ??= setTimeout(() => this.#applyViews(), viewSettleMs);
	}

	#applyViews(): void {
		this.#viewTimer = undefined;
		const media = this.#media;
		for (const key of this.#viewChanges) {
			const [peerId = "", source] = key.split(":");
			if (source === "cam" || source === "screen") media?.setWatched(peerId, source, this.#watched(peerId, source));
		}
		this.#viewChanges.clear();
	}

	#watched(peerId: string, source: MediaSource): boolean {
		return source === "mic" || (this.#views.get(`${peerId}:${source}`) ?? 0) > 0;
	}

	/** Host only: remove someone from the call; their token stays refused until the room ends. */
	async kick(peerId: string): Promise<void> {
		await this.#connection.request("kickPeer", { peerId });
	}

	/**
	 * Post a chat message; resolves to it as the SFU stored it (id, our name,
	 * the server's time). Rejects with an Error whose message starts with the
	 * SignalingErrorCode, e.g. `rate-limited: …`.
	 */
	async sendChat(text: string): Promise<ChatMessage> {
		// Fail at once rather than wait for an answer on a socket that is not there.
		if (this.state.connection !== "connected") throw new Error("not connected");
		const { message } = await this.#connection.request("sendChat", { text });
		return message;
	}

	/** One page of chat older than the message `before`, oldest first; `more`: there are older ones still. */
	async loadOlderChat(before: string): Promise<{ messages: ChatMessage[]; more: boolean }> {
		if (this.state.connection !== "connected") throw new Error("not connected");
		const page = await this.#connection.request("chatHistory", { before });
		return { messages: Array.isArray(page.messages) ? page.messages : [], more: page.more === true };
	}

	/** Say goodbye (briefly; the socket closing says it too), then release everything. */
	async leave(): Promise<void> {
		if (this.#ended) return;
		this.#ended = true;
		if (this.#connection.open) {
			await Promise.race([
				this.#connection.request("leave", {}).catch(() => {}),
				new Promise((resolve) => setTimeout(resolve, leaveTimeoutMs)),
			]);
		}
		this.#connection.end("left");
		this.#teardown();
	}

	/** Copy the roster into the store; reconcile keeps unchanged peers' tiles as they are. */
	#apply(next: Roster): void {
		if (next === this.#roster) return;
		this.#roster = next;
		batch(() => {
			this.#setState("selfId", next.selfId);
			this.#setState("peers", reconcile(next.peers as Record<string, CallPeer>));
			this.#setState("speaking", next.speaking);
		});
	}

	#onStateChange(connection: ConnectionState): void {
		this.#setState({ connection, status: statusOf(connection), reconnecting: connection === "reconnecting" });
		this.#renewal.setConnected(connection === "connected");
		if (connection === "disconnected") this.#end({ kind: "disconnected" });
	}

	/** The attempt is over: its media is void (the SFU closed its side); people stay on screen, without their media. */
	#onLost(): void {
		this.#generation++;
		this.#media?.close();
		this.#media = undefined;
		this.#apply(clearRemoteMedia(this.#roster));
	}

	/** Run the join sequence on the current connection: a new attempt opened, or mediaReset. */
	#rejoin(): void {
		const generation = ++this.#generation;
		this.#join(generation).catch((error: unknown) => {
			if (error instanceof Superseded || this.#ended || generation !== this.#generation) return;
			// A step that failed on an open socket (an error answer, a device that would not load):
			// start over on a fresh connection, under the back-off policy.
			console.warn("joining the call failed; retrying", error);
			this.#connection.drop();
		});
	}

	async #join(generation: number): Promise<void> {
		const wasReconnecting = this.state.connection === "reconnecting";
		const rejoining = this.#everJoined;
		this.#media?.close();
		const media = new MediaLayer(this.#connection.request, {
			onTransportFailed: (hadMedia) => {
				if (this.#media !== media || this.#ended) return;
				// Media that flowed (now or on an earlier attempt) and stopped is worth a fresh
				// connection; media that never got through (UDP and TCP to the SFU blocked) would
				// only fail again.
				if (hadMedia || this.#mediaEverUp) this.#connection.drop();
				else this.#connection.giveUp();
			},
			onTransportConnected: () => {
				this.#mediaEverUp = true;
			},
		});
		this.#media = media;
		this.#apply(clearRemoteMedia(this.#roster));
		const request = this.#connection.request;

		markJoin("signaling-open");
		// Everything that depends on nothing else goes out at once: the ICE servers (from the API),
		// the router's capabilities and both transports (one socket, answered as they come), so
		// the device loads while the SFU creates the transports, instead of a round trip after
		// another. Only `join` needs what they return. On the first attempt the device was
		// usually loaded before the call and the ICE servers asked for as it started.
		const early = this.#early;
		this.#early = undefined;
		const transports = Promise.all([
			request("createWebRtcTransport", { direction: "recv" }),
			request("createWebRtcTransport", { direction: "send" }),
			early?.iceServers ?? this.#iceServers(),
		]);
		// Awaited below; this only keeps a failure while the device loads from being reported as unhandled.
		transports.catch(() => {});
		const preloaded = early ? await this.#step(early.device, generation) : undefined;
		const rtpCapabilities = preloaded
			? media.use(preloaded)
			: await this.#step(
					request("getRouterRtpCapabilities", {}).then((capabilities) => media.load(capabilities)),
					generation,
				);
		const [recvInfo, sendInfo, iceServers] = await this.#step(transports, generation);
		media.createTransports(recvInfo, sendInfo, iceServers);
		markJoin("transports");

		const joined = await this.#step(request("join", { rtpCapabilities }), generation);
		markJoin("joined");
		this.#setState("mode", joined.mode);
		this.#syncPeers(joined.self, joined.peers, rejoining, media);
		this.#everJoined = true;
		this.#connection.joined();
		// An SFU from before chat sends no history, one from before paging no chatMore.
		this.#options.onChat(Array.isArray(joined.chat) ? joined.chat : [], "history", joined.chatMore === true);

		if (joined.mode !== "video" && this.#local.get("cam")) {
			this.#local.stop("cam");
			this.#apply(updateSelf(this.#roster, { videoTrack: undefined }));
		}
		// Send what we have (again, after a drop or a reset), muted or not as the person left it.
		for (const source of ["mic", "cam", "screen"] as const) await this.#produceLocal(source, media, generation);
		if (wasReconnecting) this.#options.onNotice({ kind: "reconnected" });
	}

	/** Without TURN most networks still connect directly, so a failed lookup is not a reason to give up. */
	#iceServers(): Promise<RTCIceServer[]> {
		return getIceServers(this.#options.roomId, this.#renewal.token).catch(() => []);
	}

	/**
	 * Make the list of people match the SFU's. On a rejoin, someone missing is
	 * held like a dropped peer (they may be reconnecting too) and someone who
	 * was held and is back is no news; a newcomer is announced.
	 */
	#syncPeers(self: PeerInfo, others: PeerInfo[], rejoining: boolean, media: MediaLayer): void {
		const { roster, arrived, departed } = syncRoster(this.#roster, self, others, (id) => media.mediaOf(id));
		this.#apply(roster);
		if (!rejoining) return;
		for (const peer of departed) this.#holdDeparture(peer.id, peer.name);
		for (const info of arrived) {
			if (!this.#releaseHeld(info.id)) this.#options.onNotice({ kind: "peer-joined", name: info.name });
		}
	}

	/** A join step that a switch click must not race (it would start a second producer). */
	async #produceLocal(source: MediaSource, media: MediaLayer, generation: number): Promise<void> {
		const track = this.#local.get(source);
		if (!track) return;
		this.#switching.add(source);
		try {
			const paused = this.#local.paused(source);
			if (await this.#step(media.produce(source, track, paused), generation)) {
				this.#apply(updateSelf(this.#roster, trackPatch(source, track, paused)));
			}
		} finally {
			this.#switching.delete(source);
		}
	}

	async #switch(source: LocalSource, on: boolean): Promise<void> {
		if (this.#ended || !isInCall(this.state.connection) || this.#switching.has(source)) return;
		const pausedKey = source === "mic" ? "audioPaused" : "videoPaused";
		const track = this.#local.get(source);
		const media = this.#media;
		if (track) {
			if (on === !this.#local.paused(source)) return;
			// Locally first, so the person is muted the moment they click, then tell the others. While
			// reconnecting there is nobody to tell: the rebuild sends it in this state.
			this.#local.setPaused(source, !on);
			this.#apply(updateSelf(this.#roster, { [pausedKey]: !on }));
			if (!media || this.state.connection !== "connected" || !media.hasProducer(source)) return;
			this.#switching.add(source);
			try {
				await media.setPaused(source, !on);
			} finally {
				this.#switching.delete(source);
			}
			return;
		}
		// A device not yet opened has to wait for the connection.
		if (!on || this.state.connection !== "connected" || !media) return;
		this.#switching.add(source);
		try {
			const kind = kindOf(source);
			const fresh = (await acquireTracks({ audio: kind === "audio", video: kind === "video" }))[kind];
			if (!fresh) return;
			if (this.#ended) {
				fresh.stop();
				return;
			}
			this.#local.set(source, fresh);
			this.#local.setPaused(source, false);
			if (await media.produce(source, fresh, false)) {
				this.#apply(updateSelf(this.#roster, trackPatch(source, fresh, false)));
			}
		} finally {
			this.#switching.delete(source);
		}
	}

	async #onNewConsumer(data: NewConsumer): Promise<void> {
		const media = this.#media;
		if (!media || this.#ended) throw new Error("not ready to receive media");
		const { track, paused } = await media.consume(data);
		if (this.#media !== media || this.#ended) return;
		if (data.kind === "video") markJoin("video-consumer");
		// A consumer can arrive before the peer's announcement; addPeer picks it up then (mediaOf).
		this.#apply(setPeerTrack(this.#roster, data.peerId, data.source, track, paused));
		// Offered paused-until-answered: a video nobody shows is paused before the SFU would start it.
		if (!this.#watched(data.peerId, data.source)) media.setWatched(data.peerId, data.source, false);
		const wanted = this.#wantedLayers.get(data.peerId);
		if (data.source === "cam" && wanted !== undefined) media.preferLayer(data.peerId, wanted);
	}

	readonly #notificationHandlers: {
		[M in ServerNotificationMethod]: (data: ServerNotifications[M]) => void;
	} = {
		refused: ({ reason, message }) =>
			this.#end(reason === "token-revoked" ? { kind: "kicked" } : { kind: "refused", reason, message }),
		kicked: () => this.#end({ kind: "kicked" }),
		roomClosed: () => this.#end({ kind: "room-closed" }),
		chatMessage: (message) => this.#options.onChat([message], "live"),
		hostChanged: ({ peerId }) => {
			this.#apply(setHost(this.#roster, peerId));
			if (peerId !== this.#roster.selfId) return;
			// The lobby needs a host's token at once; the old one may be a guest's, or about to expire.
			this.#renewal.renewNow();
			this.#options.onNotice({ kind: "became-host" });
		},
		peerJoined: (info) => {
			if (this.#roster.peers[info.id]) return;
			this.#apply(addPeer(this.#roster, info, false, this.#media?.mediaOf(info.id)));
			// Back within the grace: they never really left.
			if (this.#releaseHeld(info.id)) return;
			this.#options.onNotice({ kind: "peer-joined", name: info.name });
		},
		peerLeft: ({ peerId, reason }) => {
			this.#media?.closePeer(peerId);
			const { roster, removed } = removePeer(this.#roster, peerId);
			this.#apply(roster);
			if (!removed) return;
			if (reason === "dropped" || reason === "replaced") this.#holdDeparture(peerId, removed.name);
			else this.#options.onNotice({ kind: "peer-left", name: removed.name });
		},
		consumerClosed: ({ consumerId }) => {
			const closed = this.#media?.closeConsumer(consumerId);
			if (closed) this.#apply(clearPeerTrack(this.#roster, closed.peerId, closed.source, closed.track));
		},
		consumerPaused: ({ consumerId }) => this.#markConsumer(consumerId, true),
		consumerResumed: ({ consumerId }) => this.#markConsumer(consumerId, false),
		speaking: ({ peerIds }) => this.#apply(setSpeaking(this.#roster, peerIds)),
		// The room's media moved to another worker: rebuild it on this same connection. The people,
		// the host and the chat stay; the rejoin tells nobody (no toasts), its history is deduplicated.
		// It comes on an open connection, so a join under way on it (the first one, or after a drop)
		// is overtaken and started again too.
		mediaReset: () => this.#rejoin(),
		// How much of one of our videos anyone watches: the sender limits its layers, our mute is untouched.
		producerDemand: ({ producerId, maxSpatialLayer }) => this.#media?.limitSending(producerId, maxSpatialLayer),
	};

	#onNotification(method: string, data: unknown): void {
		if (this.#ended || !Object.hasOwn(this.#notificationHandlers, method)) return;
		const handler = this.#notificationHandlers[method as ServerNotificationMethod] as (payload: unknown) => void;
		handler(data);
	}

	#markConsumer(consumerId: string, paused: boolean): void {
		const marked = this.#media?.markConsumer(consumerId, paused);
		if (marked) this.#apply(setPeerPaused(this.#roster, marked.peerId, marked.source, paused));
	}

	#holdDeparture(peerId: string, name: string): void {
		clearTimeout(this.#heldDepartures.get(peerId));
		this.#heldDepartures.set(
			peerId,
			setTimeout(() => {
				this.#heldDepartures.delete(peerId);
				if (!this.#ended) this.#options.onNotice({ kind: "peer-left", name });
			}, rejoinGraceMs),
		);
	}

	/** Whether this peer's departure was being held (and now is not news). */
	#releaseHeld(peerId: string): boolean {
		const held = this.#heldDepartures.get(peerId);
		if (held === undefined) return false;
		clearTimeout(held);
		this.#heldDepartures.delete(peerId);
		return true;
	}

	/**
	 * Await a step of the join sequence, and stop there if the session ended or
	 * the sequence was overtaken (then a failure of the step is only a symptom
	 * of that, not worth reporting).
	 */
	async #step<T>(promise: Promise<T>, generation: number): Promise<T> {
		const outcome = await promise.then(
			(value) => ({ ok: true as const, value }),
			(error: unknown) => ({ ok: false as const, error }),
		);
		if (this.#ended || generation !== this.#generation) throw new Superseded();
		if (!outcome.ok) throw outcome.error instanceof ConnectionLost ? new Superseded() : outcome.error;
		return outcome.value;
	}

	#end(end: CallEnd): void {
		if (this.#ended) return;
		this.#ended = true;
		if (end.kind !== "disconnected") this.#connection.end(finalEvents[end.kind]);
		else this.#connection.giveUp();
		this.#teardown();
		this.#options.onEnded(end);
	}

	#teardown(): void {
		this.#generation++;
		this.#media?.close();
		this.#media = undefined;
		this.#local.stopAll();
		this.#renewal.stop();
		for (const held of this.#heldDepartures.values()) clearTimeout(held);
		this.#heldDepartures.clear();
		this.#setState("status", "ended");
	}
}
