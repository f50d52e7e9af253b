import type { JSX } from "solid-js";
import type { CallSession } from "../call/session.ts";
import { t } from "../i18n/index.ts";
import { MediaAccessError, mediaProblemMessage } from "../media/devices.ts";
import { Panel } from "../ui/panel.tsx";
import { showToast } from "../ui/toasts.tsx";
import { DevicePickers } from "./device-pickers.tsx";

/** The call's device settings, above the control bar. A new device takes over at once, without rejoining. */
export function DevicesPopover(props: { session: CallSession; onClose: () => void }): JSX.Element {
	const tracks = () => ({ audio: props.session.self?.audioTrack, video: props.session.self?.videoTrack });
	const onSwitch = (kind: "audio" | "video", deviceId: string) => {
		props.session.useDevice(kind, deviceId).catch((error: unknown) => {
			showToast(
				t(
					error instanceof MediaAccessError && error.problem === "denied"
						? mediaProblemMessage(error.problem)
						: "media.deviceFailed",
				),
			);
		});
	};
	return (
		<Panel title={t("media.devicesTitle")} class="devices-popover" onClose={props.onClose}>
			<DevicePickers mode={props.session.state.mode} tracks={tracks()} onSwitch={onSwitch} />
		</Panel>
	);
}
