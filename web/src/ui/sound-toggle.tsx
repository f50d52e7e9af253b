import Volume2 from "lucide-solid/icons/volume-2";
import VolumeX from "lucide-solid/icons/volume-x";
import { type JSX, Show } from "solid-js";
import { t } from "../i18n/index.ts";
import { setSoundsOn, soundsOn } from "./sounds.ts";

/** Switches the call's sound cues (join, leave, knock, message) on and off; remembered on this device. */
export function SoundToggle(): JSX.Element {
	return (
		<button
			type="button"
			class="round-button"
			classList={{ "round-button--off": !soundsOn() }}
			data-testid="sound-toggle"
			aria-label={t("sounds.toggle")}
			title={t("sounds.toggle")}
			aria-pressed={soundsOn()}
			onClick={() => setSoundsOn(!soundsOn())}
		>
			<Show when={soundsOn()} fallback={<VolumeX class="icon" />}>
				<Volume2 class="icon" />
			</Show>
		</button>
	);
}
