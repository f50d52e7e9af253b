/**
 * Host sign-in (when the server's ROOM_CREATION is `password` or `accounts`):
 * the credential is kept on this device (localStorage) until it expires, is
 * refused, or the host signs out. Guests never need it.
 */
import type { HostSession, SessionStatus, SignInRequest } from "@mindmeet/protocol";
import { readStored, removeStored, writeStored } from "../storage.ts";
import { bearer, call } from "./http.ts";

const storageKey = "mindmeet:host-session";

export function rememberedSession(): HostSession | undefined {
	const raw = readStored("local", storageKey);
	if (!raw) return undefined;
	try {
		const value = JSON.parse(raw) as Partial<HostSession> | null;
		if (typeof value?.token !== "string" || typeof value.expiresAt !== "number") return undefined;
		if (value.expiresAt <= Date.now()) {
			forgetSession();
			return undefined;
		}
		return {
			token: value.token,
			expiresAt: value.expiresAt,
			...(typeof value.name === "string" ? { name: value.name } : {}),
		};
	} catch {
		return undefined;
	}
}

export function rememberSession(session: HostSession): void {
	writeStored("local", storageKey, JSON.stringify(session));
}

export function forgetSession(): void {
	removeStored("local", storageKey);
}

/** Which mode the server is in, and whether `token` (if any) still holds there. */
export function getSessionStatus(token?: string): Promise<SessionStatus> {
	return call("GET", "/api/session", token ? { headers: bearer(token) } : {});
}

export function signIn(request: SignInRequest): Promise<HostSession> {
	return call("POST", "/api/session", { body: request });
}

export function signOut(token: string): Promise<void> {
	return call("DELETE", "/api/session", { headers: bearer(token) });
}
