/**
 * A WebRTC peer without a browser: node-datachannel (libdatachannel, whose
 * binary ships inside its npm package) does real ICE, DTLS and SRTP and hands
 * back the decrypted RTP, so a benchmark can run hundreds of subscribers on
 * one core and count loss from RTP sequence numbers. It sends raw RTP too
 * (a publisher that forwards packets from ffmpeg).
 *
 * Talks to a mediasoup transport through SDP built from the transport's and
 * the consumers' parameters (what mediasoup-client does in a browser), and
 * to any SDP offerer (Janus) by answering its offer.
 */
import nodeDataChannel, { type Audio, type PeerConnection, type Track, type Video } from "node-datachannel";

// Structural copies of the mediasoup(-client) parameter types this module reads:
// the testing package does not depend on mediasoup.
export interface HeadlessIceParameters {
	usernameFragment: string;
	password: string;
	iceLite?: boolean;
}
export interface HeadlessIceCandidate {
	foundation: string;
	priority: number;
	/** mediasoup ≥ 3.13 says `address`; older ones `ip`. */
	address?: string;
	ip?: string;
	protocol: "udp" | "tcp";
	port: number;
	type: string;
	tcpType?: string;
}
export interface HeadlessDtlsParameters {
	role?: "auto" | "client" | "server";
	fingerprints: { algorithm: string; value: string }[];
}
export interface HeadlessTransportParameters {
	iceParameters: HeadlessIceParameters;
	iceCandidates: HeadlessIceCandidate[];
	dtlsParameters: HeadlessDtlsParameters;
}
export interface HeadlessRtpCodec {
	mimeType: string;
	payloadType: number;
	clockRate: number;
	channels?: number;
	parameters?: Record<string, unknown>;
	rtcpFeedback?: { type: string; parameter?: string }[];
}
export interface HeadlessRtpParameters {
	mid?: string;
	codecs: HeadlessRtpCodec[];
	headerExtensions?: { uri: string; id: number }[];
	encodings?: { ssrc?: number; rtx?: { ssrc: number } }[];
	rtcp?: { cname?: string };
}
/** One m-line: a consumer (receiving) or a track we send. */
export interface HeadlessStream {
	kind: "audio" | "video";
	rtpParameters: HeadlessRtpParameters;
}

/** What a peer counted of one incoming RTP stream (one SSRC). */
export interface StreamCount {
	ssrc: number;
	payloadType: number;
	packets: number;
	bytes: number;
	/** Highest extended sequence number seen, and the first one. */
	firstSeq: number;
	highestSeq: number;
	/** When the first and the latest packet arrived (epoch ms; 0 before any). */
	firstAt: number;
	lastAt: number;
}

/** Received packets and losses of a peer (or a sum of peers) over some interval. */
export interface ReceiveTotals {
	packets: number;
	bytes: number;
	/** Packets the sequence numbers say were sent in the interval. */
	expected: number;
	lost: number;
	rtcpPackets: number;
}

export const emptyTotals = (): ReceiveTotals => ({ packets: 0, bytes: 0, expected: 0, lost: 0, rtcpPackets: 0 });

export function addTotals(a: ReceiveTotals, b: ReceiveTotals): ReceiveTotals {
	return {
		packets: a.packets + b.packets,
		bytes: a.bytes + b.bytes,
		expected: a.expected + b.expected,
		lost: a.lost + b.lost,
		rtcpPackets: a.rtcpPackets + b.rtcpPackets,
	};
}

const eol = "\r\n";

function codecLines(codec: HeadlessRtpCodec): string[] {
	const name = codec.mimeType.split("/")[1] ?? codec.mimeType;
	const lines = [
		`a=rtpmap:${codec.payloadType} ${name}/${codec.clockRate}${codec.channels && codec.channels > 1 ? `/${codec.channels}` : ""}`,
	];
	const parameters = Object.entries(codec.parameters ?? {});
	if (parameters.length > 0) {
		lines.push(`a=fmtp:${codec.payloadType} ${parameters.map(([key, value]) => `${key}=${String(value)}`).join(";")}`);
	}
	for (const feedback of codec.rtcpFeedback ?? []) {
		lines.push(`a=rtcp-fb:${codec.payloadType} ${feedback.type}${feedback.parameter ? ` ${feedback.parameter}` : ""}`);
	}
	return lines;
}

function transportLines(transport: HeadlessTransportParameters, setup: "actpass" | "passive" | "active"): string[] {
	const lines = [
		`a=ice-ufrag:${transport.iceParameters.usernameFragment}`,
		`a=ice-pwd:${transport.iceParameters.password}`,
	];
	for (const fingerprint of transport.dtlsParameters.fingerprints) {
		lines.push(`a=fingerprint:${fingerprint.algorithm} ${fingerprint.value.toUpperCase()}`);
	}
	lines.push(`a=setup:${setup}`);
	for (const candidate of transport.iceCandidates) {
		// libjuice only does UDP.
		if (candidate.protocol !== "udp") continue;
		const address = candidate.address ?? candidate.ip;
		lines.push(
			`a=candidate:${candidate.foundation} 1 udp ${candidate.priority} ${address} ${candidate.port} typ ${candidate.type}`,
		);
	}
	lines.push("a=end-of-candidates");
	return lines;
}

/**
 * The SDP a mediasoup transport would send if it spoke SDP: one m-line per
 * stream, in order, mids from the streams' rtpParameters.mid (or their index).
 * `direction` is the transport's: "sendonly" for a recv transport's
 * consumers (an offer), "recvonly" for a send transport's producers (an
 * answer to our own offer).
 */
export function mediasoupSdp(
	transport: HeadlessTransportParameters,
	streams: readonly HeadlessStream[],
	direction: "sendonly" | "recvonly",
	type: "offer" | "answer",
): string {
	const mids = streams.map((stream, index) => stream.rtpParameters.mid ?? String(index));
	const lines = [
		"v=0",
		`o=mediasoup ${Date.now()} 1 IN IP4 0.0.0.0`,
		"s=-",
		"t=0 0",
		...(transport.iceParameters.iceLite === false ? [] : ["a=ice-lite"]),
		`a=group:BUNDLE ${mids.join(" ")}`,
		"a=msid-semantic: WMS *",
	];
	streams.forEach((stream, index) => {
		const { rtpParameters } = stream;
		lines.push(
			`m=${stream.kind} 9 UDP/TLS/RTP/SAVPF ${rtpParameters.codecs.map((codec) => codec.payloadType).join(" ")}`,
			"c=IN IP4 127.0.0.1",
			`a=mid:${mids[index]}`,
			`a=${direction}`,
			"a=rtcp-mux",
			...(stream.kind === "video" ? ["a=rtcp-rsize"] : []),
			...transportLines(transport, type === "offer" ? "actpass" : "passive"),
		);
		for (const extension of rtpParameters.headerExtensions ?? []) {
			lines.push(`a=extmap:${extension.id} ${extension.uri}`);
		}
		for (const codec of rtpParameters.codecs) lines.push(...codecLines(codec));
		if (direction === "sendonly") {
			const cname = rtpParameters.rtcp?.cname ?? "mediasoup";
			for (const encoding of rtpParameters.encodings ?? []) {
				if (encoding.ssrc !== undefined) lines.push(`a=ssrc:${encoding.ssrc} cname:${cname}`);
				if (encoding.rtx) lines.push(`a=ssrc:${encoding.rtx.ssrc} cname:${cname}`);
			}
		}
	});
	return `${lines.join(eol)}${eol}`;
}

/** The local DTLS parameters of an SDP we produced, in mediasoup's terms (our role, our fingerprint). */
export function dtlsParametersOf(sdp: string): HeadlessDtlsParameters {
	const fingerprint = sdp.match(/a=fingerprint:(\S+) (\S+)/);
	if (!fingerprint?.[1] || !fingerprint[2]) throw new Error("no DTLS fingerprint in the local description");
	const setup = sdp.match(/a=setup:(\w+)/)?.[1];
	// actpass in our offer: the answer (mediasoup's, passive) makes us the client.
	const role = setup === "passive" ? "server" : "client";
	return { role, fingerprints: [{ algorithm: fingerprint[1], value: fingerprint[2] }] };
}

/** What a peer accepts of a remote offer (see restrictOffer). */
export interface OfferLimits {
	/** Header extension URIs to keep; every other a=extmap goes. */
	extensions: readonly string[];
	/** RTCP feedback to keep, as written after the payload type ("nack", "nack pli", "ccm fir"). */
	feedback: readonly string[];
	/** Drop RTX payload types (and their SSRCs). */
	rtx: boolean;
}

/**
 * Narrow a remote offer to what this peer should negotiate, before
 * answering it: libdatachannel echoes every extension, feedback type and RTX
 * payload type it is offered, whereas a benchmark has to match features
 * across systems (what a browser that lacked them would answer).
 */
export function restrictOffer(sdp: string, limits: OfferLimits): string {
	const [head = "", ...sections] = sdp.split(/\r?\n(?=m=)/);
	const narrowed = sections.map((section) => {
		const lines = section.split(/\r?\n/).filter((line) => line.length > 0);
		const rtxTypes = new Set<string>();
		if (!limits.rtx) {
			for (const line of lines) {
				const match = line.match(/^a=rtpmap:(\d+) rtx\//i);
				if (match?.[1]) rtxTypes.add(match[1]);
			}
		}
		const rtxSsrcs = new Set<string>();
		for (const line of lines) {
			const group = line.match(/^a=ssrc-group:FID \d+ (\d+)/);
			if (group?.[1] && !limits.rtx) rtxSsrcs.add(group[1]);
		}
		return lines
			.map((line, index) => {
				if (index === 0 && rtxTypes.size > 0) {
					const [m, port, proto, ...types] = line.split(" ");
					return [m, port, proto, ...types.filter((type) => !rtxTypes.has(type))].join(" ");
				}
				return line;
			})
			.filter((line) => {
				const extension = line.match(/^a=extmap:\d+\S* (\S+)/);
				if (extension?.[1]) return limits.extensions.includes(extension[1]);
				const feedback = line.match(/^a=rtcp-fb:\S+ (.+)$/);
				if (feedback?.[1]) return limits.feedback.includes(feedback[1].trim());
				const format = line.match(/^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)/);
				if (format?.[1] && rtxTypes.has(format[1])) return false;
				if (line.startsWith("a=ssrc-group:FID")) return limits.rtx;
				const ssrc = line.match(/^a=ssrc:(\d+)/);
				if (ssrc?.[1] && rtxSsrcs.has(ssrc[1])) return false;
				return true;
			})
			.join("\r\n");
	});
	return `${[head.replace(/\r?\n$/, ""), ...narrowed].join("\r\n")}\r\n`;
}

export interface HeadlessPeerOptions {
	/** Local address ICE binds to (default 127.0.0.1: everything stays on loopback). */
	bindAddress?: string;
	/** Give up waiting for ICE+DTLS after this long (ms). */
	connectTimeoutMs?: number;
}

/** One RTP stream we send: an m-line of our offer and what to stamp on each packet. */
export interface SendTrackSpec {
	kind: "audio" | "video";
	mid: string;
	payloadType: number;
	ssrc: number;
	/** e.g. "opus", "VP8". */
	codec: "opus" | "VP8";
	cname: string;
}

class Counter {
	readonly ssrc: number;
	payloadType = 0;
	packets = 0;
	bytes = 0;
	firstSeq = -1;
	highestSeq = -1;
	firstAt = 0;
	lastAt = 0;

	constructor(ssrc: number) {
		this.ssrc = ssrc;
	}

	add(seq: number, payloadType: number, bytes: number): void {
		this.packets++;
		this.bytes += bytes;
		this.payloadType = payloadType;
		this.lastAt = Date.now();
		if (this.highestSeq < 0) {
			this.firstAt = this.lastAt;
			this.firstSeq = seq;
			this.highestSeq = seq;
			return;
		}
		// Extend the 16-bit sequence number around the highest seen (wraps every ~20 min of video).
		const cycle = this.highestSeq - (this.highestSeq & 0xffff);
		let extended = cycle + seq;
		if (extended < this.highestSeq - 0x8000) extended += 0x10000;
		else if (extended > this.highestSeq + 0x8000) extended -= 0x10000;
		if (extended > this.highestSeq) this.highestSeq = extended;
	}

	static copy({ ssrc, payloadType, packets, bytes, firstSeq, highestSeq, firstAt, lastAt }: Counter): StreamCount {
		return { ssrc, payloadType, packets, bytes, firstSeq, highestSeq, firstAt, lastAt };
	}
}

/**
 * One PeerConnection. As a receiver it counts every RTP packet of every
 * track it is offered; as a sender it forwards raw RTP on its tracks
 * (libdatachannel encrypts it with the DTLS-SRTP keys).
 */
export class HeadlessPeer {
	readonly #pc: PeerConnection;
	readonly #options: Required<HeadlessPeerOptions>;
	readonly #counters = new Map<number, Counter>();
	readonly #tracks: Track[] = [];
	readonly #sendTracks = new Map<string, { track: Track; spec: SendTrackSpec }>();
	#rtcpPackets = 0;
	#state = "new";
	#closed = false;

	constructor(name: string, options: HeadlessPeerOptions = {}) {
		this.#options = { bindAddress: "127.0.0.1", connectTimeoutMs: 20_000, ...options };
		this.#pc = new nodeDataChannel.PeerConnection(name, {
			iceServers: [],
			bindAddress: this.#options.bindAddress,
		});
		this.#pc.onStateChange((state) => {
			this.#state = state;
		});
		// Tracks the remote side offers: count what arrives on them.
		this.#pc.onTrack((track) => this.#receiveOn(track));
	}

	get state(): string {
		return this.#state;
	}

	#receiveOn(track: Track): void {
		this.#tracks.push(track);
		track.onMessage((message) => this.#count(message));
	}

	#count(packet: Buffer): void {
		if (packet.length < 12 || packet[0] === undefined || packet[1] === undefined || packet[0] >> 6 !== 2) return;
		// RTCP packet types 192–223 (SR, RR, SDES, BYE, feedback) share the second byte's range.
		if (packet[1] >= 192 && packet[1] <= 223) {
			this.#rtcpPackets++;
			return;
		}
		const ssrc = packet.readUInt32BE(8);
		let counter = this.#counters.get(ssrc);
		if (!counter) {
			counter = new Counter(ssrc);
			this.#counters.set(ssrc, counter);
		}
		counter.add(packet.readUInt16BE(2), packet[1] & 0x7f, packet.length);
	}

	/** Per-SSRC counts since the peer started. */
	streams(): StreamCount[] {
		return [...this.#counters.values()].map((counter) => Counter.copy(counter));
	}

	/** The counts of one SSRC, or undefined before its first packet. */
	stream(ssrc: number): StreamCount | undefined {
		const counter = this.#counters.get(ssrc);
		return counter ? Counter.copy(counter) : undefined;
	}

	/** A snapshot to subtract from a later one (see totalsBetween). */
	snapshot(): { streams: StreamCount[]; rtcpPackets: number } {
		return { streams: this.streams(), rtcpPackets: this.#rtcpPackets };
	}

	/**
	 * What arrived between two snapshots: packets, and loss from sequence
	 * numbers (a stream that had not started at `from` counts from its first
	 * packet). Late or duplicated packets can make `lost` slightly negative
	 * for an interval; it is clamped at 0 per stream.
	 */
	static totalsBetween(
		from: { streams: StreamCount[]; rtcpPackets: number },
		to: { streams: StreamCount[]; rtcpPackets: number },
		/** Only these SSRCs (e.g. one consumer's); every stream when absent. */
		only?: ReadonlySet<number>,
	): ReceiveTotals {
		const totals = emptyTotals();
		totals.rtcpPackets = to.rtcpPackets - from.rtcpPackets;
		for (const stream of to.streams) {
			if (only && !only.has(stream.ssrc)) continue;
			const before = from.streams.find((candidate) => candidate.ssrc === stream.ssrc);
			const packets = stream.packets - (before?.packets ?? 0);
			const expected = before ? stream.highestSeq - before.highestSeq : stream.highestSeq - stream.firstSeq + 1;
			totals.packets += packets;
			totals.bytes += stream.bytes - (before?.bytes ?? 0);
			totals.expected += expected;
			totals.lost += Math.max(0, expected - packets);
		}
		return totals;
	}

	/**
	 * Answer a remote offer (mediasoup's consumers as SDP, or Janus's offer);
	 * resolves with our answer once ICE gathering is complete (so it carries
	 * our candidates, for an offerer that is not ICE-lite).
	 */
	async answer(offerSdp: string): Promise<string> {
		const gathered = this.#gathered();
		this.#pc.setRemoteDescription(offerSdp, "offer");
		await gathered;
		const local = this.#pc.localDescription();
		if (local?.type !== "answer") throw new Error("node-datachannel made no answer");
		return local.sdp;
	}

	/**
	 * Add tracks to send, and make the offer; resolves with it once ICE
	 * gathering is complete. Then `accept` the remote answer.
	 */
	async offer(tracks: readonly SendTrackSpec[]): Promise<string> {
		for (const spec of tracks) {
			let media: Audio | Video;
			if (spec.kind === "audio") {
				const audio = new nodeDataChannel.Audio(spec.mid, "SendOnly");
				audio.addOpusCodec(spec.payloadType);
				media = audio;
			} else {
				const video = new nodeDataChannel.Video(spec.mid, "SendOnly");
				video.addVP8Codec(spec.payloadType);
				media = video;
			}
			media.addSSRC(spec.ssrc, spec.cname, "headless", `${spec.kind}-${spec.mid}`);
			const track = this.#pc.addTrack(media);
			this.#sendTracks.set(spec.mid, { track, spec });
		}
		const gathered = this.#gathered();
		this.#pc.setLocalDescription("offer");
		await gathered;
		const local = this.#pc.localDescription();
		if (local?.type !== "offer") throw new Error("node-datachannel made no offer");
		return local.sdp;
	}

	accept(answerSdp: string): void {
		this.#pc.setRemoteDescription(answerSdp, "answer");
	}

	/** Resolves once ICE and DTLS are up (the SRTP keys exist), rejects on failure or after the timeout. */
	async connected(): Promise<void> {
		const deadline = Date.now() + this.#options.connectTimeoutMs;
		for (;;) {
			if (this.#state === "connected") return;
			if (this.#state === "failed" || this.#state === "closed" || this.#closed) {
				throw new Error(`the peer connection ${this.#state}`);
			}
			if (Date.now() > deadline) throw new Error(`not connected within ${this.#options.connectTimeoutMs} ms`);
			await new Promise((resolve) => setTimeout(resolve, 20));
		}
	}

	/**
	 * Send one RTP packet on the track of `mid`, stamped with that track's
	 * SSRC and payload type (the marker bit is kept). Returns false when the
	 * track is not open yet.
	 */
	sendRtp(mid: string, packet: Buffer): boolean {
		const entry = this.#sendTracks.get(mid);
		if (!entry?.track.isOpen() || packet.length < 12 || packet[1] === undefined) return false;
		packet[1] = (packet[1] & 0x80) | entry.spec.payloadType;
		packet.writeUInt32BE(entry.spec.ssrc, 8);
		return entry.track.sendMessageBinary(packet);
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		for (const track of this.#tracks) track.close();
		for (const { track } of this.#sendTracks.values()) track.close();
		this.#pc.close();
	}

	#gathered(): Promise<void> {
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error("ICE gathering did not complete")), 10_000);
			const check = () => {
				if (this.#pc.gatheringState() === "complete") {
					clearTimeout(timer);
					resolve();
					return true;
				}
				return false;
			};
			this.#pc.onGatheringStateChange(() => {
				check();
			});
			// It may already be complete (a second negotiation).
			setImmediate(check);
		});
	}
}

/**
 * Frees node-datachannel's threads: call once when every peer is closed, or
 * the process may not exit. It waits a moment first: cleaning up right
 * after closing many peers crashed the process (SIGSEGV) while their
 * threads were still winding down. It still crashed after runs against
 * Janus: a process that is done may rather exit (process.exit) without it.
 */
export async function headlessCleanup(): Promise<void> {
	await new Promise((resolve) => setTimeout(resolve, 1_000));
	nodeDataChannel.cleanup();
}
