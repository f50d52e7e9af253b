import { createSignal, type JSX, Show } from "solid-js";
import type { CallSession } from "../call/session.ts";
import { ChatToggle } from "../chat/chat-toggle.tsx";
import { t } from "../i18n/index.ts";
import { MediaAccessError, mediaProblemMessage } from "../media/devices.ts";
import {
	CamIcon,
	CamOffIcon,
	DevicesIcon,
	LeaveIcon,
	MicIcon,
	MicOffIcon,
	UserPlusIcon,
	UsersIcon,
} from "../ui/icons.tsx";
import { shortcutAria, useShortcuts, withShortcut } from "../ui/shortcuts.ts";
import { SoundToggle } from "../ui/sound-toggle.tsx";
import { showToast } from "../ui/toasts.tsx";
import { ScreenShareButton } from "./screen-share-button.tsx";

/** The panels the control bar opens; at most one at a time. */
export type CallPanel = "participants" | "invite" | "chat" | "devices";

export function ControlBar(props: {
	session: CallSession;
	openPanel: CallPanel | undefined;
	/** Chat messages that arrived while the chat was closed. */
	chatUnread: number;
	onTogglePanel: (panel: CallPanel) => void;
	onLeave: () => void;
}): JSX.Element {
	const [pending, setPending] = createSignal(false);
	const joined = () => props.session.state.status === "joined";

	const run = async (action: () => Promise<void>) => {
		setPending(true);
		try {
			await action();
		} catch (error) {
			showToast(t(error instanceof MediaAccessError ? mediaProblemMessage(error.problem) : "error.generic"));
		} finally {
			setPending(false);
		}
	};
	const canSwitch = () => joined() && !pending();
	const toggleMic = () => run(() => props.session.setMic(!props.session.micOn));
	const toggleCam = () => run(() => props.session.setCam(!props.session.camOn));

	// Same rules as the buttons: no switching while one is under way or before the call is joined.
	useShortcuts({
		mic: () => {
			if (canSwitch()) void toggleMic();
		},
		cam: () => {
			if (canSwitch() && props.session.state.mode === "video") void toggleCam();
		},
		chat: () => props.onTogglePanel("chat"),
	});

	return (
		<nav class="control-bar" aria-label={t("call.controls")}>
			<button
				type="button"
				class="round-button"
				classList={{ "round-button--off": !props.session.micOn }}
				data-testid="mic-toggle"
				aria-label={t("media.mic")}
				title={withShortcut(t("media.mic"), "mic")}
				aria-keyshortcuts={shortcutAria("mic")}
				aria-pressed={props.session.micOn}
				disabled={!canSwitch()}
				onClick={toggleMic}
			>
				<Show when={props.session.micOn} fallback={<MicOffIcon />}>
					<MicIcon />
				</Show>
			</button>
			<Show when={props.session.state.mode === "video"}>
				<button
					type="button"
					class="round-button"
					classList={{ "round-button--off": !props.session.camOn }}
					data-testid="cam-toggle"
					aria-label={t("media.cam")}
					title={withShortcut(t("media.cam"), "cam")}
					aria-keyshortcuts={shortcutAria("cam")}
					aria-pressed={props.session.camOn}
					disabled={!canSwitch()}
					onClick={toggleCam}
				>
					<Show when={props.session.camOn} fallback={<CamOffIcon />}>
						<CamIcon />
					</Show>
				</button>
			</Show>
			<ScreenShareButton session={props.session} />
			<ChatToggle
				open={props.openPanel === "chat"}
				unread={props.chatUnread}
				onToggle={() => props.onTogglePanel("chat")}
			/>
			<button
				type="button"
				class="round-button"
				classList={{ "round-button--active": props.openPanel === "participants" }}
				data-testid="participants-toggle"
				aria-label={t("participants.open")}
				title={t("participants.open")}
				aria-expanded={props.openPanel === "participants"}
				onClick={() => props.onTogglePanel("participants")}
			>
				<UsersIcon />
			</button>
			<button
				type="button"
				class="round-button"
				classList={{ "round-button--active": props.openPanel === "invite" }}
				data-testid="invite"
				aria-label={t("invite.open")}
				title={t("invite.open")}
				aria-expanded={props.openPanel === "invite"}
				onClick={() => props.onTogglePanel("invite")}
			>
				<UserPlusIcon />
			</button>
			<button
				type="button"
				class="round-button"
				classList={{ "round-button--active": props.openPanel === "devices" }}
				data-testid="devices-toggle"
				aria-label={t("media.devices")}
				title={t("media.devices")}
				aria-expanded={props.openPanel === "devices"}
				onClick={() => props.onTogglePanel("devices")}
			>
				<DevicesIcon />
			</button>
			<SoundToggle />
			<button
				type="button"
				class="round-button round-button--danger"
				data-testid="leave"
				aria-label={t("call.leave")}
				title={t("call.leave")}
				onClick={() => props.onLeave()}
			>
				<LeaveIcon />
			</button>
		</nav>
	);
}
