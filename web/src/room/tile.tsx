import { createEffect, createMemo, createSignal, For, type JSX, onCleanup, Show, untrack } from "solid-js";
import type { CallPeer, CallSession } from "../call/session.ts";
import { requestLayerForWidth } from "../call/video-layer.ts";
import { t } from "../i18n/index.ts";
import { TrackAudio, TrackVideo } from "../media/track-view.tsx";
import { Avatar } from "../ui/avatar.tsx";
import { EnlargeIcon, MicOffIcon, NextPageIcon, PreviousPageIcon } from "../ui/icons.tsx";
import { createElementSize } from "./element-size.ts";
import { fitGrid, tileGap } from "./grid-layout.ts";
import { createOnScreen, reportShown } from "./on-screen.ts";
import {
	arrangeTiles,
	clampPage,
	type Promotions,
	pageCount,
	pageOf,
	pageSizeFor,
	promote,
	promotedIds,
} from "./paging.ts";
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

/** Height kept for the page buttons under the grid when there is more than one page. */
const pagerHeight = 44;
/** How often speaker promotions are renewed or let go (see paging.ts). */
const promotionTickMs = 1000;

/**
 * Everyone's tiles, a page at a time (see paging.ts), as large as the box
 * allows (see fitGrid). The box is measured, not the window, so the grid
 * fits beside a shared screen or an open side panel just as well as on the
 * whole stage. Tiles of other pages are not rendered at all, so their
 * cameras are not forwarded (see on-screen.ts); everyone is still heard
 * (CallAudio).
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
	const pageSize = createMemo(() => pageSizeFor(size().width));
	const [page, setPage] = createSignal(0);
	// The holds change every second; only who is promoted rearranges tiles.
	let promotions: Promotions = { until: new Map() };
	const [promoted, setPromoted] = createSignal<string[]>([], {
		equals: (a, b) => a.length === b.length && a.every((id, i) => b[i] === id),
	});
	const byId = createMemo(() => new Map(props.peers.map((peer) => [peer.id, peer])));
	// Ourselves first, then everyone in the order they came.
	const ids = createMemo(() => [
		...props.peers.filter((peer) => peer.isSelf).map((peer) => peer.id),
		...props.peers.filter((peer) => !peer.isSelf).map((peer) => peer.id),
	]);
	const order = createMemo(() => arrangeTiles(ids(), promoted(), pageSize()));
	const pages = () => pageCount(order().length, pageSize());
	const current = () => clampPage(page(), order().length, pageSize());
	const shown = createMemo(() =>
		pageOf(order(), current(), pageSize()).flatMap((id) => {
			const peer = byId().get(id);
			return peer ? [peer] : [];
		}),
	);
	const speakingIds = () => props.peers.filter((peer) => !peer.isSelf && props.isSpeaking(peer)).map((p) => p.id);
	const updatePromotions = (speaking: string[]) => {
		const size = pageSize();
		const firstPage = new Set(order().slice(0, size));
		promotions = promote(promotions, speaking, (id) => firstPage.has(id), Date.now(), size);
		setPromoted(promotedIds(promotions));
	};
	// Whoever starts speaking is brought onto the first page…
	createEffect(() => {
		const speaking = speakingIds();
		untrack(() => updatePromotions(speaking));
	});
	// …and kept there while they go on speaking and a few seconds after.
	const tick = setInterval(() => untrack(() => updatePromotions(speakingIds())), promotionTickMs);
	onCleanup(() => clearInterval(tick));
	const fit = createMemo(() => fitGrid(shown().length, size().width, size().height - (pages() > 1 ? pagerHeight : 0)));
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
				<For each={shown()}>
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
			<Show when={pages() > 1}>
				<nav class="grid-pager" aria-label={t("stage.pages")}>
					<button
						type="button"
						class="tile-action"
						data-testid="grid-prev"
						aria-label={t("stage.previousPage")}
						title={t("stage.previousPage")}
						disabled={current() === 0}
						onClick={() => setPage(current() - 1)}
					>
						<PreviousPageIcon />
					</button>
					<span class="grid-pager__position" data-testid="grid-page" aria-live="polite">
						{t("stage.pageOf", { page: String(current() + 1), pages: String(pages()) })}
					</span>
					<button
						type="button"
						class="tile-action"
						data-testid="grid-next"
						aria-label={t("stage.nextPage")}
						title={t("stage.nextPage")}
						disabled={current() >= pages() - 1}
						onClick={() => setPage(current() + 1)}
					>
						<NextPageIcon />
					</button>
				</nav>
			</Show>
		</div>
	);
}
