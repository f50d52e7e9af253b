/**
 * What this person sends: microphone, camera and screen tracks with their mute
 * state. Outlives connection attempts: a media layer that is closed on a drop
 * or a mediaReset leaves these running (producers use stopTracks: false), and
 * the next one sends them again, muted as the person left them.
 */
import type { MediaSource } from "@mindmeet/protocol";

export class LocalTracks {
	#tracks: Partial<Record<MediaSource, MediaStreamTrack>> = {};
	/** Muted by the person (the screen is never muted: sharing stops by closing it). */
	#paused: Record<MediaSource, boolean> = { mic: false, cam: false, screen: false };

	get(source: MediaSource): MediaStreamTrack | undefined {
		return this.#tracks[source];
	}

	/** Take a track in (replacing, without stopping, any old one: the caller decides about that). */
	set(source: MediaSource, track: MediaStreamTrack | undefined): void {
		if (track) this.#tracks[source] = track;
		else delete this.#tracks[source];
	}

	paused(source: MediaSource): boolean {
		return source !== "screen" && this.#paused[source];
	}

	setPaused(source: MediaSource, paused: boolean): void {
		if (source === "screen") return;
		this.#paused[source] = paused;
		const track = this.#tracks[source];
		// A disabled track sends silence or black, so muting holds even before the SFU hears of it.
		if (track) track.enabled = !paused;
	}

	/** Stop one source's track and forget it. */
	stop(source: MediaSource): void {
		this.#tracks[source]?.stop();
		delete this.#tracks[source];
	}

	stopAll(): void {
		for (const track of Object.values(this.#tracks)) track?.stop();
		this.#tracks = {};
	}
}
