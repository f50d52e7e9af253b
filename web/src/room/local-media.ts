import type { RoomMode } from "@mindmeet/protocol";
import { createSignal, onCleanup, onMount } from "solid-js";
import {
	acquireDevice,
	acquireTracks,
	type LocalTracks,
	MediaAccessError,
	type MediaProblem,
	stopTracks,
} from "../media/devices.ts";

type Kind = keyof LocalTracks;

/**
 * Camera and microphone before joining. Switching one off releases the device
 * (the camera light goes out); switching it on asks for it again. Whatever is
 * on when the person joins is handed over to the call; the rest is released
 * when the component goes away.
 */
export function createLocalMedia(mode: RoomMode) {
	const [tracks, setTracks] = createSignal<LocalTracks>({});
	const [problem, setProblem] = createSignal<MediaProblem>();
	const [pending, setPending] = createSignal(false);
	let disposed = false;
	let handedOver = false;

	const acquire = async (want: { audio: boolean; video: boolean }) => {
		setPending(true);
		try {
			const got = await acquireTracks(want);
			if (disposed) {
				stopTracks(got);
				return;
			}
			setTracks((current) => ({ audio: got.audio ?? current.audio, video: got.video ?? current.video }));
			setProblem(undefined);
		} catch (error) {
			if (!disposed) setProblem(error instanceof MediaAccessError ? error.problem : "unavailable");
		} finally {
			setPending(false);
		}
	};

	onMount(() => void acquire({ audio: true, video: mode === "video" }));
	onCleanup(() => {
		disposed = true;
		if (!handedOver) stopTracks(tracks());
	});

	return {
		tracks,
		problem,
		pending,
		toggle(kind: Kind): void {
			const current = tracks()[kind];
			if (current) {
				current.stop();
				setTracks((all) => ({ ...all, [kind]: undefined }));
			} else {
				void acquire({ audio: kind === "audio", video: kind === "video" });
			}
		},
		/**
		 * Capture from another device. A device that is off stays off (the
		 * choice is remembered and used when it is switched on).
		 */
		async useDevice(kind: Kind, deviceId: string): Promise<void> {
			const current = tracks()[kind];
			if (!current || current.getSettings().deviceId === deviceId) return;
			setPending(true);
			try {
				const track = await acquireDevice(kind, deviceId);
				// Switched off, switched again or gone meanwhile: this track is not wanted any more.
				if (disposed || handedOver || tracks()[kind] !== current) {
					track.stop();
					return;
				}
				current.stop();
				setTracks((all) => ({ ...all, [kind]: track }));
			} finally {
				setPending(false);
			}
		},
		/** The tracks now belong to the caller, who must stop them. */
		handOver(): LocalTracks {
			handedOver = true;
			return tracks();
		},
	};
}
