import type { JSX } from "solid-js";
import { t } from "../i18n/index.ts";
import { createAudioLevel } from "../media/audio-level.ts";

/** A bar that moves with the microphone, so the person sees it hears them before anyone else does. */
export function MicLevel(props: { track: MediaStreamTrack | undefined }): JSX.Element {
	const audio = createAudioLevel(() => props.track);
	return (
		<meter
			class="mic-level"
			data-testid="mic-level"
			aria-label={t("media.micLevel")}
			min={0}
			max={1}
			value={audio.level()}
		/>
	);
}
