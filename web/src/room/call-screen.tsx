import type { RoomInfo } from "@mindmeet/protocol";
import type { Device } from "mediasoup-client";
import { createEffect, createSignal, type JSX, onCleanup, onMount, Show } from "solid-js";
import { type CallEnd, type CallNotice, CallSession } from "../call/session.ts";
import { ChatPanel } from "../chat/chat-panel.tsx";
import { createChat } from "../chat/chat-store.ts";
import { t } from "../i18n/index.ts";
import { HostLobby } from "../lobby/host-lobby.tsx";
import {
	acquireTracks,
	type LocalTracks,
	MediaAccessError,
	mediaProblemMessage,
	stopTracks,
} from "../media/devices.ts";
import { Panel } from "../ui/panel.tsx";
import { playSound } from "../ui/sounds.ts";
import { showToast } from "../ui/toasts.tsx";
import { AlonePanel } from "./alone-panel.tsx";
import { CallStage } from "./call-stage.tsx";
import { type CallPanel, ControlBar } from "./control-bar.tsx";
import { type RoomCredentials, saveCredentials } from "./credentials.ts";
import { DevicesPopover } from "./devices-popover.tsx";
import { InviteLink, roomLink } from "./invite.tsx";
import { ParticipantsPanel } from "./participants-panel.tsx";

function noticeText(notice: CallNotice): string {
	switch (notice.kind) {
		case "peer-joined":
			return t("call.peerJoined", { name: notice.name });
		case "peer-left":
			return t("call.peerLeft", { name: notice.name });
		case "became-host":
			return t("call.nowHost");
		case "reconnected":
			return t("call.reconnected");
	}
}

/** Arrivals and departures are heard too (if sounds are on), so nobody has to watch the screen for them. */
function onNotice(notice: CallNotice): void {
	if (notice.kind === "peer-joined") playSound("join");
	if (notice.kind === "peer-left") playSound("leave");
	showToast(noticeText(notice));
}

/** Mounted for one attempt at the call: unmounting it leaves the call. */
export function CallScreen(props: {
	room: RoomInfo;
	credentials: RoomCredentials;
	/** Tracks from the pre-join screen; without them (host, reload) the devices are asked for here. */
	tracks: LocalTracks | undefined;
	/** The media device, loaded while the room's page was open (see preloaded-device.ts). */
	preloadedDevice?: Promise<Device | undefined>;
	onEnded: (end: CallEnd) => void;
	onLeft: () => void;
}): JSX.Element {
	const session = new CallSession({
		...(props.preloadedDevice ? { preloadedDevice: props.preloadedDevice } : {}),
		roomId: props.room.roomId,
		sfuUrl: props.room.sfuUrl,
		credentials: props.credentials,
		mode: props.room.mode,
		onEnded: (end) => props.onEnded(end),
		onNotice,
		onChat: (messages, origin, more) => chat.receive(messages, origin, more),
		// Kept for a reload: the renewed token lets it straight back in, without knocking.
		onCredentials: (credentials) => saveCredentials(props.room.roomId, credentials),
	});
	const [leaving, setLeaving] = createSignal(false);
	const [openPanel, setOpenPanel] = createSignal<CallPanel>();
	const chat = createChat({
		selfId: () => session.state.selfId,
		isOpen: () => openPanel() === "chat",
		post: (text) => session.sendChat(text),
		loadOlder: (before) => session.loadOlderChat(before),
	});
	const [aloneDismissed, setAloneDismissed] = createSignal(false);
	const link = roomLink(props.room.roomId);
	const togglePanel = (panel: CallPanel) => setOpenPanel((open) => (open === panel ? undefined : panel));
	const closePanel = () => setOpenPanel(undefined);
	// Hidden while the invite popover is open: it shows the same link, and one is enough.
	const showAlone = () =>
		session.isHost && Object.keys(session.state.peers).length === 1 && !aloneDismissed() && openPanel() !== "invite";
	let disposed = false;

	// With the pre-join screen's tracks (an admitted guest) the connection opens now, while the call's
	// screen is being built, rather than after it is on the page.
	// Without them (host, reload) the devices are asked for first.
	const handedOver = props.tracks;
	if (handedOver) session.start(handedOver);
	onMount(async () => {
		if (handedOver) return;
		let tracks: LocalTracks;
		try {
			tracks = await acquireTracks({ audio: true, video: props.room.mode === "video" });
		} catch (error) {
			// Join anyway: being in the call without media beats not being in it.
			showToast(t(mediaProblemMessage(error instanceof MediaAccessError ? error.problem : "unavailable")));
			tracks = {};
		}
		if (disposed) stopTracks(tracks);
		else session.start(tracks);
	});

	onCleanup(() => {
		disposed = true;
		void session.leave();
	});

	// Shown for exactly as long as the connection is being retried; "Reconectado" follows from the session.
	createEffect(() => {
		if (!session.state.reconnecting) return;
		onCleanup(showToast(t("call.reconnecting"), { sticky: true }));
	});

	const leave = async () => {
		if (leaving()) return;
		setLeaving(true);
		await session.leave();
		props.onLeft();
	};

	return (
		<div class="call">
			<div class="call__body">
				<section class="stage" aria-label={t("call.participants")}>
					<Show
						when={session.state.status === "joined"}
						fallback={
							<p class="stage__status" aria-live="polite">
								{t("call.connecting")}
							</p>
						}
					>
						<CallStage session={session} />
					</Show>
					<Show when={showAlone()}>
						<AlonePanel link={link} onClose={() => setAloneDismissed(true)} />
					</Show>
				</section>
				<Show when={openPanel() === "participants"}>
					<ParticipantsPanel session={session} onClose={closePanel} />
				</Show>
				<Show when={openPanel() === "chat"}>
					<ChatPanel chat={chat} onClose={closePanel} />
				</Show>
			</div>
			<Show when={openPanel() === "devices"}>
				<DevicesPopover session={session} onClose={closePanel} />
			</Show>
			<Show when={openPanel() === "invite"}>
				<Panel title={t("invite.title")} class="invite-popover" onClose={closePanel}>
					<InviteLink link={link} />
				</Panel>
			</Show>
			<ControlBar
				session={session}
				openPanel={openPanel()}
				chatUnread={chat.unread()}
				onTogglePanel={togglePanel}
				onLeave={leave}
			/>
			{/* Mounted only while we are host: the socket opens with the role and closes without it. */}
			<Show when={session.isHost}>
				<HostLobby roomId={props.room.roomId} token={() => session.token} />
			</Show>
		</div>
	);
}
