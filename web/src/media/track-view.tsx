import { createEffect, type JSX, onCleanup } from "solid-js";
import { canChooseSpeaker, preferredDevice } from "./device-preferences.ts";

/** Point a media element at one track (or at nothing), following the track as it changes. */
function useTrack(element: () => HTMLMediaElement | undefined, track: () => MediaStreamTrack | undefined): void {
	createEffect(() => {
		const el = element();
		if (!el) return;
		const current = track();
		el.srcObject = current ? new MediaStream([current]) : null;
		if (current) {
			// Autoplay can still be refused (no user gesture yet); the element then waits for the next play().
			el.play().catch(() => {});
		}
	});
	onCleanup(() => {
		const el = element();
		if (el) el.srcObject = null;
	});
}

export function TrackVideo(props: {
	track: MediaStreamTrack | undefined;
	muted?: boolean;
	mirrored?: boolean;
	class?: string;
}): JSX.Element {
	let el: HTMLVideoElement | undefined;
	useTrack(
		() => el,
		() => props.track,
	);
	return (
		<video
			ref={el}
			class={props.mirrored ? `${props.class ?? ""} mirrored` : props.class}
			autoplay
			playsinline
			muted={props.muted === true}
		/>
	);
}

/**
 * A separate element for remote audio, so it plays whether or not there is
 * video. It plays on the chosen speaker, and moves when the choice changes.
 */
export function TrackAudio(props: { track: MediaStreamTrack | undefined }): JSX.Element {
	let el: HTMLAudioElement | undefined;
	useTrack(
		() => el,
		() => props.track,
	);
	createEffect(() => {
		const speaker = preferredDevice("audiooutput");
		// A speaker unplugged since it was chosen makes this fail; the element then keeps the default.
		if (el && canChooseSpeaker && speaker !== undefined) el.setSinkId(speaker).catch(() => {});
	});
	// biome-ignore lint/a11y/useMediaCaption: live call audio has no caption track to offer.
	return <audio ref={el} autoplay />;
}
