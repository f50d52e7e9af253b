import { createSignal, type JSX, Show } from "solid-js";
import type { CallSession } from "../call/session.ts";
import { t } from "../i18n/index.ts";
import { canShareScreen } from "../media/devices.ts";
import { ScreenShareIcon, ScreenShareStopIcon } from "../ui/icons.tsx";
import { showToast } from "../ui/toasts.tsx";

/** Share the screen or stop sharing it. Not offered where the browser cannot capture screens (phones) nor in audio-only rooms. */
export function ScreenShareButton(props: { session: CallSession }): JSX.Element {
	const [pending, setPending] = createSignal(false);
	const sharing = () => props.session.sharingScreen;

	const toggle = async () => {
		setPending(true);
		try {
			await props.session.setScreenShare(!sharing());
		} catch (error) {
			// Nothing to capture (Firefox with no screen it can reach, e.g.
			// headless or some Wayland setups) or the system refused: saying "try
			// again later" would mislead, trying again gives the same.
			const unavailable =
				error instanceof DOMException && (error.name === "NotFoundError" || error.name === "NotReadableError");
			showToast(t(unavailable ? "media.screenUnavailable" : "error.generic"));
		} finally {
			setPending(false);
		}
	};

	return (
		<Show when={canShareScreen && props.session.state.mode === "video"}>
			<button
				type="button"
				class="round-button"
				classList={{ "round-button--active": sharing() }}
				data-testid="screen-share"
				aria-label={t("media.screenShare")}
				title={sharing() ? t("media.screenShareStop") : t("media.screenShare")}
				aria-pressed={sharing()}
				disabled={props.session.state.status !== "joined" || pending()}
				onClick={toggle}
			>
				<Show when={sharing()} fallback={<ScreenShareIcon />}>
					<ScreenShareStopIcon />
				</Show>
			</button>
		</Show>
	);
}
