import { createMemo, createSignal, For, type JSX, Show } from "solid-js";
import type { CallPeer, CallSession } from "../call/session.ts";
import { requestLayerForWidth } from "../call/video-layer.ts";
import { t } from "../i18n/index.ts";
import { TrackAudio, TrackVideo } from "../media/track-view.tsx";
import { Avatar } from "../ui/avatar.tsx";
import { EnlargeIcon, MicOffIcon } from "../ui/icons.tsx";
import { createElementSize } from "./element-size.ts";
import { fitGrid, tileGap } from "./grid-layout.ts";
import { createOnScreen, reportShown } from "./on-screen.ts";
import "./stage.css";

export function Tile(props: {
	peer: CallPeer;
	speaking: boolean;
	session: CallSession;
	/** Shown large on the stage (see spotlight.ts): the whole picture, not a crop. */
	featured?: boolean;
	/** Buttons in the tile's corner (enlarge, back to the grid…). */
	actions?: JSX.Element;
}): JSX.Element {
	const [element, setElement] = createSignal<HTMLElement>();
	// A paused camera shows the avatar rather than its last, frozen frame.
	const video = () => (props.peer.videoPaused ? undefined : props.peer.videoTrack);
	const micOff = () => !props.peer.audioTrack || props.peer.audioPaused;

	if (!props.peer.isSelf) {
		const size = createElementSize(element);
		requestLayerForWidth(
			() => size().width,
			(layer) => props.session.preferVideoLayer(props.peer.id, layer),
		);
		// Only a camera someone can see is forwarded to us (audio always is: see CallAudio).
		const peerId = props.peer.id;
		reportShown(createOnScreen(element), (shown) => props.session.showVideo(peerId, "cam", shown));
	}

	return (
		<div
			ref={setElement}
			class="tile"
			classList={{ "tile--featured": props.featured === true }}
			data-testid="tile"
			data-featured={String(props.featured === true)}
			data-peer-name={props.peer.name}
			data-self={String(props.peer.isSelf)}
			data-speaking={String(props.speaking)}
			data-mic={micOff() ? "off" : "on"}
			data-cam={video() ? "on" : "off"}
		>
			{/* Under the video, so it also covers the moment before the first frame arrives. */}
			<Avatar name={props.peer.name} />
			<Show when={video()}>
				{(track) => (
					<TrackVideo class="tile__video" track={track()} muted={props.peer.isSelf} mirrored={props.peer.isSelf} />
				)}
			</Show>
			<div class="tile__label">
				<Show when={micOff()}>
					<span class="tile__muted" role="img" aria-label={t("media.micMuted")} data-testid="tile-mic-off">
						<MicOffIcon />
					</span>
				</Show>
				<span class="tile__name">{props.peer.isSelf ? t("call.you", { name: props.peer.name }) : props.peer.name}</span>
			</div>
			<Show when={props.actions}>
				<div class="tile__actions">{props.actions}</div>
			</Show>
		</div>
	);
}

/**
 * Everyone else's voice, whether their tile is on screen or not: audio is
 * never paused, and a person on another page of the grid is still heard.
 */
export function CallAudio(props: { peers: CallPeer[] }): JSX.Element {
	return (
		<For each={props.peers.filter((peer) => !peer.isSelf)}>{(peer) => <TrackAudio track={peer.audioTrack} />}</For>
	);
}

/** A small round button in a tile's corner; `pressed` makes it a toggle. */
export function TileAction(props: {
	label: string;
	testId: string;
	pressed?: boolean;
	onClick: () => void;
	children: JSX.Element;
}): JSX.Element {
	return (
		<button
			type="button"
			class="tile-action"
			classList={{ "tile-action--on": props.pressed === true }}
			data-testid={props.testId}
			aria-label={props.label}
			title={props.label}
			aria-pressed={props.pressed}
			onClick={() => props.onClick()}
		>
			{props.children}
		</button>
	);
}

/**
 * Everyone's tiles, as large as the box allows (see fitGrid). The box is
 * measured, not the window, so the grid fits beside a shared screen or an
 * open side panel just as well as on the whole stage.
 */
export function TileGrid(props: {
	peers: CallPeer[];
	session: CallSession;
	isSpeaking: (peer: CallPeer) => boolean;
	/** Offered on the others' tiles; yours is not worth enlarging for yourself. */
	onEnlarge?: (peer: CallPeer) => void;
}): JSX.Element {
	const [area, setArea] = createSignal<HTMLElement>();
	const size = createElementSize(area);
	const fit = createMemo(() => fitGrid(props.peers.length, size().width, size().height));
	return (
		<div ref={setArea} class="tile-area">
			<div
				class="tile-grid"
				style={{
					"--cols": String(fit().columns),
					"--tile-width": `${fit().tileWidth}px`,
					"--gap": `${tileGap}px`,
				}}
			>
				<For each={props.peers}>
					{(peer) => (
						<Tile
							peer={peer}
							speaking={props.isSpeaking(peer)}
							session={props.session}
							actions={
								props.onEnlarge && !peer.isSelf ? (
									<TileAction
										label={t("stage.enlarge", { name: peer.name })}
										testId="tile-enlarge"
										onClick={() => props.onEnlarge?.(peer)}
									>
										<EnlargeIcon />
									</TileAction>
								) : undefined
							}
						/>
					)}
				</For>
			</div>
		</div>
	);
}
