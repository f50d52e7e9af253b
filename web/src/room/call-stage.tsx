import { For, type JSX, Show } from "solid-js";
import type { CallSession } from "../call/session.ts";
import { createSpeaking } from "../call/speaking.ts";
import { ScreenShareView } from "./screen-share-view.tsx";
import { TileGrid } from "./tile.tsx";

/** What the call shows: shared screens large (when there are any), everyone's tiles beside or below them. */
export function CallStage(props: { session: CallSession }): JSX.Element {
	const isSpeaking = createSpeaking(props.session);
	const peers = () => Object.values(props.session.state.peers);
	const sharing = () => peers().filter((peer) => peer.screenTrack);
	return (
		<div class="call-stage" classList={{ "call-stage--presenting": sharing().length > 0 }}>
			<Show when={sharing().length > 0}>
				<div class="featured">
					<For each={sharing()}>{(peer) => <ScreenShareView peer={peer} />}</For>
				</div>
			</Show>
			<TileGrid peers={peers()} session={props.session} isSpeaking={isSpeaking} />
		</div>
	);
}
