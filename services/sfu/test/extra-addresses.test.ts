/**
 * SFU_EXTRA_ADDRESSES: every worker listens on each extra address too, on
 * the same media port, and every transport announces it (issue 12: Firefox
 * pairs with no loopback candidate, so local mode needs a second address).
 * 127.0.0.2 stands in for that address: it needs no interface of its own.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { freePort } from "@mindmeet/testing/ports";
import { connectPeer, createRoom, type Rig, startRig } from "./support.ts";

let rig: Rig;
let rtcPort: number;
before(async () => {
	rtcPort = await freePort();
	rig = await startRig({ env: { SFU_RTC_PORT: String(rtcPort), SFU_EXTRA_ADDRESSES: "127.0.0.2" } });
});
after(async () => {
	await rig?.close();
});

test("a transport announces the listen address and each extra one, UDP and TCP, on the same port", async () => {
	const room = await createRoom(rig);
	const peer = await connectPeer(rig, room, { name: "Ana", role: "host" });
	for (const direction of ["send", "recv"] as const) {
		const transport = await peer.request("createWebRtcTransport", { direction });
		const seen = transport.iceCandidates.map(
			(candidate) => `${candidate.protocol} ${candidate.address}:${candidate.port}`,
		);
		assert.deepEqual(
			[...seen].sort(),
			[`tcp 127.0.0.1:${rtcPort}`, `tcp 127.0.0.2:${rtcPort}`, `udp 127.0.0.1:${rtcPort}`, `udp 127.0.0.2:${rtcPort}`],
			direction,
		);
	}
	peer.close();
});
