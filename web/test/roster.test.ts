import assert from "node:assert/strict";
import { test } from "node:test";
import type { PeerInfo } from "@mindmeet/protocol";
import {
	addPeer,
	clearPeerTrack,
	clearRemoteMedia,
	emptyRoster,
	type Roster,
	removePeer,
	setHost,
	setPeerPaused,
	setPeerTrack,
	setSpeaking,
	syncRoster,
	updateSelf,
} from "../src/call/roster.ts";

/** Tracks are only carried around by the roster, never used: any distinct object stands for one. */
const track = (label: string) => ({ label }) as unknown as MediaStreamTrack;

const ana: PeerInfo = { id: "ana", name: "Ana", role: "host" };
const bia: PeerInfo = { id: "bia", name: "Bia", role: "guest" };
const caio: PeerInfo = { id: "caio", name: "Caio", role: "guest" };

function joined(): Roster {
	return syncRoster(emptyRoster, ana, [bia]).roster;
}

test("the first sync lists ourselves first, then the others", () => {
	const { roster, arrived, departed } = syncRoster(emptyRoster, ana, [bia, caio]);
	assert.equal(roster.selfId, "ana");
	assert.deepEqual(Object.keys(roster.peers), ["ana", "bia", "caio"]);
	assert.equal(roster.peers.ana?.isSelf, true);
	assert.equal(roster.peers.bia?.isSelf, false);
	assert.deepEqual(
		arrived.map((peer) => peer.id),
		["bia", "caio"],
	);
	assert.deepEqual(departed, []);
});

test("updates never change their input", () => {
	const before = joined();
	const frozen = JSON.stringify(before);
	setPeerTrack(before, "bia", "cam", track("cam"), false);
	addPeer(before, caio, false);
	removePeer(before, "bia");
	setHost(before, "bia");
	setSpeaking(before, ["bia"]);
	updateSelf(before, { audioPaused: true });
	clearRemoteMedia(before);
	syncRoster(before, ana, [caio]);
	assert.equal(JSON.stringify(before), frozen);
});

test("peer joined and left; unknown ids and repeats change nothing", () => {
	const roster = joined();
	const withCaio = addPeer(roster, caio, false);
	assert.deepEqual(Object.keys(withCaio.peers), ["ana", "bia", "caio"]);
	assert.equal(addPeer(withCaio, caio, false), withCaio, "a known id is no news");
	const { roster: without, removed } = removePeer(withCaio, "bia");
	assert.equal(removed?.name, "Bia");
	assert.deepEqual(Object.keys(without.peers), ["ana", "caio"]);
	const unknown = removePeer(without, "nobody");
	assert.equal(unknown.roster, without);
	assert.equal(unknown.removed, undefined);
});

test("media that arrived before the announcement is shown with the peer", () => {
	const cam = track("early cam");
	const roster = addPeer(joined(), caio, false, { videoTrack: cam, videoPaused: true });
	assert.equal(roster.peers.caio?.videoTrack, cam);
	assert.equal(roster.peers.caio?.videoPaused, true);
});

test("tracks and pauses: set, pause, and clear only the track still shown", () => {
	const first = track("cam 1");
	const second = track("cam 2");
	let roster = setPeerTrack(joined(), "bia", "cam", first, false);
	roster = setPeerTrack(roster, "bia", "mic", track("mic"), true);
	assert.equal(roster.peers.bia?.audioPaused, true);
	roster = setPeerPaused(roster, "bia", "mic", false);
	assert.equal(roster.peers.bia?.audioPaused, false);
	assert.equal(setPeerPaused(roster, "bia", "screen", true), roster, "a screen has no paused state");
	roster = setPeerTrack(roster, "bia", "cam", second, false);
	assert.equal(clearPeerTrack(roster, "bia", "cam", first), roster, "an old consumer's close leaves the new track");
	roster = clearPeerTrack(roster, "bia", "cam", second);
	assert.equal(roster.peers.bia?.videoTrack, undefined);
	assert.equal(setPeerTrack(roster, "nobody", "cam", first, false), roster, "media of someone unknown waits");
});

test("the host role moves: exactly one host", () => {
	const roster = setHost(addPeer(joined(), caio, false), "caio");
	assert.deepEqual(
		Object.values(roster.peers).map((peer) => [peer.id, peer.role]),
		[
			["ana", "guest"],
			["bia", "guest"],
			["caio", "host"],
		],
	);
});

test("speaking: only a list of ids is taken; someone who left stops speaking", () => {
	let roster = setSpeaking(joined(), ["bia", 7, "ana"]);
	assert.deepEqual(roster.speaking, ["bia", "ana"]);
	assert.deepEqual(setSpeaking(roster, "garbage").speaking, []);
	roster = removePeer(roster, "bia").roster;
	assert.deepEqual(roster.speaking, ["ana"]);
});

test("our own tile follows our mute state", () => {
	const roster = updateSelf(joined(), { audioPaused: true, audioTrack: track("mine") });
	assert.equal(roster.peers.ana?.audioPaused, true);
	assert.equal(roster.peers.bia?.audioPaused, false);
	assert.equal(updateSelf(emptyRoster, { audioPaused: true }), emptyRoster, "before joining there is no self");
});

test("a drop or mediaReset clears everyone else's media, keeps the people and our own tracks", () => {
	const mine = track("mine");
	let roster = updateSelf(joined(), { videoTrack: mine });
	roster = setPeerTrack(roster, "bia", "cam", track("bia cam"), false);
	roster = setSpeaking(roster, ["bia"]);
	const cleared = clearRemoteMedia(roster);
	assert.deepEqual(Object.keys(cleared.peers), ["ana", "bia"], "no tile disappears");
	assert.equal(cleared.peers.bia?.videoTrack, undefined, "no ghost: the old track is gone");
	assert.equal(cleared.peers.ana?.videoTrack, mine);
	assert.deepEqual(cleared.speaking, []);
});

test("a rejoin sync keeps known peers (and their state), reports who came and went, follows names and roles", () => {
	let roster = setPeerPaused(joined(), "bia", "mic", true);
	roster = addPeer(roster, caio, false);
	const {
		roster: synced,
		arrived,
		departed,
	} = syncRoster(
		roster,
		{ ...ana, role: "guest" },
		[
			{ id: "dani", name: "Dani", role: "guest" },
			{ ...bia, role: "host" },
		],
		(id) => (id === "dani" ? { audioTrack: track("dani mic") } : {}),
	);
	assert.deepEqual(Object.keys(synced.peers), ["ana", "bia", "dani"], "known order kept, newcomers after");
	assert.equal(synced.peers.bia?.audioPaused, true, "state of someone still here is kept");
	assert.equal(synced.peers.bia?.role, "host");
	assert.equal(synced.peers.ana?.role, "guest");
	assert.ok(synced.peers.dani?.audioTrack, "a newcomer's early media is picked up");
	assert.deepEqual(
		arrived.map((peer) => peer.id),
		["dani"],
	);
	assert.deepEqual(
		departed.map((peer) => peer.id),
		["caio"],
	);
});

test("a rejoin with nobody changed reports nobody (no toasts after a blip)", () => {
	const roster = joined();
	const { arrived, departed } = syncRoster(roster, ana, [bia]);
	assert.deepEqual(arrived, []);
	assert.deepEqual(departed, []);
});
