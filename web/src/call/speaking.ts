import { createMemo } from "solid-js";
import { createAudioLevel } from "../media/audio-level.ts";
import type { CallPeer, CallSession } from "./session.ts";

/**
 * Who is speaking, for the tiles' glow. Others: as the SFU reports them.
 * Ourselves: from our own microphone, measured here, so the glow follows our
 * voice at once instead of a round trip later. A muted microphone never
 * counts, whatever arrives from the SFU.
 */
export function createSpeaking(session: CallSession): (peer: CallPeer) => boolean {
	const ownMic = () => {
		const self = session.self;
		return self && !self.audioPaused ? self.audioTrack : undefined;
	};
	const own = createAudioLevel(ownMic);
	const heard = createMemo(() => new Set(session.state.speaking));
	return (peer) => {
		if (peer.isSelf) return own.speaking();
		return Boolean(peer.audioTrack) && !peer.audioPaused && heard().has(peer.id);
	};
}
