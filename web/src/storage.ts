/**
 * Browser storage that never throws: private modes and blocked storage make
 * localStorage/sessionStorage throw, and remembering things is only a nicety.
 */
export const storageKeys = {
	/** Display name, shared by the home page and the pre-join screen. */
	name: "mindmeet:name",
	language: "mindmeet:language",
	/** Chosen microphone, camera or speaker (a MediaDeviceInfo.deviceId), by device kind. */
	device: (kind: MediaDeviceKind) => `mindmeet:device:${kind}`,
	/** "off" when the person switched the call's sound cues off on this device. */
	sounds: "mindmeet:sounds",
	/** Per-tab credentials for one room (see room/credentials.ts). */
	credentials: (roomId: string) => `mindmeet:credentials:${roomId}`,
} as const;

type Area = "local" | "session";

function area(which: Area): Storage | undefined {
	try {
		return which === "local" ? window.localStorage : window.sessionStorage;
	} catch {
		return undefined;
	}
}

export function readStored(which: Area, key: string): string | null {
	try {
		return area(which)?.getItem(key) ?? null;
	} catch {
		return null;
	}
}

export function writeStored(which: Area, key: string, value: string): void {
	try {
		area(which)?.setItem(key, value);
	} catch {
		// Full or blocked storage: the value is simply not remembered.
	}
}

export function removeStored(which: Area, key: string): void {
	try {
		area(which)?.removeItem(key);
	} catch {
		// Nothing to do: blocked storage holds nothing of ours.
	}
}
