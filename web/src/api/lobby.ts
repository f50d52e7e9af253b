import { type KnockResponse, lobbyRoomFullCode } from "@mindmeet/protocol";
import { ApiRequestError, bearer, call, roomPath, socketOrigin } from "./http.ts";

/** Knock paths: the guest's own knock and the host's answers share them. */
const knockPath = (roomId: string, knockId: string) => `${roomPath(roomId)}/knocks/${encodeURIComponent(knockId)}`;

/**
 * Ask to be let in. 404: no such room; 429: knocking too often; 400: bad name (both with a message);
 * 409 with code `room-full` (isRoomFull): the room has no place now.
 */
export function knock(roomId: string, name: string): Promise<KnockResponse> {
	return call("POST", `${roomPath(roomId)}/knocks`, { body: { name } });
}

/** Withdraw a pending knock; only the browser that holds its secret can. */
export async function cancelKnock(roomId: string, knockId: string, secret: string): Promise<void> {
	await call("DELETE", knockPath(roomId, knockId), { headers: { "x-knock-secret": secret } });
}

/**
 * The host's answer. 404: the knock is gone; 409: already decided, or (code `room-full`, isRoomFull) the room
 * has no place for an admission, the knock still pending; 403: not the host (any more).
 */
export async function answerKnock(
	roomId: string,
	knockId: string,
	answer: "admit" | "deny",
	hostToken: string,
): Promise<void> {
	await call("POST", `${knockPath(roomId, knockId)}/${answer}`, { headers: bearer(hostToken) });
}

/** Where the knocking guest hears the host's answer (LobbyGuestEvent messages). */
export function guestWaitUrl(roomId: string, knockId: string, secret: string): string {
	return `${socketOrigin()}${knockPath(roomId, knockId)}/wait?secret=${encodeURIComponent(secret)}`;
}

/** Where the current host hears knocks (LobbyHostEvent messages). */
export function hostLobbyUrl(roomId: string, token: string): string {
	return `${socketOrigin()}${roomPath(roomId)}/lobby?token=${encodeURIComponent(token)}`;
}

/** The API refused a knock or an admission because the room is full (not because the knock was decided). */
export function isRoomFull(error: unknown): boolean {
	return error instanceof ApiRequestError && error.status === 409 && error.code === lobbyRoomFullCode;
}
