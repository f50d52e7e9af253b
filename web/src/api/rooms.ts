import type {
	CreateRoomRequest,
	CreateRoomResponse,
	IceServersResponse,
	RenewTokenResponse,
	RoomInfo,
} from "@mindmeet/protocol";
import { ApiRequestError, bearer, call, roomPath } from "./http.ts";

/** `hostSession`: the sign-in token, when the server asks hosts to sign in (ROOM_CREATION password/accounts). */
export function createRoom(request: CreateRoomRequest, hostSession?: string): Promise<CreateRoomResponse> {
	return call("POST", "/api/rooms", { body: request, ...(hostSession ? { headers: bearer(hostSession) } : {}) });
}

/** The room's public facts, or null when there is no such room (any more). */
export async function getRoom(roomId: string): Promise<RoomInfo | null> {
	try {
		return await call<RoomInfo>("GET", roomPath(roomId));
	} catch (error) {
		// 400 too: an id that cannot be a room id names no room.
		if (error instanceof ApiRequestError && (error.status === 404 || error.status === 400)) return null;
		throw error;
	}
}

/** STUN/TURN servers for this call's transports; only holders of a token get (short-lived) TURN credentials. */
export async function getIceServers(roomId: string, token: string): Promise<RTCIceServer[]> {
	const { iceServers } = await call<IceServersResponse>("GET", `${roomPath(roomId)}/ice-servers`, {
		headers: bearer(token),
	});
	return iceServers.map(({ urls, username, credential }) => ({ urls, username, credential }));
}

/**
 * A fresh token for someone in the call right now (RenewTokenResponse). 401:
 * refused (expired, forged, revoked); 403: not in the call; 404: room gone;
 * 503: try later.
 */
export function renewToken(roomId: string, token: string): Promise<RenewTokenResponse> {
	return call("POST", `${roomPath(roomId)}/token`, { headers: bearer(token) });
}
