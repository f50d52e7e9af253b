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

async function capture(audio: boolean, video: boolean): Promise<LocalTracks> {
	if (!navigator.mediaDevices?.getUserMedia) throw new MediaAccessError("unavailable");
	try {
		const stream = await navigator.mediaDevices.getUserMedia({ audio, video });
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

export function stopTracks(tracks: LocalTracks): void {
	tracks.audio?.stop();
	tracks.video?.stop();
}

/** Catalogue key of the sentence that explains a media problem. */
export function mediaProblemMessage(problem: MediaProblem): "media.permission" | "media.unavailable" {
	return problem === "denied" ? "media.permission" : "media.unavailable";
}
