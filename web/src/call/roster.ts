/**
 * Who is in the call, as the screen shows them: one documented state shape
 * and pure update functions (mediasoup-demo's redux reducers are the model).
 * Each function returns a new Roster and leaves its input untouched (an
 * update that changes nothing returns the input itself); the session applies
 * the result to its Solid store.
 */
import type { MediaSource, PeerInfo, PeerRole } from "@mindmeet/protocol";

/** One person in the call. */
export interface CallPeer {
	id: string;
	name: string;
	role: PeerRole;
	isSelf: boolean;
	audioTrack?: MediaStreamTrack;
	videoTrack?: MediaStreamTrack;
	/** A shared screen, window or tab (never paused: sharing stops by closing it). */
	screenTrack?: MediaStreamTrack;
	/** Paused by its sender (remote) or by us (self): keep the track but show it as off. */
	audioPaused: boolean;
	videoPaused: boolean;
}

export interface Roster {
	/** Our own peer id, once the SFU told it (join answer). */
	selfId: string | undefined;
	/** By peer id, in the order they became known (ourselves first). */
	peers: Readonly<Record<string, CallPeer>>;
	/** Who the SFU hears speaking now, loudest first; it never lists muted microphones. */
	speaking: readonly string[];
}

export const emptyRoster: Roster = { selfId: undefined, peers: {}, speaking: [] };

/** The media fields of a peer, as one source sets them. */
export type MediaPatch = Partial<
	Pick<CallPeer, "audioTrack" | "videoTrack" | "screenTrack" | "audioPaused" | "videoPaused">
>;

/** Where a source's track goes on a CallPeer, with its paused flag (a screen has none). */
export function trackPatch(source: MediaSource, track: MediaStreamTrack | undefined, paused: boolean): MediaPatch {
	if (source === "mic") return { audioTrack: track, audioPaused: paused };
	if (source === "cam") return { videoTrack: track, videoPaused: paused };
	return { screenTrack: track };
}

function withPeers(roster: Roster, peers: Record<string, CallPeer>): Roster {
	return { ...roster, peers };
}

function patchPeer(roster: Roster, peerId: string, patch: Partial<CallPeer>): Roster {
	const peer = roster.peers[peerId];
	if (!peer) return roster;
	return withPeers(roster, { ...roster.peers, [peerId]: { ...peer, ...patch } });
}

/** Someone arrived; `media` is whatever of theirs arrived before their announcement. Known ids change nothing. */
export function addPeer(roster: Roster, info: PeerInfo, isSelf: boolean, media: MediaPatch = {}): Roster {
	if (roster.peers[info.id]) return roster;
	const peer: CallPeer = {
		id: info.id,
		name: info.name,
		role: info.role,
		isSelf,
		audioPaused: false,
		videoPaused: false,
		...media,
	};
	return { ...withPeers(roster, { ...roster.peers, [info.id]: peer }), selfId: isSelf ? info.id : roster.selfId };
}

/** Someone left; `removed` is who it was (undefined if unknown). */
export function removePeer(roster: Roster, peerId: string): { roster: Roster; removed: CallPeer | undefined } {
	const removed = roster.peers[peerId];
	if (!removed) return { roster, removed };
	const peers = { ...roster.peers };
	delete peers[peerId];
	return { roster: { ...withPeers(roster, peers), speaking: roster.speaking.filter((id) => id !== peerId) }, removed };
}

/**
 * Make the list match the SFU's after a (re)join: names and roles follow the
 * SFU, tracks of people still here stay. `arrived` and `departed` say who
 * changed; whether that is news is the caller's business.
 */
export function syncRoster(
	roster: Roster,
	self: PeerInfo,
	others: readonly PeerInfo[],
	mediaOf: (peerId: string) => MediaPatch = () => ({}),
): { roster: Roster; arrived: PeerInfo[]; departed: CallPeer[] } {
	const present = new Map<string, PeerInfo>([[self.id, self], ...others.map((info) => [info.id, info] as const)]);
	const departed = Object.values(roster.peers).filter((peer) => !present.has(peer.id));
	const arrived: PeerInfo[] = [];
	const peers: Record<string, CallPeer> = {};
	// Ourselves first, then the others in the order we knew them, then newcomers in the SFU's order.
	const order = [self.id, ...Object.keys(roster.peers).filter((id) => id !== self.id), ...present.keys()];
	for (const id of order) {
		const info = present.get(id);
		if (!info || peers[id]) continue;
		const known = roster.peers[id];
		if (known) {
			peers[id] = { ...known, name: info.name, role: info.role, isSelf: id === self.id };
			continue;
		}
		if (id !== self.id) arrived.push(info);
		peers[id] = {
			id,
			name: info.name,
			role: info.role,
			isSelf: id === self.id,
			audioPaused: false,
			videoPaused: false,
			...mediaOf(id),
		};
	}
	const speaking = roster.speaking.filter((id) => present.has(id));
	return { roster: { selfId: self.id, peers, speaking }, arrived, departed };
}

/** A track of a peer started, changed or (track undefined) stopped. */
export function setPeerTrack(
	roster: Roster,
	peerId: string,
	source: MediaSource,
	track: MediaStreamTrack | undefined,
	paused: boolean,
): Roster {
	return patchPeer(roster, peerId, trackPatch(source, track, paused));
}

/** A track is removed only if it is still the one shown (a newer one may have replaced it). */
export function clearPeerTrack(roster: Roster, peerId: string, source: MediaSource, track: MediaStreamTrack): Roster {
	const peer = roster.peers[peerId];
	const key = source === "mic" ? "audioTrack" : source === "cam" ? "videoTrack" : "screenTrack";
	if (!peer || peer[key] !== track) return roster;
	return patchPeer(roster, peerId, { [key]: undefined });
}

/** Muted or unmuted by its sender. A screen has no paused state. */
export function setPeerPaused(roster: Roster, peerId: string, source: MediaSource, paused: boolean): Roster {
	if (source === "screen") return roster;
	return patchPeer(roster, peerId, source === "mic" ? { audioPaused: paused } : { videoPaused: paused });
}

/** The host role moved to `hostId`: everyone else is a guest. */
export function setHost(roster: Roster, hostId: string): Roster {
	const peers: Record<string, CallPeer> = {};
	for (const [id, peer] of Object.entries(roster.peers)) {
		const role: PeerRole = id === hostId ? "host" : "guest";
		peers[id] = peer.role === role ? peer : { ...peer, role };
	}
	return withPeers(roster, peers);
}

/** The media of everyone else is gone (a drop, or mediaReset): the people stay, their tracks come back with new consumers. */
export function clearRemoteMedia(roster: Roster): Roster {
	const peers: Record<string, CallPeer> = {};
	for (const [id, peer] of Object.entries(roster.peers)) {
		peers[id] =
			peer.isSelf || (!peer.audioTrack && !peer.videoTrack && !peer.screenTrack)
				? peer
				: { ...peer, audioTrack: undefined, videoTrack: undefined, screenTrack: undefined };
	}
	return { ...withPeers(roster, peers), speaking: [] };
}

export function setSpeaking(roster: Roster, peerIds: unknown): Roster {
	const speaking = Array.isArray(peerIds) ? peerIds.filter((id): id is string => typeof id === "string") : [];
	return { ...roster, speaking };
}

/** Our own tile: tracks and mute state as we set them. */
export function updateSelf(roster: Roster, patch: Partial<CallPeer>): Roster {
	return roster.selfId ? patchPeer(roster, roster.selfId, patch) : roster;
}
