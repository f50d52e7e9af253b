import { For, type JSX, Show } from "solid-js";
import type { CallPeer } from "../call/session.ts";
import { t } from "../i18n/index.ts";
import { TrackAudio, TrackVideo } from "../media/track-view.tsx";
import { Avatar } from "../ui/avatar.tsx";
import { MicOffIcon } from "../ui/icons.tsx";

export function Tile(props: { peer: CallPeer }): JSX.Element {
	const video = () => (props.peer.videoPaused ? undefined : props.peer.videoTrack);
	const micOff = () => !props.peer.audioTrack || props.peer.audioPaused;

	return (
		<div
			class="tile"
			data-testid="tile"
			data-peer-name={props.peer.name}
			data-self={String(props.peer.isSelf)}
			data-speaking="false"
		>
			{/* Under the video, so it also covers the moment before the first frame arrives. */}
			<Avatar name={props.peer.name} />
			<Show when={video()}>
				{(track) => (
					<TrackVideo class="tile__video" track={track()} muted={props.peer.isSelf} mirrored={props.peer.isSelf} />
				)}
			</Show>
			<Show when={!props.peer.isSelf}>
				<TrackAudio track={props.peer.audioTrack} />
			</Show>
			<div class="tile__label">
				<Show when={micOff()}>
					<span class="tile__muted" role="img" aria-label={t("media.micMuted")}>
						<MicOffIcon />
					</span>
				</Show>
				<span class="tile__name">{props.peer.isSelf ? t("call.you", { name: props.peer.name }) : props.peer.name}</span>
			</div>
		</div>
	);
}

/** Columns that keep tiles closest to square-ish on a wide screen and on a tall one. */
function columns(count: number): { landscape: number; portrait: number } {
	const landscape = Math.max(1, Math.ceil(Math.sqrt(count)));
	const portrait = count <= 2 ? 1 : count <= 8 ? 2 : 3;
	return { landscape, portrait };
}

export function TileGrid(props: { peers: CallPeer[] }): JSX.Element {
	const style = () => {
		const cols = columns(props.peers.length);
		return { "--cols-landscape": String(cols.landscape), "--cols-portrait": String(cols.portrait) };
	};
	return (
		<div class="tile-grid" style={style()}>
			<For each={props.peers}>{(peer) => <Tile peer={peer} />}</For>
		</div>
	);
}
