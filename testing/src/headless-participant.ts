/**
 * A person in a call without a browser, entering the way the web client
 * does: knocks over HTTP and waits on the waiting socket until admitted (or
 * is given a token, as the host is), opens protoo signaling, asks for the
 * router's capabilities and both transports at once, joins, produces a
 * microphone and/or a camera, and takes the SFU's newConsumer requests as
 * people arrive. Media is real: ICE, DTLS and SRTP by node-datachannel
 * (see headless-webrtc.ts), VP8 and Opus from a shared ffmpeg replay (see
 * media-feed.ts), RTP counted per consumer from sequence numbers.
 *
 * Receiving: one peer connection for the recv transport, renegotiated for
 * newConsumer requests (a new offer with more m-sections, answered by
 * libdatachannel on the connected peer connection, which then opens the
 * new tracks), before the requests are accepted: what mediasoup-client
 * does in a browser, so the SFU resumes a consumer only once its m-section
 * exists. Requests that arrive while a renegotiation runs share the next
 * one (a browser takes them one by one). The cost is one SDP build and
 * parse per renegotiation, growing with the m-sections already there (a
 * participant in a 50-person room ends with 98). A closed consumer keeps
 * its m-section (the SFU just stops sending on it); mediasoup-client would
 * mark it inactive and reuse it.
 *
 * Sending: one peer connection for the send transport with a track per
 * source, fed by the shared replay with this participant's own SSRCs. The
 * camera is one encoding (no simulcast), so of the SFU's producerDemand it
 * only reads "nobody watches" (null): it stops sending video then and
 * starts again on any other value, as the web client stops its encodings.
 *
 * Visible tiles: pauseConsumer/resumeConsumer are the web client's requests
 * for a tile that leaves or enters the page; `watch` picks which video
 * consumers start paused.
 */
import type {
	ClientRequestMethod,
	ClientRequests,
	KnockResponse,
	MediaSource,
	PeerInfo,
	ServerNotifications,
	ServerRequests,
} from "@mindmeet/protocol";
import { within } from "./bounded.ts";
import {
	dtlsParametersOf,
	HeadlessPeer,
	type HeadlessRtpParameters,
	type HeadlessStream,
	mediasoupSdp,
	type ReceiveTotals,
	type SendTrackSpec,
	type StreamCount,
} from "./headless-webrtc.ts";
import type { FeedSink, SharedMediaFeed } from "./media-feed.ts";
import { knockOverHttp, SignalingPeer } from "./signaling-peer.ts";

type RtpCapabilities = ClientRequests["join"]["request"]["rtpCapabilities"];
type NewConsumer = ServerRequests["newConsumer"]["request"];
type DtlsParameters = ClientRequests["connectWebRtcTransport"]["request"]["dtlsParameters"];
type ProducerRtpParameters = ClientRequests["produce"]["request"]["rtpParameters"];

const midExtension = "urn:ietf:params:rtp-hdrext:sdes:mid";
const videoFeedback = [{ type: "nack" }, { type: "nack", parameter: "pli" }, { type: "ccm", parameter: "fir" }];
const audioPayloadType = 100;
const videoPayloadType = 101;

/**
 * What a headless participant can receive: Opus and VP8 (with NACK, PLI,
 * FIR) and the MID header extension. No RTX, transport-cc or REMB:
 * libdatachannel sends no such feedback, so offering them would only make
 * the SFU do work no browser-less peer answers.
 */
export const headlessRtpCapabilities: RtpCapabilities = {
	codecs: [
		{
			kind: "audio",
			mimeType: "audio/opus",
			preferredPayloadType: audioPayloadType,
			clockRate: 48000,
			channels: 2,
			parameters: {},
			rtcpFeedback: [],
		},
		{
			kind: "video",
			mimeType: "video/VP8",
			preferredPayloadType: videoPayloadType,
			clockRate: 90000,
			parameters: {},
			rtcpFeedback: videoFeedback.map((feedback) => ({ ...feedback })),
		},
	],
	headerExtensions: (["audio", "video"] as const).map((kind) => ({
		kind,
		uri: midExtension,
		preferredId: 1,
		direction: "sendrecv" as const,
	})),
};

/** What one consumer of this participant is and what it received. */
export interface HeadlessConsumer {
	id: string;
	/** Whose media it is. */
	peerId: string;
	producerId: string;
	kind: "audio" | "video";
	source: MediaSource;
	ssrc: number;
	/** Paused by this participant (an off-page tile); the sender's own pause is `producerPaused`. */
	paused: boolean;
	producerPaused: boolean;
	closed: boolean;
	/** When the newConsumer request arrived and when it was accepted (epoch ms). */
	offeredAt: number;
	acceptedAt: number;
}

export interface HeadlessParticipantOptions {
	name?: string;
	/** What to send: "mic" and/or "cam" (none: a viewer). Needs `feed`. */
	sources?: readonly ("mic" | "cam")[];
	feed?: SharedMediaFeed;
	/**
	 * Whether a new video consumer is shown (default: all). One that is not
	 * is paused right after it is accepted, as the web client pauses a tile
	 * that is off the page.
	 */
	watch?: (consumer: HeadlessConsumer) => boolean;
	/** Bound on each wait (admission, transports, DTLS), ms. Default 30 s. */
	timeoutMs?: number;
	/**
	 * Count what arrives (default true): see HeadlessPeerOptions.countRtp.
	 * Without it `received` and `totalsBetween` see nothing.
	 */
	countRtp?: boolean;
	/** Called for every consumer once it is accepted (e.g. to stamp a join's timeline). */
	onConsumer?: (consumer: HeadlessConsumer) => void;
}

/** The steps of one participant's way in, epoch ms (absent: not taken, e.g. no knock for the host). */
export interface JoinTimeline {
	/** The knock's HTTP request was sent. */
	knocked?: number;
	/** The token was in hand (the waiting socket said admitted, or a token was given). */
	admitted?: number;
	signalingOpen?: number;
	/** `join` answered. */
	joined?: number;
}

/** A knock that has been posted and waits, open, for the host: `enter` once the host admits it. */
export interface PendingParticipant {
	knock: KnockResponse;
	/** When the knock was posted (epoch ms). */
	knockedAt: number;
	/** Resolves with the participant in the call once admitted and joined (media may still be connecting). */
	enter(options?: HeadlessParticipantOptions): Promise<HeadlessParticipant>;
}

let nextSsrc = 0x10000000 + Math.floor(Math.random() * 0x4000000) * 4;

function sendSpecs(sources: readonly ("mic" | "cam")[], name: string): SendTrackSpec[] {
	const cname = `headless-${name.replace(/\W+/g, "-").slice(0, 32)}-${nextSsrc.toString(16)}`;
	return sources.map((source, index) => {
		nextSsrc = (nextSsrc + 1) >>> 0 || 0x10000000;
		return source === "mic"
			? { kind: "audio", mid: String(index), payloadType: audioPayloadType, ssrc: nextSsrc, codec: "opus", cname }
			: { kind: "video", mid: String(index), payloadType: videoPayloadType, ssrc: nextSsrc, codec: "VP8", cname };
	});
}

/** The producer's rtpParameters for one of our send tracks (what mediasoup-client would send for our offer). */
function producerRtpParameters(spec: SendTrackSpec): ProducerRtpParameters {
	const codec =
		spec.kind === "audio"
			? { mimeType: "audio/opus", payloadType: spec.payloadType, clockRate: 48000, channels: 2, parameters: {} }
			: {
					mimeType: "video/VP8",
					payloadType: spec.payloadType,
					clockRate: 90000,
					parameters: {},
					rtcpFeedback: videoFeedback.map((feedback) => ({ ...feedback })),
				};
	return {
		mid: spec.mid,
		codecs: [codec],
		headerExtensions: [],
		encodings: [{ ssrc: spec.ssrc }],
		rtcp: { cname: spec.cname, reducedSize: true },
	} as ProducerRtpParameters;
}

interface Offered {
	info: HeadlessConsumer;
	stream: HeadlessStream;
}

export class HeadlessParticipant {
	readonly signaling: SignalingPeer;
	readonly name: string;
	/** When each step of entering happened (epoch ms). */
	readonly timeline: JoinTimeline;
	readonly #options: Required<Omit<HeadlessParticipantOptions, "feed" | "onConsumer">> &
		Pick<HeadlessParticipantOptions, "feed" | "onConsumer">;
	readonly #recv: HeadlessPeer;
	readonly #send: HeadlessPeer | undefined;
	readonly #specs: SendTrackSpec[];
	readonly #consumers = new Map<string, Offered>();
	/** m-sections of the recv peer connection, in order (closed consumers keep theirs). */
	readonly #streams: HeadlessStream[] = [];
	readonly #producers = new Map<"mic" | "cam", string>();
	#recvTransport: Promise<ClientRequests["createWebRtcTransport"]["response"]>;
	/** newConsumer requests waiting for the next renegotiation. */
	readonly #pending: {
		data: NewConsumer;
		offeredAt: number;
		resolve: (info: HeadlessConsumer) => void;
		reject: (error: Error) => void;
	}[] = [];
	#negotiating = false;
	#recvConnected = false;
	readonly #renegotiations = { count: 0, consumers: 0, totalMs: 0, maxMs: 0 };
	#sink: FeedSink | undefined;
	#self: PeerInfo | undefined;
	#peers: PeerInfo[] = [];
	#closed = false;
	/** Errors in handling the SFU's requests (a failed renegotiation): kept for whoever checks. */
	readonly errors: string[] = [];

	private constructor(
		signaling: SignalingPeer,
		name: string,
		options: HeadlessParticipantOptions,
		timeline: JoinTimeline,
	) {
		this.signaling = signaling;
		this.name = name;
		this.timeline = timeline;
		this.#options = {
			name,
			sources: options.sources ?? [],
			watch: options.watch ?? (() => true),
			timeoutMs: options.timeoutMs ?? 30_000,
			countRtp: options.countRtp ?? true,
			feed: options.feed,
			onConsumer: options.onConsumer,
		};
		if (this.#options.sources.length > 0 && !options.feed) throw new Error("sending media needs a feed");
		const label = `${name.replace(/\W+/g, "-").slice(0, 24)}`;
		this.#recv = new HeadlessPeer(`${label}-recv`, {
			connectTimeoutMs: this.#options.timeoutMs,
			countRtp: this.#options.countRtp,
		});
		this.#specs = sendSpecs(this.#options.sources, name);
		this.#send =
			this.#specs.length > 0
				? new HeadlessPeer(`${label}-send`, { connectTimeoutMs: this.#options.timeoutMs })
				: undefined;
		// Placeholder until #enter asks for it: newConsumer only ever comes after join.
		this.#recvTransport = new Promise(() => {});
		signaling.client.on("request", (request, accept, reject) => {
			if (request.method !== "newConsumer") {
				accept();
				return;
			}
			this.#offered(request.data as NewConsumer).then(
				() => accept(),
				(error: Error) => {
					this.errors.push(`newConsumer: ${error.message}`);
					reject(500, error.message);
				},
			);
		});
		signaling.client.on("notification", (notification) => this.#notified(notification.method, notification.data));
	}

	/** Knock on `roomId` as `name` (HTTP, then the waiting socket, as the waiting screen does). */
	static async knock(baseUrl: string, roomId: string, name: string): Promise<PendingParticipant> {
		const knockedAt = Date.now();
		const pending = await knockOverHttp(baseUrl, roomId, name);
		return {
			knock: pending.knock,
			knockedAt,
			async enter(options = {}) {
				const { token } = await within(pending.admitted, options.timeoutMs ?? 30_000, `${name}'s admission`);
				return HeadlessParticipant.#open(baseUrl, roomId, token, { name, ...options }, { knocked: knockedAt });
			},
		};
	}

	/** Enter with a token already held (the host's, or one the lobby gave). */
	static enter(
		baseUrl: string,
		roomId: string,
		token: string,
		options: HeadlessParticipantOptions = {},
	): Promise<HeadlessParticipant> {
		return HeadlessParticipant.#open(baseUrl, roomId, token, options, {});
	}

	static async #open(
		baseUrl: string,
		roomId: string,
		token: string,
		options: HeadlessParticipantOptions,
		timeline: JoinTimeline,
	): Promise<HeadlessParticipant> {
		timeline.admitted = Date.now();
		const signaling = await SignalingPeer.connect(baseUrl, roomId, token, { acceptRequests: false });
		timeline.signalingOpen = Date.now();
		const participant = new HeadlessParticipant(signaling, options.name ?? "Headless", options, timeline);
		try {
			await participant.#enter();
		} catch (error) {
			await participant.close();
			throw error;
		}
		return participant;
	}

	get peerId(): string | undefined {
		return this.#self?.id;
	}

	/** Everyone else the SFU said was in the call when we joined, plus those who came later and not left. */
	get peers(): readonly PeerInfo[] {
		return this.#peers;
	}

	/** Our producers' ids by source. */
	get producers(): ReadonlyMap<"mic" | "cam", string> {
		return this.#producers;
	}

	/** What we receive, in the order the SFU offered it. */
	consumers(): HeadlessConsumer[] {
		return [...this.#consumers.values()].map(({ info }) => ({ ...info }));
	}

	/** The recv peer connection (its per-SSRC counts, snapshots). */
	get receiver(): HeadlessPeer {
		return this.#recv;
	}

	/** Counts of one consumer's stream so far (undefined before its first packet). */
	received(consumerId: string): StreamCount | undefined {
		const entry = this.#consumers.get(consumerId);
		return entry ? this.#recv.stream(entry.info.ssrc) : undefined;
	}

	/** Packets and loss between two snapshots of `receiver`, for some consumers only (all when absent). */
	totalsBetween(
		from: ReturnType<HeadlessPeer["snapshot"]>,
		to: ReturnType<HeadlessPeer["snapshot"]>,
		consumerIds?: readonly string[],
	): ReceiveTotals {
		const ssrcs = consumerIds ? new Set(consumerIds.map((id) => this.#consumers.get(id)?.info.ssrc ?? -1)) : undefined;
		return HeadlessPeer.totalsBetween(from, to, ssrcs);
	}

	/**
	 * The recv peer connection's renegotiations so far: how many, for how
	 * many consumers, and the time spent building and answering the offers, in ms.
	 */
	get renegotiations(): { count: number; consumers: number; totalMs: number; maxMs: number } {
		return { ...this.#renegotiations };
	}

	/** Whether this participant counts what it receives (see HeadlessParticipantOptions.countRtp). */
	get counting(): boolean {
		return this.#options.countRtp;
	}

	/** Whether our camera is being sent now (false while the SFU says nobody watches it). */
	sendingVideo(): boolean {
		return this.#sink?.sending("video") === true;
	}

	request<M extends ClientRequestMethod>(
		method: M,
		data: ClientRequests[M]["request"],
	): Promise<ClientRequests[M]["response"]> {
		return this.signaling.request(method, data);
	}

	/** Hide a consumer's video (its tile left the page): the SFU stops forwarding it. */
	async pauseConsumer(consumerId: string): Promise<void> {
		await this.request("pauseConsumer", { consumerId });
		const entry = this.#consumers.get(consumerId);
		if (entry) entry.info.paused = true;
	}

	/** Show it again: the SFU forwards it from a fresh key frame. */
	async resumeConsumer(consumerId: string): Promise<void> {
		await this.request("resumeConsumer", { consumerId });
		const entry = this.#consumers.get(consumerId);
		if (entry) entry.info.paused = false;
	}

	/** Both peer connections up (ICE and DTLS): the send one at once, the recv one once something was consumed. */
	async connected(): Promise<void> {
		await Promise.all([this.#send?.connected(), this.#recvConnected ? this.#recv.connected() : undefined]);
	}

	/** Resolves once `count` consumers have been accepted (e.g. everyone's mic and cam). */
	async consumersAtLeast(count: number, timeoutMs = this.#options.timeoutMs): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		while (this.#acceptedCount() < count) {
			if (this.#closed || this.signaling.client.closed) throw new Error(`${this.name} left before ${count} consumers`);
			if (Date.now() > deadline) {
				throw new Error(`${this.name} has ${this.#acceptedCount()} of ${count} consumers after ${timeoutMs} ms`);
			}
			await new Promise((resolve) => setTimeout(resolve, 25));
		}
	}

	#acceptedCount(): number {
		let count = 0;
		for (const { info } of this.#consumers.values()) if (info.acceptedAt > 0 && !info.closed) count++;
		return count;
	}

	async #enter(): Promise<void> {
		const request = this.signaling.request.bind(this.signaling);
		const timeout = this.#options.timeoutMs;
		// As the web client: capabilities and both transports at once, then join.
		const capabilities = request("getRouterRtpCapabilities", {});
		this.#recvTransport = request("createWebRtcTransport", { direction: "recv" });
		this.#recvTransport.catch(() => {});
		const send = this.#send ? request("createWebRtcTransport", { direction: "send" }) : undefined;
		send?.catch(() => {});
		await within(capabilities, timeout, "router capabilities");
		await within(this.#recvTransport, timeout, "recv transport");
		const sendInfo = send ? await within(send, timeout, "send transport") : undefined;
		const joined = await within(
			request("join", { rtpCapabilities: headlessRtpCapabilities }),
			timeout,
			`${this.name}'s join`,
		);
		this.timeline.joined = Date.now();
		this.#self = joined.self;
		this.#peers = [...joined.peers];
		if (!this.#send || !sendInfo) return;

		const offer = await this.#send.offer(this.#specs);
		const streams = this.#specs.map((spec) => ({ kind: spec.kind, rtpParameters: producerRtpParameters(spec) }));
		this.#send.accept(mediasoupSdp(sendInfo, streams as HeadlessStream[], "recvonly", "answer"));
		await within(
			request("connectWebRtcTransport", {
				transportId: sendInfo.id,
				dtlsParameters: dtlsParametersOf(offer) as DtlsParameters,
			}),
			timeout,
			"connecting the send transport",
		);
		// Feed it now: packets before DTLS is up are simply not sent (the track is not open).
		if (this.#options.feed) this.#sink = this.#options.feed.attach(this.#send, this.#specs);
		for (const [index, spec] of this.#specs.entries()) {
			const source = this.#options.sources[index] as "mic" | "cam";
			const { producerId } = await within(
				request("produce", {
					transportId: sendInfo.id,
					kind: spec.kind,
					rtpParameters: streams[index]?.rtpParameters as ProducerRtpParameters,
					source,
				}),
				timeout,
				`producing ${source}`,
			);
			this.#producers.set(source, producerId);
		}
	}

	/**
	 * A newConsumer request: its m-section goes into the next offer, answered
	 * once for every request that arrived meanwhile (DTLS starts on the
	 * first); then it may be accepted.
	 */
	#offered(data: NewConsumer): Promise<void> {
		const offeredAt = Date.now();
		const accepted = new Promise<HeadlessConsumer>((resolve, reject) => {
			this.#pending.push({ data, offeredAt, resolve, reject });
		});
		void this.#negotiate();
		return accepted.then((info) => {
			info.acceptedAt = Date.now();
			this.#options.onConsumer?.(info);
			// An off-page tile: marked paused before we accept it, so the SFU never starts it.
			if (info.kind === "video" && !this.#options.watch(info)) {
				info.paused = true;
				this.request("pauseConsumer", { consumerId: info.id }).catch((error: Error) => {
					this.errors.push(`pauseConsumer: ${error.message}`);
				});
			}
		});
	}

	/**
	 * Renegotiate the recv peer connection for every pending newConsumer at
	 * once, again while more arrive. A browser renegotiates once per
	 * consumer; batching only matters when many arrive together (someone
	 * joins a big room), and keeps the load generator from spending its
	 * core on SDP.
	 */
	async #negotiate(): Promise<void> {
		if (this.#negotiating) return;
		this.#negotiating = true;
		try {
			while (this.#pending.length > 0) {
				const batch = this.#pending.splice(0);
				const ready: { entry: (typeof batch)[number]; info: HeadlessConsumer }[] = [];
				try {
					if (this.#closed) throw new Error("the participant closed");
					const transport = await this.#recvTransport;
					for (const entry of batch) {
						const { data } = entry;
						const rtpParameters = data.rtpParameters as unknown as HeadlessRtpParameters;
						const ssrc = rtpParameters.encodings?.[0]?.ssrc;
						if (ssrc === undefined) {
							entry.reject(new Error("a consumer without an SSRC"));
							continue;
						}
						const info: HeadlessConsumer = {
							id: data.id,
							peerId: data.peerId,
							producerId: data.producerId,
							kind: data.kind,
							source: data.source,
							ssrc,
							paused: false,
							producerPaused: data.producerPaused,
							closed: false,
							offeredAt: entry.offeredAt,
							acceptedAt: 0,
						};
						const stream: HeadlessStream = { kind: data.kind, rtpParameters };
						this.#streams.push(stream);
						this.#consumers.set(data.id, { info, stream });
						ready.push({ entry, info });
					}
					if (ready.length === 0) continue;
					const started = performance.now();
					const answer = await this.#recv.answer(mediasoupSdp(transport, this.#streams, "sendonly", "offer"));
					const took = performance.now() - started;
					this.#renegotiations.count++;
					this.#renegotiations.consumers += ready.length;
					this.#renegotiations.totalMs += took;
					this.#renegotiations.maxMs = Math.max(this.#renegotiations.maxMs, took);
					if (!this.#recvConnected) {
						this.#recvConnected = true;
						await this.request("connectWebRtcTransport", {
							transportId: transport.id,
							dtlsParameters: dtlsParametersOf(answer) as DtlsParameters,
						});
					}
					for (const { entry, info } of ready) entry.resolve(info);
				} catch (error) {
					for (const entry of batch) entry.reject(error as Error);
				}
			}
		} finally {
			this.#negotiating = false;
		}
	}

	#notified(method: string, data: unknown): void {
		switch (method) {
			case "consumerClosed": {
				const { consumerId } = data as ServerNotifications["consumerClosed"];
				const entry = this.#consumers.get(consumerId);
				if (entry) entry.info.closed = true;
				return;
			}
			case "consumerPaused":
			case "consumerResumed": {
				const { consumerId } = data as ServerNotifications["consumerPaused"];
				const entry = this.#consumers.get(consumerId);
				if (entry) entry.info.producerPaused = method === "consumerPaused";
				return;
			}
			case "producerDemand": {
				const { producerId, maxSpatialLayer } = data as ServerNotifications["producerDemand"];
				if (producerId === this.#producers.get("cam")) this.#sink?.setSending("video", maxSpatialLayer !== null);
				return;
			}
			case "peerJoined": {
				const peer = data as ServerNotifications["peerJoined"];
				if (!this.#peers.some((known) => known.id === peer.id)) this.#peers.push(peer);
				return;
			}
			case "peerLeft": {
				const { peerId } = data as ServerNotifications["peerLeft"];
				this.#peers = this.#peers.filter((peer) => peer.id !== peerId);
				return;
			}
		}
	}

	/**
	 * Leave on purpose (the leave request, as the leave button), then close
	 * both peer connections. `leave: false` just drops the connection (a
	 * closed tab): quicker when a whole room is torn down.
	 */
	async close(options: { leave?: boolean } = {}): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		this.#sink?.detach();
		if (options.leave !== false && !this.signaling.client.closed && this.#self) {
			await within(this.signaling.request("leave", {}), 5_000, "leave").catch(() => {});
		}
		this.signaling.close();
		this.#send?.close();
		this.#recv.close();
	}
}
