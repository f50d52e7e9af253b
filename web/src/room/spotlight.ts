import { type Accessor, createEffect, createMemo, createSignal } from "solid-js";
import type { CallPeer, CallSession } from "../call/session.ts";

/**
 * Whose camera the stage shows large, if anyone's: a person someone chose
 * ("enlarge"), or, when following the speaker, whoever of the others spoke
 * last (they stay large through pauses until someone else speaks).
 */
export interface Spotlight {
	featured: Accessor<CallPeer | undefined>;
	following: Accessor<boolean>;
	enlarge(peerId: string): void;
	followSpeaker(on: boolean): void;
	backToGrid(): void;
}

type Choice = { peerId: string; follow: boolean } | undefined;

export function createSpotlight(session: CallSession, isSpeaking: (peer: CallPeer) => boolean): Spotlight {
	const [choice, setChoice] = createSignal<Choice>();
	const [lastSpeaker, setLastSpeaker] = createSignal<string>();
	const others = () => Object.values(session.state.peers).filter((peer) => !peer.isSelf);

	createEffect(() => {
		const speaker = others().find(isSpeaking);
		if (speaker) setLastSpeaker(speaker.id);
	});

	const featured = createMemo(() => {
		const current = choice();
		if (!current) return undefined;
		const peers = session.state.peers;
		if (!current.follow) return peers[current.peerId];
		const speaker = lastSpeaker();
		return (speaker ? peers[speaker] : undefined) ?? peers[current.peerId] ?? others()[0];
	});

	// Someone enlarged by choice who leaves takes the spotlight with them.
	createEffect(() => {
		const current = choice();
		if (current && !current.follow && !session.state.peers[current.peerId]) setChoice(undefined);
	});

	return {
		featured,
		following: () => choice()?.follow ?? false,
		enlarge: (peerId) => setChoice({ peerId, follow: false }),
		followSpeaker: (on) => {
			const shown = featured() ?? others()[0];
			if (!shown) return;
			// Someone speaking right now takes the place at once; otherwise whoever is shown keeps it.
			if (on) setLastSpeaker((others().find(isSpeaking) ?? shown).id);
			setChoice({ peerId: shown.id, follow: on });
		},
		backToGrid: () => setChoice(undefined),
	};
}
