import { createSignal, type JSX } from "solid-js";
import type { CallPeer, CallSession } from "../call/session.ts";
import { t } from "../i18n/index.ts";
import { TrackVideo } from "../media/track-view.tsx";
import { ScreenShareIcon } from "../ui/icons.tsx";
import { createOnScreen, reportShown } from "./on-screen.ts";

/** A shared screen, large, with whose it is. Never mirrored or cropped: text on it must stay readable. */
export function ScreenShareView(props: { peer: CallPeer; session: CallSession }): JSX.Element {
	const [element, setElement] = createSignal<HTMLElement>();
	if (!props.peer.isSelf) {
		const peerId = props.peer.id;
		reportShown(createOnScreen(element), (shown) => props.session.showVideo(peerId, "screen", shown));
	}
	const label = () => (props.peer.isSelf ? t("media.screenOwn") : t("media.screenOf", { name: props.peer.name }));
	return (
		<figure
			ref={setElement}
			class="screen-share"
			data-testid="screen-share-view"
			data-peer-name={props.peer.name}
			data-self={String(props.peer.isSelf)}
		>
			<TrackVideo class="screen-share__video" track={props.peer.screenTrack} muted />
			<figcaption class="screen-share__label">
				<ScreenShareIcon />
				<span class="screen-share__name">{label()}</span>
			</figcaption>
		</figure>
	);
}
