/**
 * The SFU's router RTP capabilities before anyone has a token: every router
 * of a node is made with the same codecs (services/sfu/src/media-codecs.ts),
 * so the node publishes what one of its routers reports, and the API hands
 * it out with the room's public facts (RoomInfo). A guest's browser loads
 * its mediasoup Device with them while it waits to be let in, so the device
 * is ready when the token arrives instead of asking the SFU first.
 *
 * They say nothing about anyone (the codec list and RTP header extensions
 * mediasoup supports), so they are no secret.
 */
import { type Static, Type } from "@sinclair/typebox";
import type { RtpCapabilities } from "mediasoup-client/types";

/**
 * Hash nodeId → JSON RouterRtpCapabilities, written by each SFU node when it
 * starts and with every periodic heartbeat (so a restarted Redis has it again
 * within one), removed when the node shuts down. Apart from the node status
 * records (`redisKeys.sfuNodes`) because it is a few KB that never change,
 * while the status is rewritten on every load change and read on every placement.
 */
export const sfuRtpCapabilitiesKey = "mm:sfu:rtp-capabilities";

const Kind = Type.Union([Type.Literal("audio"), Type.Literal("video")]);

/**
 * What a mediasoup router's `rtpCapabilities` hold, checked in full (it comes
 * from Redis, and a browser hands it to its RTCPeerConnection): the
 * client library's own type, whose header extension URIs are a closed list
 * that a newer mediasoup may extend, is asserted over this shape.
 */
export const RouterRtpCapabilities = Type.Unsafe<RtpCapabilities>(
	Type.Object({
		codecs: Type.Array(
			Type.Object({
				kind: Kind,
				mimeType: Type.String({ minLength: 3, maxLength: 64 }),
				preferredPayloadType: Type.Integer({ minimum: 0, maximum: 127 }),
				clockRate: Type.Integer({ minimum: 1 }),
				channels: Type.Optional(Type.Integer({ minimum: 1, maximum: 255 })),
				parameters: Type.Optional(
					Type.Record(Type.String({ maxLength: 64 }), Type.Union([Type.String({ maxLength: 256 }), Type.Number()])),
				),
				rtcpFeedback: Type.Optional(
					Type.Array(
						Type.Object({
							type: Type.String({ minLength: 1, maxLength: 64 }),
							parameter: Type.Optional(Type.String({ maxLength: 64 })),
						}),
						{ maxItems: 16 },
					),
				),
			}),
			{ minItems: 1, maxItems: 64 },
		),
		headerExtensions: Type.Optional(
			Type.Array(
				Type.Object({
					kind: Kind,
					uri: Type.String({ minLength: 1, maxLength: 256 }),
					preferredId: Type.Integer({ minimum: 1, maximum: 255 }),
					preferredEncrypt: Type.Optional(Type.Boolean()),
					direction: Type.Optional(
						Type.Union([
							Type.Literal("sendrecv"),
							Type.Literal("sendonly"),
							Type.Literal("recvonly"),
							Type.Literal("inactive"),
						]),
					),
				}),
				{ maxItems: 32 },
			),
		),
	}),
);
export type RouterRtpCapabilities = Static<typeof RouterRtpCapabilities>;
