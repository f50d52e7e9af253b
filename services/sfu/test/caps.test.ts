/**
 * Caps that hold under concurrency: one transport per direction, one
 * producer per source, ROOM_MAX_PEERS per room, SFU_MAX_ROOMS per node.
 * The request rate limit is raised out of the way here (a flood of 2,000
 * requests is what these tests need); rate-limit.test.ts tests it.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ServerRequests } from "@mindmeet/protocol";
import {
	connectPeer,
	createRoom,
	eventually,
	joinPeer,
	mint,
	opusParameters,
	type Rig,
	rejection,
	signalingUrl,
	startRig,
	TestPeer,
} from "./support.ts";

const unlimited = {
	SIGNALING_REQUEST_BURST: "100000",
	SIGNALING_REQUESTS_PER_SECOND: "100000",
	SIGNALING_FLOOD_REFUSALS: "1000000",
};

let rig: Rig;
before(async () => {
	// A host who is away keeps the role (and its place) for the whole file: no handover in the middle of a test.
	rig = await startRig({
		workers: 2,
		env: { ...unlimited, ROOM_MAX_PEERS: "3", HOST_HANDOVER_GRACE_SECONDS: "3600" },
	});
});
after(async () => {
	await rig.close();
});

type NewConsumer = ServerRequests["newConsumer"]["request"];

/** Settle every promise; the accepted values and the rejection messages. */
async function outcomes<T>(promises: Promise<T>[]): Promise<{ accepted: T[]; refused: string[] }> {
	const settled = await Promise.allSettled(promises);
	const accepted: T[] = [];
	const refused: string[] = [];
	for (const result of settled) {
		if (result.status === "fulfilled") accepted.push(result.value);
		else refused.push((result.reason as Error).message);
	}
	return { accepted, refused };
}

async function transportsInRouter(room: string): Promise<number> {
	const open = rig.sfu.rooms.rooms.get(room);
	assert.ok(open, "the room is open");
	return (await open.router.dump()).transportIds.length;
}

/** Floods both directions with `perDirection` concurrent requests; asserts exactly one of each got through. */
async function floodTransports(peer: TestPeer, perDirection: number) {
	const sends = outcomes(
		Array.from({ length: perDirection }, () => peer.request("createWebRtcTransport", { direction: "send" })),
	);
	const recvs = outcomes(
		Array.from({ length: perDirection }, () => peer.request("createWebRtcTransport", { direction: "recv" })),
	);
	const [send, recv] = await Promise.all([sends, recvs]);
	assert.equal(send.accepted.length, 1, "exactly one send transport");
	assert.equal(recv.accepted.length, 1, "exactly one recv transport");
	for (const message of [...send.refused, ...recv.refused]) assert.match(message, /^conflict: a (send|recv) transport/);
	return { send: send.accepted[0], recv: recv.accepted[0] };
}

test("2,000 concurrent createWebRtcTransport from one connection: exactly one per direction, the peer still works", async () => {
	const room = await createRoom(rig);
	const peer = await connectPeer(rig, room);
	const caps = await peer.request("getRouterRtpCapabilities", {});
	const { send } = await floodTransports(peer, 1000);
	assert.equal(await transportsInRouter(room), 2, "no stray transport was left in the router");
	assert.ok(send);
	// The peer is fine: it joins and produces on the transport it got.
	await peer.request("join", { rtpCapabilities: caps });
	const { producerId } = await peer.request("produce", {
		transportId: send.id,
		kind: "audio",
		rtpParameters: opusParameters(4242),
		source: "mic",
	});
	assert.ok(producerId);
	assert.ok((await peer.request("ping", {})).now > 0);
	peer.close();
});

test("300 concurrent produce of mic: exactly one producer, the others consume it once, and the source frees on close", async () => {
	const room = await createRoom(rig);
	const watcher = await joinPeer(rig, room, { name: "Watcher" });
	const peer = await connectPeer(rig, room, { name: "Flood" });
	const caps = await peer.request("getRouterRtpCapabilities", {});
	const send = await peer.request("createWebRtcTransport", { direction: "send" });
	await peer.request("join", { rtpCapabilities: caps });
	const { accepted, refused } = await outcomes(
		Array.from({ length: 300 }, (_, i) =>
			peer.request("produce", {
				transportId: send.id,
				kind: "audio",
				rtpParameters: opusParameters(10_000 + i),
				source: "mic",
			}),
		),
	);
	assert.equal(accepted.length, 1, "exactly one mic producer");
	for (const message of refused) assert.equal(message, "conflict: already producing mic");
	const open = rig.sfu.rooms.rooms.get(room);
	assert.equal(open?.peers.get(peer.peerId)?.producers.size, 1);
	assert.equal((await open?.router.dump())?.mapProducerIdConsumerIds.length, 1, "one producer in the router");

	// Consumers are bounded by what the room has: the watcher gets this one producer once.
	const producerId = accepted[0]?.producerId;
	await eventually(
		() =>
			watcher.serverRequests.some(
				(r) => r.method === "newConsumer" && (r.data as NewConsumer).producerId === producerId,
			),
		"the watcher consumes the mic",
	);
	assert.equal(watcher.serverRequests.filter((r) => r.method === "newConsumer").length, 1);
	assert.equal(open?.peers.get(watcher.peerId)?.consumers.size, 1);

	// Closing the producer frees the source: the next mic is accepted.
	await peer.request("closeProducer", { producerId: producerId ?? "" });
	const again = await peer.request("produce", {
		transportId: send.id,
		kind: "audio",
		rtpParameters: opusParameters(20_000),
		source: "mic",
	});
	assert.ok(again.producerId);
	// Other sources have their own slot.
	assert.match(
		await rejection(
			peer.request("produce", {
				transportId: send.id,
				kind: "audio",
				rtpParameters: opusParameters(20_001),
				source: "mic",
			}),
		),
		/^conflict: already producing mic/,
	);
	watcher.close();
	peer.close();
});

test("concurrent joins and connects: one of each is accepted, the rest get conflict", async () => {
	const room = await createRoom(rig);
	const peer = await connectPeer(rig, room);
	const caps = await peer.request("getRouterRtpCapabilities", {});
	const { send } = await floodTransports(peer, 1);
	const dtlsParameters = {
		role: "client" as const,
		fingerprints: [{ algorithm: "sha-256" as const, value: Array.from({ length: 32 }, () => "AB").join(":") }],
	};
	const connects = await outcomes(
		Array.from({ length: 200 }, () =>
			peer.request("connectWebRtcTransport", { transportId: send?.id ?? "", dtlsParameters }),
		),
	);
	assert.equal(connects.accepted.length, 1);
	for (const message of connects.refused) assert.equal(message, "conflict: the transport is already connected");
	const joins = await outcomes(Array.from({ length: 200 }, () => peer.request("join", { rtpCapabilities: caps })));
	assert.equal(joins.accepted.length, 1);
	for (const message of joins.refused) assert.match(message, /^conflict: already joined/);
	assert.ok((await peer.request("ping", {})).now > 0);
	peer.close();
});

test("a produce that fails gives its slot back: a correct one right after is accepted", async () => {
	const room = await createRoom(rig);
	const peer = await connectPeer(rig, room);
	const caps = await peer.request("getRouterRtpCapabilities", {});
	const send = await peer.request("createWebRtcTransport", { direction: "send" });
	await peer.request("join", { rtpCapabilities: caps });
	const broken = { ...opusParameters(1), codecs: [{ mimeType: "audio/nonsense", payloadType: 300, clockRate: -1 }] };
	const attempts = await outcomes([
		peer.rawRequest("produce", { transportId: send.id, kind: "audio", rtpParameters: broken, source: "mic" }),
		peer.rawRequest("produce", { transportId: send.id, kind: "audio", rtpParameters: broken, source: "mic" }),
	]);
	assert.equal(attempts.accepted.length, 0);
	assert.ok(attempts.refused.some((message) => message.startsWith("bad-request: produce")));
	const { producerId } = await peer.request("produce", {
		transportId: send.id,
		kind: "audio",
		rtpParameters: opusParameters(2),
		source: "mic",
	});
	assert.ok(producerId);
	peer.close();
});

test("after the worker dies and media moves, the slots start empty and the caps hold again exactly", async () => {
	const room = await createRoom(rig);
	const peer = await connectPeer(rig, room);
	let caps = await peer.request("getRouterRtpCapabilities", {});
	let { send } = await floodTransports(peer, 50);
	await peer.request("join", { rtpCapabilities: caps });
	await peer.request("produce", {
		transportId: send?.id ?? "",
		kind: "audio",
		rtpParameters: opusParameters(31),
		source: "mic",
	});
	const open = rig.sfu.rooms.rooms.get(room);
	assert.ok(open);
	const mark = peer.notifications.length;
	process.kill(open.worker.worker.pid, "SIGKILL");
	await peer.notification("mediaReset", () => true, mark);

	// Both directions and the mic are free again, and capped again.
	caps = await peer.request("getRouterRtpCapabilities", {});
	({ send } = await floodTransports(peer, 50));
	await peer.request("join", { rtpCapabilities: caps });
	const { accepted } = await outcomes(
		Array.from({ length: 50 }, (_, i) =>
			peer.request("produce", {
				transportId: send?.id ?? "",
				kind: "audio",
				rtpParameters: opusParameters(40 + i),
				source: "mic",
			}),
		),
	);
	assert.equal(accepted.length, 1);
	assert.equal(await transportsInRouter(room), 2);
	peer.close();
});

/**
 * Connect with a fresh token: "admitted" (the connection answers a ping) or
 * the reason of the `refused` notification it got before closing.
 */
async function attempt(
	on: Rig,
	room: string,
	name = "Late",
	role: "host" | "guest" = "guest",
): Promise<{ room: string; peer: TestPeer; peerId: string; outcome: string }> {
	const { token, peerId } = await mint(on, room, { name, role });
	const peer = new TestPeer(signalingUrl(on, { token, roomId: room }));
	const outcome = await Promise.race([
		peer.notification("refused").then((data) => data.reason),
		peer.opened().then(async () => {
			try {
				await peer.request("ping", {});
				return "admitted";
			} catch {
				// A refused connection is opened, told why, and closed: its ping is never answered.
				return (await peer.notification("refused")).reason;
			}
		}),
	]);
	// A refusal is final: stop, as the web client does (protoo-client would otherwise reconnect by itself
	// after any close that is not a clean 4000, and could take a place that frees up later in the test).
	if (outcome !== "admitted") peer.close();
	return { room, peer, peerId, outcome };
}

test("a full room refuses the next connection with room-full; the people inside are unaffected", async () => {
	const room = await createRoom(rig);
	// The host is in: every place is open to guests.
	const first = await joinPeer(rig, room, { name: "One", role: "host" });
	// Four at once for the two places left: exactly two get in.
	const attempts = await Promise.all(Array.from({ length: 4 }, (_, i) => attempt(rig, room, `Late ${i}`)));
	const outcomes = attempts.map((a) => a.outcome).sort();
	assert.deepEqual(outcomes, ["admitted", "admitted", "room-full", "room-full"]);
	assert.equal(rig.sfu.rooms.rooms.get(room)?.peers.size, 3, "exactly three inside");
	// The people inside still get answers.
	assert.ok((await first.request("ping", {})).now > 0);
	for (const a of attempts) if (a.outcome === "admitted") assert.ok((await a.peer.request("ping", {})).now > 0);
	// Someone inside reconnecting (a reload) is not refused: the connection replaces the old one.
	const inside = attempts.find((a) => a.outcome === "admitted");
	assert.ok(inside);
	const again = await connectPeer(rig, room, { name: "Again", peerId: inside.peerId });
	assert.ok((await again.request("ping", {})).now > 0);
	assert.equal(rig.sfu.rooms.rooms.get(room)?.peers.size, 3);
	again.close();
	await eventually(() => rig.sfu.rooms.rooms.get(room)?.peers.size === 2, "a place frees up");
	// Once a place is free, the next person gets in.
	const next = await attempt(rig, room, "Next");
	assert.equal(next.outcome, "admitted");
	next.peer.close();
	first.close();
	for (const a of attempts) a.peer.close();
});

test("the host always has a place: while the host is away guests fill all but one, and the host gets back in", async () => {
	const room = await createRoom(rig);
	const open = () => rig.sfu.rooms.rooms.get(room);
	// The host is not here (a reload, say): guests fill up, one place stays free.
	const guests = [];
	for (let i = 0; i < 2; i++) guests.push(await attempt(rig, room, `Guest ${i}`));
	assert.deepEqual(
		guests.map((g) => g.outcome),
		["admitted", "admitted"],
	);
	assert.equal(open()?.peers.size, 2);
	const refused = await attempt(rig, room, "One too many");
	assert.equal(refused.outcome, "room-full", "the host's place is not given to a guest");
	assert.equal(open()?.peers.size, 2);

	// The host comes back into the place kept for them.
	const host = await attempt(rig, room, "Host", "host");
	assert.equal(host.outcome, "admitted");
	assert.equal(open()?.hostPeerId, host.peerId);
	assert.equal(open()?.peers.size, 3);
	assert.equal((await attempt(rig, room, "Still too many")).outcome, "room-full");
	// Someone inside reloading is never refused, the host included.
	const guestAgain = await connectPeer(rig, room, { name: "Guest 0", peerId: guests[0]?.peerId ?? "" });
	assert.ok((await guestAgain.request("ping", {})).now > 0);
	const hostAgain = await connectPeer(rig, room, { name: "Host", role: "host" });
	assert.ok((await hostAgain.request("ping", {})).now > 0);
	assert.equal(open()?.peers.size, 3);

	// The host drops: their place is kept, the next guest is refused, the host comes back in.
	hostAgain.close();
	await eventually(() => open()?.peers.size === 2, "the host's connection is gone");
	assert.equal((await attempt(rig, room, "Opportunist")).outcome, "room-full");
	const back = await attempt(rig, room, "Host", "host");
	assert.equal(back.outcome, "admitted");
	assert.equal(open()?.peers.size, 3);
	// A guest leaving frees a place for a guest again (the host is in).
	guestAgain.close();
	await eventually(() => open()?.peers.size === 2, "a guest leaves");
	const next = await attempt(rig, room, "Next");
	assert.equal(next.outcome, "admitted");
	for (const peer of [next.peer, back.peer, host.peer, ...guests.map((g) => g.peer)]) peer.close();
});

test("the host and guests racing for the last places: the host always gets in, guests never take the host's place", async () => {
	const room = await createRoom(rig);
	const open = () => rig.sfu.rooms.rooms.get(room);
	const first = await attempt(rig, room, "First");
	assert.equal(first.outcome, "admitted");
	// One guest inside, the host away: one place for guests, one for the host. The host and four guests at once.
	const racers = await Promise.all([
		attempt(rig, room, "Host", "host"),
		...Array.from({ length: 4 }, (_, i) => attempt(rig, room, `Racer ${i}`)),
	]);
	const [host, ...guests] = racers;
	assert.equal(host?.outcome, "admitted", "the host got in");
	assert.deepEqual(guests.map((g) => g.outcome).sort(), ["admitted", "room-full", "room-full", "room-full"]);
	assert.equal(open()?.peers.size, 3, "exactly the room's three places are taken");
	assert.equal(open()?.hostPeerId, host?.peerId);
	for (const r of racers) if (r.outcome === "admitted") assert.ok((await r.peer.request("ping", {})).now > 0);

	// Guests alone racing while the host is away: of two free places, one is the host's.
	const other = await createRoom(rig);
	const crowd = await Promise.all(Array.from({ length: 5 }, (_, i) => attempt(rig, other, `Crowd ${i}`)));
	assert.deepEqual(crowd.map((c) => c.outcome).sort(), ["admitted", "admitted", "room-full", "room-full", "room-full"]);
	assert.equal(rig.sfu.rooms.rooms.get(other)?.peers.size, 2);
	const otherHost = await attempt(rig, other, "Host", "host");
	assert.equal(otherHost.outcome, "admitted");
	assert.equal(rig.sfu.rooms.rooms.get(other)?.peers.size, 3);
	for (const r of [first, ...racers, ...crowd, otherHost]) r.peer.close();
});

test("a full node refuses a connection that would open one more room with server-full; open rooms go on", async () => {
	const small = await startRig({ env: { ...unlimited, SFU_MAX_ROOMS: "2" } });
	try {
		const rooms = await Promise.all(Array.from({ length: 4 }, () => createRoom(small)));
		// Four new rooms at once on a node that takes two.
		const attempts = await Promise.all(rooms.map((room) => attempt(small, room)));
		const admitted = attempts.filter((a) => a.outcome === "admitted");
		const refused = attempts.filter((a) => a.outcome !== "admitted");
		assert.equal(admitted.length, 2, "two rooms opened");
		assert.deepEqual(
			refused.map((a) => a.outcome),
			["server-full", "server-full"],
		);
		assert.equal(small.sfu.rooms.rooms.size, 2);
		// A second person in a room that is open here is not turned away.
		const [one, two] = admitted;
		assert.ok(one && two);
		const second = await attempt(small, one.room, "Second");
		assert.equal(second.outcome, "admitted");
		for (const a of admitted) assert.ok((await a.peer.request("ping", {})).now > 0);
		// When a room closes its place is free: a refused room opens now.
		second.peer.close();
		one.peer.close();
		await eventually(() => small.sfu.rooms.rooms.size === 1, "the emptied room closes");
		const late = await attempt(small, refused[0]?.room ?? "");
		assert.equal(late.outcome, "admitted");
		late.peer.close();
		two.peer.close();
	} finally {
		await small.close();
	}
});
