import type { RouterRtpCodecCapability } from "mediasoup/types";

/**
 * Opus and VP8 are what every browser sends; VP9 and H264 are offered too
 * because they cost nothing unless a client picks them.
 */
export const mediaCodecs: RouterRtpCodecCapability[] = [
	{ kind: "audio", mimeType: "audio/opus", clockRate: 48000, channels: 2 },
	{ kind: "video", mimeType: "video/VP8", clockRate: 90000, parameters: { "x-google-start-bitrate": 1000 } },
	{
		kind: "video",
		mimeType: "video/VP9",
		clockRate: 90000,
		parameters: { "profile-id": 2, "x-google-start-bitrate": 1000 },
	},
	{
		kind: "video",
		mimeType: "video/H264",
		clockRate: 90000,
		parameters: {
			"packetization-mode": 1,
			"profile-level-id": "42e01f",
			"level-asymmetry-allowed": 1,
			"x-google-start-bitrate": 1000,
		},
	},
];
