/**
 * Bare mediasoup for the fan-out benchmark, in a process of its own (forked
 * by bare-mediasoup.ts, which sends it requests over the IPC channel): one
 * worker (MEDIASOUP_WORKER_BIN, the product's binary), one router with the
 * product's codecs, a WebRtcServer on 127.0.0.1 as the product has, and
 * WebRtcTransports with the product's transport options. No product code
 * runs here; only the codec list (read from the product's media-codecs.ts)
 * and the transport options are the same.
 */
import { createWorker } from "mediasoup";
import type {
	Consumer,
	Producer,
	RouterRtpCodecCapability,
	RtpCapabilities,
	RtpParameters,
	WebRtcTransport,
} from "mediasoup/types";

export interface BareRequest {
	id: number;
	method: "createTransport" | "connect" | "produce" | "consume";
	data: Record<string, unknown>;
}

// The product's codec list, read from its file (the only thing taken from the product), at run time:
// the scripts' type-check project does not include the SFU's sources.
const codecsFile = new URL("../../../services/sfu/src/media-codecs.ts", import.meta.url).href;
const { mediaCodecs } = (await import(codecsFile)) as { mediaCodecs: RouterRtpCodecCapability[] };
const worker = await createWorker({ workerBin: process.env.MEDIASOUP_WORKER_BIN, logLevel: "warn" });
const router = await worker.createRouter({ mediaCodecs });
const webRtcServer = await worker.createWebRtcServer({
	listenInfos: [
		{ protocol: "udp", ip: "127.0.0.1" },
		{ protocol: "tcp", ip: "127.0.0.1" },
	],
});
const transports = new Map<string, WebRtcTransport>();
const producers: Producer[] = [];
const consumers: Consumer[] = [];

async function handle(method: BareRequest["method"], data: Record<string, unknown>): Promise<unknown> {
	switch (method) {
		case "createTransport": {
			const transport = await router.createWebRtcTransport({
				webRtcServer,
				enableUdp: true,
				enableTcp: true,
				preferUdp: true,
				initialAvailableOutgoingBitrate: 1_000_000,
			});
			transports.set(transport.id, transport);
			return {
				id: transport.id,
				iceParameters: transport.iceParameters,
				iceCandidates: transport.iceCandidates,
				dtlsParameters: transport.dtlsParameters,
			};
		}
		case "connect": {
			const transport = transports.get(String(data.transportId));
			if (!transport) throw new Error("no such transport");
			await transport.connect({ dtlsParameters: data.dtlsParameters as WebRtcTransport["dtlsParameters"] });
			return {};
		}
		case "produce": {
			const transport = transports.get(String(data.transportId));
			if (!transport) throw new Error("no such transport");
			const producer = await transport.produce({
				kind: data.kind as "audio" | "video",
				rtpParameters: data.rtpParameters as RtpParameters,
			});
			producers.push(producer);
			return { producerId: producer.id };
		}
		case "consume": {
			const transport = transports.get(String(data.transportId));
			if (!transport) throw new Error("no such transport");
			const made = [];
			for (const producer of producers) {
				const consumer = await transport.consume({
					producerId: producer.id,
					rtpCapabilities: data.rtpCapabilities as RtpCapabilities,
				});
				consumers.push(consumer);
				made.push({ id: consumer.id, kind: consumer.kind, rtpParameters: consumer.rtpParameters });
			}
			return made;
		}
	}
}

process.on("message", (message: BareRequest) => {
	handle(message.method, message.data).then(
		(result) => process.send?.({ id: message.id, result }),
		(error: unknown) => process.send?.({ id: message.id, error: (error as Error).message }),
	);
});
// The parent going away ends this process (and mediasoup closes its worker).
process.on("disconnect", () => {
	worker.close();
	process.exit(0);
});
process.send?.({ ready: true, workerPid: worker.pid });
