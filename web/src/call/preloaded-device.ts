/**
 * The mediasoup Device, loaded before the call: the room's public facts
 * (RoomInfo) carry its SFU node's router capabilities, so the browser loads
 * the device while the person types their name and waits to be let in, and
 * the call's first attempt needs neither `getRouterRtpCapabilities` nor the
 * load (which builds an RTCPeerConnection to read what the browser can do).
 */
import { Device } from "mediasoup-client";
import type { RtpCapabilities } from "mediasoup-client/types";

/** A mediasoup Device for this browser, loaded with a router's capabilities (rejects when it refuses them). */
export async function loadDevice(routerRtpCapabilities: RtpCapabilities): Promise<Device> {
	const device = await Device.factory();
	await device.load({ routerRtpCapabilities });
	return device;
}

/**
 * Load a device with these capabilities before the call. Resolves to undefined, never
 * rejects, when there are none (an older API, a node that did not publish
 * them) or the load fails (mediasoup-client refuses malformed ones): the
 * call then asks the SFU for them, as it always did.
 */
export function preloadDevice(routerRtpCapabilities: RtpCapabilities | undefined): Promise<Device | undefined> {
	if (!routerRtpCapabilities) return Promise.resolve(undefined);
	return loadDevice(routerRtpCapabilities).catch((error: unknown) => {
		console.warn("could not load the media device before joining; it will be loaded on joining", error);
		return undefined;
	});
}
