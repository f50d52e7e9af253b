import type { RoomInfo } from "@mindmeet/protocol";
import { createSignal, type JSX, onCleanup, onMount, Show } from "solid-js";
import { type CallEnd, CallSession } from "../call/session.ts";
import { t } from "../i18n/index.ts";
import {
	acquireTracks,
	type LocalTracks,
	MediaAccessError,
	mediaProblemMessage,
	stopTracks,
} from "../media/devices.ts";
import { showToast } from "../ui/toasts.tsx";
import { ControlBar } from "./control-bar.tsx";
import type { RoomCredentials } from "./credentials.ts";
import { TileGrid } from "./tile.tsx";

/** Mounted for one attempt at the call: unmounting it leaves the call. */
export function CallScreen(props: {
	room: RoomInfo;
	credentials: RoomCredentials;
	/** Tracks from the pre-join screen; without them (host, reload) the devices are asked for here. */
	tracks: LocalTracks | undefined;
	onEnded: (end: CallEnd) => void;
	onLeft: () => void;
}): JSX.Element {
	const session = new CallSession({
		roomId: props.room.roomId,
		sfuUrl: props.room.sfuUrl,
		token: props.credentials.token,
		mode: props.room.mode,
		onEnded: (end) => props.onEnded(end),
	});
	const [leaving, setLeaving] = createSignal(false);
	let disposed = false;

	onMount(async () => {
		let tracks = props.tracks;
		if (!tracks) {
			try {
				tracks = await acquireTracks({ audio: true, video: props.room.mode === "video" });
			} catch (error) {
				// Join anyway: being in the call without media beats not being in it.
				showToast(t(mediaProblemMessage(error instanceof MediaAccessError ? error.problem : "unavailable")));
				tracks = {};
			}
		}
		if (disposed) stopTracks(tracks);
		else session.start(tracks);
	});

	onCleanup(() => {
		disposed = true;
		void session.leave();
	});

	const leave = async () => {
		if (leaving()) return;
		setLeaving(true);
		await session.leave();
		props.onLeft();
	};

	return (
		<div class="call">
			<section class="stage" aria-label={t("call.participants")}>
				<Show
					when={session.state.status === "joined"}
					fallback={
						<p class="stage__status" aria-live="polite">
							{t("call.connecting")}
						</p>
					}
				>
					<TileGrid peers={Object.values(session.state.peers)} />
				</Show>
			</section>
			<ControlBar session={session} onLeave={leave} />
		</div>
	);
}
