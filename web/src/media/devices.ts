import { preferredDevice } from "./device-preferences.ts";

/** Local camera and microphone tracks, either of which may be missing. */
export interface LocalTracks {
	audio?: MediaStreamTrack;
	video?: MediaStreamTrack;
}

/** Why no track could be had: the person (or policy) said no, or there is no usable device. */
export type MediaProblem = "denied" | "unavailable";

export class MediaAccessError extends Error {
	readonly problem: MediaProblem;
	constructor(problem: MediaProblem, cause?: unknown) {
		super(`camera/microphone ${problem}`, { cause });
		this.name = "MediaAccessError";
		this.problem = problem;
	}
}

function problemOf(error: unknown): MediaProblem {
	const name = error instanceof DOMException ? error.name : "";
	return name === "NotAllowedError" || name === "SecurityError" ? "denied" : "unavailable";
}

/**
 * The remembered device, demanded exactly: a mere preference (`ideal`) is
 * taken loosely, and Chromium ignores it for microphones altogether.
 */
function constraint(wanted: boolean, kind: MediaDeviceKind, useChoice: boolean): boolean | MediaTrackConstraints {
	if (!wanted) return false;
	const deviceId = useChoice ? preferredDevice(kind) : undefined;
	return deviceId ? { deviceId: { exact: deviceId } } : true;
}

async function openStream(audio: boolean, video: boolean): Promise<MediaStream> {
	const media = navigator.mediaDevices;
	try {
		return await media.getUserMedia({
			audio: constraint(audio, "audioinput", true),
			video: constraint(video, "videoinput", true),
		});
	} catch (error) {
		// The remembered device is gone (unplugged, or its id reset with the site's data): the default beats nothing.
		const name = (error as { name?: unknown } | null)?.name;
		const gone = name === "OverconstrainedError" || name === "NotFoundError";
		const chosen = (audio && preferredDevice("audioinput")) || (video && preferredDevice("videoinput"));
		if (!gone || !chosen) throw error;
		return media.getUserMedia({ audio, video });
	}
}

async function capture(audio: boolean, video: boolean): Promise<LocalTracks> {
	if (!navigator.mediaDevices?.getUserMedia) throw new MediaAccessError("unavailable");
	try {
		const stream = await openStream(audio, video);
		return { audio: stream.getAudioTracks()[0], video: stream.getVideoTracks()[0] };
	} catch (error) {
		throw new MediaAccessError(problemOf(error), error);
	}
}

/**
 * Ask for the wanted devices in one prompt. If that fails for any reason but a
 * refusal (say, no camera on this machine), try each alone so a working
 * microphone is not lost to a missing camera. Throws MediaAccessError when
 * nothing at all could be had.
 */
export async function acquireTracks(want: { audio: boolean; video: boolean }): Promise<LocalTracks> {
	if (!want.audio && !want.video) return {};
	try {
		return await capture(want.audio, want.video);
	} catch (error) {
		if (!(want.audio && want.video) || (error instanceof MediaAccessError && error.problem === "denied")) throw error;
	}
	const [audio, video] = await Promise.allSettled([capture(true, false), capture(false, true)]);
	const tracks: LocalTracks = {
		audio: audio.status === "fulfilled" ? audio.value.audio : undefined,
		video: video.status === "fulfilled" ? video.value.video : undefined,
	};
	if (tracks.audio || tracks.video) return tracks;
	throw audio.status === "rejected" ? audio.reason : new MediaAccessError("unavailable");
}

/**
 * Exactly this device, for a switch the person asked for: a track from
 * another device would look like the switch did nothing.
 */
export async function acquireDevice(kind: keyof LocalTracks, deviceId: string): Promise<MediaStreamTrack> {
	if (!navigator.mediaDevices?.getUserMedia) throw new MediaAccessError("unavailable");
	try {
		const stream = await navigator.mediaDevices.getUserMedia({ [kind]: { deviceId: { exact: deviceId } } });
		const track = stream.getTracks()[0];
		if (!track) throw new MediaAccessError("unavailable");
		return track;
	} catch (error) {
		throw error instanceof MediaAccessError ? error : new MediaAccessError(problemOf(error), error);
	}
}

/** Phones and some embedded browsers cannot capture the screen at all; the share button is hidden there. */
export const canShareScreen =
	typeof navigator !== "undefined" && typeof navigator.mediaDevices?.getDisplayMedia === "function";

/**
 * Ask the person what to share (a screen, window or tab). Resolves to
 * undefined when they close the picker without choosing, which is no error.
 */
export async function captureScreen(): Promise<MediaStreamTrack | undefined> {
	try {
		const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
		return stream.getVideoTracks()[0];
	} catch (error) {
		if (error instanceof DOMException && error.name === "NotAllowedError") return undefined;
		throw error;
	}
}

export function stopTracks(tracks: LocalTracks): void {
	tracks.audio?.stop();
	tracks.video?.stop();
}

/** Catalogue key of the sentence that explains a media problem. */
export function mediaProblemMessage(problem: MediaProblem): "media.permission" | "media.unavailable" {
	return problem === "denied" ? "media.permission" : "media.unavailable";
}
