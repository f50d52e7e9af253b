import type { KnockResponse } from "@mindmeet/protocol";
import { bearer, call, roomPath, socketOrigin } from "./http.ts";

/** Knock paths: the guest's own knock and the host's answers share them. */
const knockPath = (roomId: string, knockId: string) => `${roomPath(roomId)}/knocks/${encodeURIComponent(knockId)}`;

/** Ask to be let in. 404: no such room; 429: knocking too often; 400: bad name (both with a message). */
export function knock(roomId: string, name: string): Promise<KnockResponse> {
	return call("POST", `${roomPath(roomId)}/knocks`, { body: { name } });
}

/** Withdraw a pending knock; only the browser that holds its secret can. */
export async function cancelKnock(roomId: string, knockId: string, secret: string): Promise<void> {
	await call("DELETE", knockPath(roomId, knockId), { headers: { "x-knock-secret": secret } });
}

/** The host's answer. 404: the knock is gone; 409: already decided; 403: not the host (any more). */
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
