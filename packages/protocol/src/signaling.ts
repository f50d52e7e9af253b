/**
 * protoo signaling between the browser and the SFU, declared once.
 *
 * Request data sent by clients is declared as JSON schemas (TypeBox) so the SFU
 * validates every request against exactly the type the client compiles
 * against; responses, server→client requests and notifications are plain
 * types because the server produces them.
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import type {
	DtlsParameters,
	IceCandidate,
	IceParameters,
	MediaKind,
	RtpCapabilities,
	RtpParameters,
} from "mediasoup-client/types";
import type { PeerRole, RoomMode } from "./api.ts";
import { limits } from "./limits.ts";

/** What a producer carries; decides how the other side shows it. */
export const MediaSource = Type.Union([Type.Literal("mic"), Type.Literal("cam"), Type.Literal("screen")]);
export type MediaSource = Static<typeof MediaSource>;

const Id = Type.String({ minLength: 1, maxLength: 64 });
const Empty = Type.Object({}, { additionalProperties: false });

/**
 * Deep RTP structures are validated by mediasoup itself (it throws TypeError on
 * anything malformed); the schema only bounds their outer shape.
 */
const RtpCapabilitiesSchema = Type.Unsafe<RtpCapabilities>(
	Type.Object({ codecs: Type.Array(Type.Object({}), { maxItems: 128 }) }, { additionalProperties: true }),
);
const RtpParametersSchema = Type.Unsafe<RtpParameters>(
	Type.Object({ codecs: Type.Array(Type.Object({}), { minItems: 1, maxItems: 32 }) }, { additionalProperties: true }),
);
const DtlsParametersSchema = Type.Unsafe<DtlsParameters>(
	Type.Object(
		{
			role: Type.Optional(Type.Union([Type.Literal("auto"), Type.Literal("client"), Type.Literal("server")])),
			fingerprints: Type.Array(
				Type.Object({ algorithm: Type.String({ maxLength: 16 }), value: Type.String({ maxLength: 256 }) }),
				{ minItems: 1, maxItems: 8 },
			),
		},
		{ additionalProperties: false },
	),
);

/** Schemas of the data of every request a client may send to the SFU. */
export const clientRequestSchemas = {
	getRouterRtpCapabilities: Empty,
	createWebRtcTransport: Type.Object(
		{ direction: Type.Union([Type.Literal("send"), Type.Literal("recv")]) },
		{ additionalProperties: false },
	),
	connectWebRtcTransport: Type.Object(
		{ transportId: Id, dtlsParameters: DtlsParametersSchema },
		{ additionalProperties: false },
	),
	/** Enter the call: from now on the peer is visible and consumes everyone else. */
	join: Type.Object({ rtpCapabilities: RtpCapabilitiesSchema }, { additionalProperties: false }),
	produce: Type.Object(
		{
			transportId: Id,
			kind: Type.Union([Type.Literal("audio"), Type.Literal("video")]),
			rtpParameters: RtpParametersSchema,
			source: MediaSource,
		},
		{ additionalProperties: false },
	),
	closeProducer: Type.Object({ producerId: Id }, { additionalProperties: false }),
	pauseProducer: Type.Object({ producerId: Id }, { additionalProperties: false }),
	resumeProducer: Type.Object({ producerId: Id }, { additionalProperties: false }),
	/** Send a chat message; the SFU trims, checks 1..chatMaxLength, stamps time and sender, stores and broadcasts it. */
	sendChat: Type.Object(
		{ text: Type.String({ minLength: 1, maxLength: limits.chatMaxLength * 2 }) },
		{ additionalProperties: false },
	),
	/** Ask for the simulcast layer that fits the tile showing this consumer (0 = lowest). */
	setConsumerPreferredLayers: Type.Object(
		{
			consumerId: Id,
			spatialLayer: Type.Integer({ minimum: 0, maximum: 3 }),
			temporalLayer: Type.Optional(Type.Integer({ minimum: 0, maximum: 3 })),
		},
		{ additionalProperties: false },
	),
	/**
	 * Stop forwarding one of our own consumers: its video is off screen (another
	 * page of the grid, a hidden tab). Unrelated to the sender pausing its
	 * producer (`consumerPaused`/`consumerResumed` and `producerPaused`).
	 */
	pauseConsumer: Type.Object({ consumerId: Id }, { additionalProperties: false }),
	/** Forward it again, starting from a fresh key frame. */
	resumeConsumer: Type.Object({ consumerId: Id }, { additionalProperties: false }),
	/** Host only: remove a peer from the call; its token is revoked until the room ends. */
	kickPeer: Type.Object({ peerId: Id }, { additionalProperties: false }),
	/** Leave on purpose. Unlike a dropped socket, a host leaving this way hands the role over at once. */
	leave: Empty,
	/**
	 * Liveness check. Clients send it every few seconds while connected: a
	 * socket that stops answering (a network cut leaves TCP silently open) is
	 * given up and replaced by a fresh one.
	 */
	ping: Empty,
	/** One page of chat history older than the message `before` (see limits.chatHistoryPage*). */
	chatHistory: Type.Object({ before: Id }, { additionalProperties: false }),
} as const satisfies Record<string, TSchema>;

export type ClientRequestMethod = keyof typeof clientRequestSchemas;

/** A chat message as stored and broadcast: sender and time are the server's, never the client's. */
export const ChatMessage = Type.Object({
	id: Id,
	peerId: Type.String({ minLength: 1 }),
	/** The sender's display name: at most limits.nameMaxLength characters, so at most twice that in UTF-16 units. */
	name: Type.String({ maxLength: limits.nameMaxLength * 2 }),
	/** 1..limits.chatMaxLength characters (code points; the SFU counts them, a schema counts UTF-16 units). */
	text: Type.String({ minLength: 1, maxLength: limits.chatMaxLength * 2 }),
	/** Server time, epoch ms; clients show it as HH:mm in their own time zone. */
	sentAt: Type.Number(),
});
export type ChatMessage = Static<typeof ChatMessage>;

export interface PeerInfo {
	id: string;
	name: string;
	/** Current role: the host may change during the call (see hostChanged). */
	role: PeerRole;
}

export interface WebRtcTransportInfo {
	id: string;
	iceParameters: IceParameters;
	iceCandidates: IceCandidate[];
	dtlsParameters: DtlsParameters;
}

interface ClientResponses {
	getRouterRtpCapabilities: RtpCapabilities;
	createWebRtcTransport: WebRtcTransportInfo;
	connectWebRtcTransport: Record<string, never>;
	/**
	 * `chat` is the newest page of the room's history, oldest first (bounded
	 * by limits.chatHistoryPageMax and chatHistoryPageMaxBytes); `chatMore`
	 * says older messages can be asked for with `chatHistory`.
	 *
	 * Sent again after `mediaReset` on the same connection, `join` is a
	 * rejoin: nobody is told the peer joined, and the answer is the same.
	 */
	join: { self: PeerInfo; peers: PeerInfo[]; mode: RoomMode; chat: ChatMessage[]; chatMore: boolean };
	produce: { producerId: string };
	closeProducer: Record<string, never>;
	pauseProducer: Record<string, never>;
	resumeProducer: Record<string, never>;
	sendChat: { message: ChatMessage };
	setConsumerPreferredLayers: Record<string, never>;
	pauseConsumer: Record<string, never>;
	resumeConsumer: Record<string, never>;
	kickPeer: Record<string, never>;
	leave: Record<string, never>;
	/** `now`: server time, epoch ms. */
	ping: { now: number };
	/** Oldest first; `more` says there are older ones still. */
	chatHistory: { messages: ChatMessage[]; more: boolean };
}

/** Typed map: method → request data and response data. */
export type ClientRequests = {
	[M in ClientRequestMethod]: {
		request: Static<(typeof clientRequestSchemas)[M]>;
		response: ClientResponses[M];
	};
};

/** Requests the SFU sends to a client, which must answer before media flows. */
export interface ServerRequests {
	/** A consumer was created paused; the SFU resumes it once the client accepts. */
	newConsumer: {
		request: {
			id: string;
			peerId: string;
			producerId: string;
			kind: MediaKind;
			source: MediaSource;
			rtpParameters: RtpParameters;
			producerPaused: boolean;
		};
		response: Record<string, never>;
	};
}
export type ServerRequestMethod = keyof ServerRequests;

/**
 * Why the SFU refused a connection; sent as a `refused` notification before it
 * closes. A refusal is final: the client drops its credentials and stops.
 *
 * Anything else that ends a connection is "unavailable" and never final:
 * the SFU rejects the WebSocket upgrade with HTTP 503 when it cannot decide
 * (Redis unreachable, no live media worker), the signaling proxy closes with
 * 1011/1013 when the node is unreachable, a process restart drops the socket.
 * The client keeps its credentials and retries with back-off. Only `refused`,
 * `kicked` and `roomClosed` end a call for good.
 */
export type RefusalReason =
	| "token-missing"
	| "token-invalid"
	| "token-expired"
	| "token-revoked"
	| "wrong-room"
	| "room-not-found"
	/**
	 * Capacity and conduct (see the SFU's ROOM_MAX_PEERS, SFU_MAX_ROOMS and
	 * SIGNALING_* settings). `room-full`: the room has as many people as it
	 * takes. `server-full`: the room would have to open on a node that has
	 * as many rooms as it takes. Final all the same: waiting and retrying
	 * silently would leave the person looking at "reconnecting" with no
	 * reason; they are told plainly and may try again later by hand.
	 * `too-many-requests`: the connection kept sending requests long after
	 * they were refused with `rate-limited`; sent, like any refusal, just
	 * before the SFU closes it. A real client never sees it.
	 */
	| "room-full"
	| "server-full"
	| "too-many-requests";

/**
 * Why someone is no longer in the call: `left` (the leave button), `kicked`,
 * `dropped` (the connection closed without a goodbye: a closed tab, a reload,
 * a network cut) or `replaced` (the same person connected again, e.g. a
 * reload that beat the old socket's close). After `dropped` or `replaced` the
 * same peer id often comes back within seconds.
 */
export type PeerDeparture = "left" | "kicked" | "dropped" | "replaced";

/** Notifications the SFU sends to clients. */
export interface ServerNotifications {
	refused: { reason: RefusalReason; message: string };
	peerJoined: PeerInfo;
	peerLeft: { peerId: string; reason: PeerDeparture };
	consumerClosed: { consumerId: string };
	consumerPaused: { consumerId: string };
	consumerResumed: { consumerId: string };
	/** To the removed peer, just before its socket closes. */
	kicked: Record<string, never>;
	/** To everyone, just before the room closes (an operator closed it). */
	roomClosed: Record<string, never>;
	/** The host role moved to `peerId` (the host left; the longest-present participant takes over). */
	hostChanged: { peerId: string };
	chatMessage: ChatMessage;
	/**
	 * The room's media moved to another mediasoup worker (the one it was on
	 * died): every transport, producer and consumer of this peer is gone,
	 * while the connection, the people in the room, the host and the chat
	 * stay. The client rebuilds its media on the same connection:
	 * getRouterRtpCapabilities → createWebRtcTransport (both) → join (a
	 * rejoin: nobody hears of it) → produce again.
	 */
	mediaReset: { reason: "worker-died" };
	/**
	 * Who is speaking now, loudest first (the router's AudioLevelObserver,
	 * about every 300 ms while anyone speaks); an empty list means silence.
	 * Paused (muted) microphones are never listed.
	 */
	speaking: { peerIds: string[] };
}
export type ServerNotificationMethod = keyof ServerNotifications;

/** Error codes carried in protoo error responses (`error.message` starts with the code). */
export type SignalingErrorCode =
	| "bad-request"
	| "unknown-method"
	| "not-found"
	| "not-joined"
	| "forbidden"
	| "rate-limited"
	| "conflict"
	| "internal";

/** Query parameter that carries the media token on the protoo WebSocket URL. */
export const signalingTokenParam = "token";

/** Query parameter that names the room the client means to enter; must match the token's room. */
export const signalingRoomParam = "roomId";

/**
 * Producer demand (issue 11, "the publisher stops sending what nobody
 * watches"): the highest spatial layer of one of our video producers that
 * someone watching wants (0 = the lowest), or `null` when nobody watches it.
 * The publisher sends layers up to that one and nothing above; with `null`
 * it sends nothing of that video, without muting it (the producer stays
 * resumed at the SFU, the local preview keeps showing). A new producer
 * starts out sending every layer until told otherwise. Raises come at once,
 * lowers after a short delay. Never sent for audio.
 */
export interface ProducerDemand {
	producerId: string;
	maxSpatialLayer: number | null;
}

/** The notification that carries ProducerDemand (declared apart, merged into ServerNotifications). */
export interface ServerNotifications {
	producerDemand: ProducerDemand;
}
