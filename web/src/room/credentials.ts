import { readStored, removeStored, storageKeys, writeStored } from "../storage.ts";

/** What lets this tab into a room's call: the SFU token and the peer id it names. */
export interface RoomCredentials {
	token: string;
	peerId: string;
}

/** Kept per tab (sessionStorage): a reload rejoins at once, another tab has to ask on its own. */
export function saveCredentials(roomId: string, credentials: RoomCredentials): void {
	writeStored("session", storageKeys.credentials(roomId), JSON.stringify(credentials));
}

export function loadCredentials(roomId: string): RoomCredentials | undefined {
	const raw = readStored("session", storageKeys.credentials(roomId));
	if (!raw) return undefined;
	try {
		const value: unknown = JSON.parse(raw);
		if (typeof value !== "object" || value === null) return undefined;
		const { token, peerId } = value as Record<string, unknown>;
		if (typeof token === "string" && typeof peerId === "string") return { token, peerId };
	} catch {
		// Not ours or damaged: same as none.
	}
	return undefined;
}

export function forgetCredentials(roomId: string): void {
	removeStored("session", storageKeys.credentials(roomId));
}
