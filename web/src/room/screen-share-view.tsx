import type { JSX } from "solid-js";
import type { CallPeer } from "../call/session.ts";
import { t } from "../i18n/index.ts";
import { TrackVideo } from "../media/track-view.tsx";
import { ScreenShareIcon } from "../ui/icons.tsx";

/** A shared screen, large, with whose it is. Never mirrored or cropped: text on it must stay readable. */
export function ScreenShareView(props: { peer: CallPeer }): JSX.Element {
	const label = () => (props.peer.isSelf ? t("media.screenOwn") : t("media.screenOf", { name: props.peer.name }));
	return (
		<figure
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
