/**
 * The headless participant (testing/src/headless-participant.ts) against
 * the real stack: redis-server, the API, the SFU with its mediasoup worker.
 * Three people without a browser (a host with its token, two guests who
 * knock and are admitted) send a microphone and a camera from one shared
 * ffmpeg replay, with real ICE, DTLS and SRTP (node-datachannel): each
 * receives the others' audio and video; a consumer it pauses (an off-page
 * tile) stops receiving while audio goes on, and comes back when resumed;
 * a camera nobody watches stops being sent (producerDemand) and returns
 * with its sequence numbers continuing; bad requests are refused and
 * change nothing. Waits are bounded polls on what arrived, never on time.
 * Needs ffmpeg.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { HeadlessParticipant } from "@mindmeet/testing/headless-participant";
import { headlessCleanup } from "@mindmeet/testing/headless-webrtc";
import { type SharedMediaFeed, startSharedFeed, tileProfile } from "@mindmeet/testing/media-feed";
import { admitOverHttp, createRoomOverHttp } from "@mindmeet/testing/signaling-peer";
import { freePort, type Stack, startStack } from "../../scripts/stack.ts";

let stack: Stack;
let feed: SharedMediaFeed;
let roomId: string;
let hostToken: string;
const people: HeadlessParticipant[] = [];

/** Poll `check` until it holds; fail after `timeoutMs` saying `what`. */
async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

function consumerOf(viewer: HeadlessParticipant, sender: HeadlessParticipant, kind: "audio" | "video") {
	const found = viewer.consumers().find((consumer) => consumer.peerId === sender.peerId && consumer.kind === kind);
	assert.ok(found, `${viewer.name} has a ${kind} consumer of ${sender.name}`);
	return found;
}

const packets = (viewer: HeadlessParticipant, consumerId: string) => viewer.received(consumerId)?.packets ?? 0;

async function guest(name: string): Promise<HeadlessParticipant> {
	const pending = await HeadlessParticipant.knock(stack.url, roomId, name);
	await admitOverHttp(stack.url, roomId, pending.knock.knockId, hostToken);
	const participant = await pending.enter({ sources: ["mic", "cam"], feed });
	people.push(participant);
	return participant;
}

describe("headless participant", () => {
	let host: HeadlessParticipant;
	let ann: HeadlessParticipant;
	let bob: HeadlessParticipant;

	before(async () => {
		stack = await startStack({ apiPort: await freePort(), rtcPort: 0, sfuWorkers: 1, output: "ignore" });
		feed = await startSharedFeed(tileProfile);
		({ roomId, hostToken } = await createRoomOverHttp(stack.url, "Host"));
		host = await HeadlessParticipant.enter(stack.url, roomId, hostToken, {
			name: "Host",
			sources: ["mic", "cam"],
			feed,
		});
		people.push(host);
		// One at a time, so everyone already inside renegotiates for each newcomer.
		ann = await guest("Ann");
		bob = await guest("Bob");
	});

	after(async () => {
		for (const participant of people) await participant.close();
		await feed?.stop();
		await stack?.stop();
		await headlessCleanup();
	});

	it("each receives the others' audio and video over DTLS/SRTP, with its own SSRCs", async () => {
		for (const viewer of people) await viewer.consumersAtLeast(4);
		await until("everyone receiving every consumer", () =>
			people.every((viewer) => viewer.consumers().every((consumer) => packets(viewer, consumer.id) > 20)),
		);
		for (const viewer of people) {
			const consumers = viewer.consumers();
			assert.equal(consumers.length, 4, `${viewer.name} consumes two people's mic and cam`);
			const others = people.filter((other) => other !== viewer).map((other) => other.peerId);
			assert.deepEqual(new Set(consumers.map((consumer) => consumer.peerId)), new Set(others));
			assert.deepEqual(consumers.map((consumer) => consumer.source).sort(), ["cam", "cam", "mic", "mic"]);
			assert.equal(viewer.receiver.state, "connected", "the recv peer connection is up (ICE and DTLS)");
			assert.equal(new Set(consumers.map((consumer) => consumer.ssrc)).size, 4);
			assert.deepEqual(viewer.errors, []);
		}
		// What arrived is what the consumers say: decrypted RTP on exactly their SSRCs.
		const streams = host.receiver.streams();
		for (const consumer of host.consumers()) {
			const stream = streams.find((candidate) => candidate.ssrc === consumer.ssrc);
			assert.ok(stream && stream.packets > 0, `RTP on ${consumer.kind} SSRC ${consumer.ssrc}`);
			assert.equal(stream.payloadType, consumer.kind === "audio" ? 100 : 101);
		}
	});

	it("a paused consumer stops receiving while audio goes on, and comes back when resumed", async () => {
		const video = consumerOf(host, ann, "video");
		const audio = consumerOf(host, ann, "audio");
		await host.pauseConsumer(video.id);
		assert.equal(host.consumers().find((consumer) => consumer.id === video.id)?.paused, true);
		// Let what was already on its way arrive: 25 audio packets (~0.5 s) later, nothing more is in flight.
		let mark = packets(host, audio.id);
		await until("audio after the pause", () => packets(host, audio.id) >= mark + 25);
		const videoAfterPause = packets(host, video.id);
		mark = packets(host, audio.id);
		await until("more audio", () => packets(host, audio.id) >= mark + 100);
		assert.equal(packets(host, video.id), videoAfterPause, "no video while paused");
		// Someone else still watches Ann's camera: Bob receives it all along.
		const bobsView = consumerOf(bob, ann, "video");
		const bobMark = packets(bob, bobsView.id);
		await until("Bob still receiving Ann's camera", () => packets(bob, bobsView.id) > bobMark + 10);

		await host.resumeConsumer(video.id);
		await until("video again after resume", () => packets(host, video.id) > videoAfterPause + 10);
	});

	it("a camera nobody watches stops being sent, and is sent again when someone looks", async () => {
		const views = [consumerOf(ann, host, "video"), consumerOf(bob, host, "video")];
		assert.equal(host.sendingVideo(), true);
		await ann.pauseConsumer(views[0]?.id as string);
		await bob.pauseConsumer(views[1]?.id as string);
		// The SFU lowers demand after a short delay, then tells the host nobody watches.
		await until("the host told nobody watches its camera", () => !host.sendingVideo());
		const before = bob.receiver.snapshot();
		await bob.resumeConsumer(views[1]?.id as string);
		await until("the host sending again", () => host.sendingVideo());
		await until("Bob receiving the host's camera again", () => {
			const totals = bob.totalsBetween(before, bob.receiver.snapshot(), [views[1]?.id as string]);
			return totals.packets > 60;
		});
		const totals = bob.totalsBetween(before, bob.receiver.snapshot(), [views[1]?.id as string]);
		// It comes back whole: from a key frame, with no gap in what Bob counts.
		assert.ok(totals.lost < 10, `lost ${totals.lost} of ${totals.expected} after the camera came back`);
		await ann.resumeConsumer(views[0]?.id as string);
	});

	it("refuses to pause a consumer it does not have, or a malformed request, and nothing changes", async () => {
		await assert.rejects(host.pauseConsumer("no-such-consumer"), /not-found/);
		await assert.rejects(host.resumeConsumer("no-such-consumer"), /not-found/);
		// Someone else's consumer is not ours to pause either.
		const bobs = consumerOf(bob, ann, "video");
		await assert.rejects(host.pauseConsumer(bobs.id), /not-found/);
		await assert.rejects(
			host.signaling.client.request("pauseConsumer", { consumerId: 42 }) as Promise<unknown>,
			/bad-request/,
		);
		// Still receiving everything, Bob included.
		const mark = host.consumers().map((consumer) => packets(host, consumer.id));
		const bobMark = packets(bob, bobs.id);
		await until("host still receiving all four", () =>
			host.consumers().every((consumer, index) => packets(host, consumer.id) > (mark[index] ?? 0) + 10),
		);
		await until("Bob still receiving Ann's camera", () => packets(bob, bobs.id) > bobMark + 10);
		assert.deepEqual(host.errors, []);
	});

	it("leaves cleanly: the others are told and their consumers of it close", async () => {
		const annId = ann.peerId;
		await ann.close();
		await until("Ann gone from the host's list", () => !host.peers.some((peer) => peer.id === annId));
		await until("the host's consumers of Ann closed", () =>
			host
				.consumers()
				.filter((consumer) => consumer.peerId === annId)
				.every((consumer) => consumer.closed),
		);
		const bobsOfHost = consumerOf(bob, host, "audio");
		const mark = packets(bob, bobsOfHost.id);
		await until("Bob still receiving the host", () => packets(bob, bobsOfHost.id) > mark + 10);
	});
});
