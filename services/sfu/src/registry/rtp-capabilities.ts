/**
 * What this node's routers can do, asked of a real one: every room's router
 * is made with the same `mediaCodecs`, so one made and closed at start says
 * what all of them will say (mediasoup numbers payload types and header
 * extensions the same way each time). The node publishes it (NodeRegistry)
 * so browsers load their media device before they may connect.
 */
import type { RtpCapabilities, Worker } from "mediasoup/types";
import type { Logger } from "pino";
import { mediaCodecs } from "../media-codecs.ts";

/**
 * The capabilities of a router made as rooms make theirs, on the first live
 * worker; undefined (logged) when none could be made. Nothing depends on
 * them but the early device load, which then simply does not happen.
 */
export async function probeRouterRtpCapabilities(
	pool: { readonly workers: readonly { readonly worker: Worker }[] },
	logger: Logger,
): Promise<RtpCapabilities | undefined> {
	const worker = pool.workers.find(({ worker }) => !worker.closed)?.worker;
	try {
		if (!worker) throw new Error("no live worker");
		const router = await worker.createRouter({ mediaCodecs });
		try {
			return router.rtpCapabilities;
		} finally {
			router.close();
		}
	} catch (error) {
		logger.warn({ err: error }, "could not read the routers' RTP capabilities; browsers will ask for them");
		return undefined;
	}
}
