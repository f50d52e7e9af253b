import { createSignal, type JSX, Show } from "solid-js";
import type { CallSession } from "../call/session.ts";
import { t } from "../i18n/index.ts";
import { MediaAccessError, mediaProblemMessage } from "../media/devices.ts";
import { CamIcon, CamOffIcon, LeaveIcon, MicIcon, MicOffIcon, UserPlusIcon, UsersIcon } from "../ui/icons.tsx";
import { showToast } from "../ui/toasts.tsx";

/** The panels the control bar opens; at most one at a time. */
export type CallPanel = "participants" | "invite";

export function ControlBar(props: {
	session: CallSession;
	openPanel: CallPanel | undefined;
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

	return (
		<nav class="control-bar" aria-label={t("call.controls")}>
			<button
				type="button"
				class="round-button"
				classList={{ "round-button--off": !props.session.micOn }}
				data-testid="mic-toggle"
				aria-label={t("media.mic")}
				title={t("media.mic")}
				aria-pressed={props.session.micOn}
				disabled={!joined() || pending()}
				onClick={() => run(() => props.session.setMic(!props.session.micOn))}
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
					title={t("media.cam")}
					aria-pressed={props.session.camOn}
					disabled={!joined() || pending()}
					onClick={() => run(() => props.session.setCam(!props.session.camOn))}
				>
					<Show when={props.session.camOn} fallback={<CamOffIcon />}>
						<CamIcon />
					</Show>
				</button>
			</Show>
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
