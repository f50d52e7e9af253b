/**
 * Dead clients go away: a peer whose network vanished silently (no FIN, no
 * RST: packets just stop) stops answering the server's WebSocket pings and
 * is dropped within keepalive interval + grace, so nobody keeps a ghost.
 * Shortened here; 10 s + 10 s by default.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { createRoom, eventually, joinPeer, mint, type Rig, signalingUrl, startRig, TestPeer } from "./support.ts";

let rig: Rig;
before(async () => {
	rig = await startRig({ env: { SIGNALING_KEEPALIVE_SECONDS: "0.3", SIGNALING_KEEPALIVE_GRACE_SECONDS: "0.3" } });
});
after(async () => {
	await rig.close();
});

/** A TCP relay to the SFU that can go silent: both directions stop, the sockets stay open. */
async function relay(target: URL): Promise<{ port: number; blackhole(): void; close(): void; server: Server }> {
	const pairs: [Socket, Socket][] = [];
	let silent = false;
	const server = createServer((client) => {
		const upstream = connect(Number(target.port), target.hostname);
		pairs.push([client, upstream]);
		client.on("data", (chunk) => {
			if (!silent) upstream.write(chunk);
		});
		upstream.on("data", (chunk) => {
			if (!silent) client.write(chunk);
		});
		client.on("error", () => {});
		upstream.on("error", () => {});
		// The relay never forwards a close while silent: that is the point.
		client.on("close", () => {
			if (!silent) upstream.destroy();
		});
		upstream.on("close", () => {
			if (!silent) client.destroy();
		});
	});
	server.listen(0, "127.0.0.1");
	await once(server, "listening");
	const address = server.address();
	assert.ok(address && typeof address === "object");
	return {
		port: address.port,
		server,
		blackhole() {
			silent = true;
		},
		close() {
			for (const [a, b] of pairs) {
				a.destroy();
				b.destroy();
			}
			server.close();
		},
	};
}

test("a peer whose network goes silent is dropped by the keepalive and the others are told", async () => {
	const room = await createRoom(rig);
	const host = await joinPeer(rig, room, { name: "Ana", role: "host" });
	const direct = new URL(rig.sfu.signalingUrl);
	const path = await relay(direct);
	const { token, peerId } = await mint(rig, room, { name: "Bia" });
	const url = new URL(signalingUrl(rig, { token, roomId: room }));
	url.port = String(path.port);
	const bia = new TestPeer(url.toString());
	await bia.opened();
	const caps = await bia.request("getRouterRtpCapabilities", {});
	await bia.request("join", { rtpCapabilities: caps });
	await host.notification("peerJoined", (d) => d.id === peerId);
	// Longer than a keepalive interval while the path works: pings are answered, nothing happens.
	await new Promise((resolve) => setTimeout(resolve, 900));
	assert.ok(rig.sfu.rooms.rooms.get(room)?.peers.has(peerId), "a live peer is kept");

	path.blackhole();
	const left = await host.notification("peerLeft", (d) => d.peerId === peerId);
	assert.equal(left.reason, "dropped");
	await eventually(() => !rig.sfu.rooms.rooms.get(room)?.peers.has(peerId), "the ghost is gone");
	path.close();
	bia.close();
	host.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room closes once empty");
});
