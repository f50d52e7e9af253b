/**
 * What the publisher produces and what the subscribers can receive, in
 * mediasoup's terms: the same for the product and for bare mediasoup, and
 * matched in Janus's room settings (see janus.ts). VP8 with NACK, PLI and
 * FIR; Opus; the MID header extension only. No RTX, no transport-cc, no
 * REMB, no audio level: the headless peers send no RTCP feedback, so
 * nothing else would be exercised, and every system then does the same work.
 */
import type { RtpCapabilities } from "mediasoup-client/types";
import { publisherTracks, videoFeedback } from "./media-source.ts";

const midExtension = "urn:ietf:params:rtp-hdrext:sdes:mid";

function track(kind: "audio" | "video") {
	const found = publisherTracks.find((candidate) => candidate.kind === kind);
	if (!found) throw new Error(`no ${kind} track`);
	return found;
}

/** The producers' rtpParameters (what mediasoup-client would send for our offer). */
export function producerRtpParameters(kind: "audio" | "video") {
	const spec = track(kind);
	return {
		mid: spec.mid,
		codecs: [
			kind === "audio"
				? { mimeType: "audio/opus", payloadType: spec.payloadType, clockRate: 48000, channels: 2, parameters: {} }
				: {
						mimeType: "video/VP8",
						payloadType: spec.payloadType,
						clockRate: 90000,
						parameters: {},
						rtcpFeedback: videoFeedback.map((feedback) => ({ ...feedback })),
					},
		],
		headerExtensions: [],
		encodings: [{ ssrc: spec.ssrc }],
		rtcp: { cname: spec.cname, reducedSize: true },
	};
}

/** A subscriber's rtpCapabilities: what the headless peer takes. */
export const subscriberRtpCapabilities: RtpCapabilities = {
	codecs: [
		{
			kind: "audio" as const,
			mimeType: "audio/opus",
			preferredPayloadType: 100,
			clockRate: 48000,
			channels: 2,
			parameters: {},
			rtcpFeedback: [],
		},
		{
			kind: "video" as const,
			mimeType: "video/VP8",
			preferredPayloadType: 101,
			clockRate: 90000,
			parameters: {},
			rtcpFeedback: videoFeedback.map((feedback) => ({ ...feedback })),
		},
	],
	headerExtensions: (["audio", "video"] as const).map((kind) => ({
		kind,
		uri: midExtension as "urn:ietf:params:rtp-hdrext:sdes:mid",
		preferredId: 1,
		direction: "sendrecv" as const,
	})),
};

/** One line on what a mediasoup consumer pair negotiated, from their rtpParameters. */
export function describeConsumers(
	consumers: readonly {
		kind: string;
		rtpParameters: {
			codecs: { mimeType: string; rtcpFeedback?: { type: string; parameter?: string }[] }[];
			headerExtensions?: { uri: string }[];
		};
	}[],
): string {
	return consumers
		.map(({ kind, rtpParameters }) => {
			const codec = rtpParameters.codecs[0];
			const feedback = (codec?.rtcpFeedback ?? []).map(
				(item) => `${item.type}${item.parameter ? ` ${item.parameter}` : ""}`,
			);
			const extensions = (rtpParameters.headerExtensions ?? []).map((item) => item.uri.split(/[:/]/).pop());
			return `${kind}: ${codec?.mimeType ?? "?"} (${rtpParameters.codecs.length} codec${rtpParameters.codecs.length > 1 ? "s" : ""}), feedback [${feedback.join(", ")}], extensions [${extensions.join(", ")}]`;
		})
		.join("; ");
}

/** The same limits for a system that makes its own offer (Janus): what the subscribers' answers keep. */
export const subscriberOfferLimits = {
	extensions: [midExtension],
	feedback: videoFeedback.map(
		(feedback) => `${feedback.type}${"parameter" in feedback ? ` ${feedback.parameter}` : ""}`,
	),
	rtx: false,
};
