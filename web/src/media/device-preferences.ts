import { createSignal } from "solid-js";
import { readStored, storageKeys, writeStored } from "../storage.ts";

/**
 * The microphone, camera and speaker the person chose, remembered on this
 * device. One signal for the whole app: the pre-join screen, the call's
 * settings popover, track capture and the audio elements all read it, so a
 * choice made anywhere applies everywhere.
 */
export type DeviceChoice = Partial<Record<MediaDeviceKind, string>>;

const kinds: MediaDeviceKind[] = ["audioinput", "videoinput", "audiooutput"];

function load(): DeviceChoice {
	const choice: DeviceChoice = {};
	for (const kind of kinds) {
		const id = readStored("local", storageKeys.device(kind));
		if (id) choice[kind] = id;
	}
	return choice;
}

const [choice, setChoice] = createSignal<DeviceChoice>(load());

/** The chosen device of a kind, or undefined for the system default. */
export function preferredDevice(kind: MediaDeviceKind): string | undefined {
	return choice()[kind];
}

export function preferDevice(kind: MediaDeviceKind, deviceId: string): void {
	writeStored("local", storageKeys.device(kind), deviceId);
	setChoice((current) => ({ ...current, [kind]: deviceId }));
}

/** Audio output can be chosen only where media elements can be pointed at a device (not Firefox by default, not Safari). */
export const canChooseSpeaker = typeof HTMLMediaElement !== "undefined" && "setSinkId" in HTMLMediaElement.prototype;
