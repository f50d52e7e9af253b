import type {
	ApiError,
	CreateRoomRequest,
	CreateRoomResponse,
	JoinRoomRequest,
	JoinRoomResponse,
	RoomInfo,
} from "@mindmeet/protocol";

/**
 * A failed API call. `serverMessage` is set only for answers whose message is
 * meant for the person (bad input, busy service); everything else is shown as
 * the generic error.
 */
export class ApiRequestError extends Error {
	readonly status: number;
	readonly serverMessage: string | undefined;

	constructor(status: number, serverMessage?: string) {
		super(serverMessage ?? `API request failed with status ${status}`);
		this.name = "ApiRequestError";
		this.status = status;
		this.serverMessage = serverMessage;
	}
}

/** Statuses whose message tells the person what to do differently (or to wait). */
const statusesWithUserMessage = new Set([400, 409, 429, 503]);

function isApiError(body: unknown): body is ApiError {
	return typeof body === "object" && body !== null && typeof (body as { message?: unknown }).message === "string";
}

async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
	const init: RequestInit = { method, headers: { accept: "application/json" } };
	if (body !== undefined) {
		init.headers = { ...init.headers, "content-type": "application/json" };
		init.body = JSON.stringify(body);
	}
	const response = await fetch(path, init);
	const payload: unknown = await response.json().catch(() => undefined);
	if (!response.ok) {
		const message = statusesWithUserMessage.has(response.status) && isApiError(payload) ? payload.message : undefined;
		throw new ApiRequestError(response.status, message);
	}
	if (payload === undefined) throw new ApiRequestError(response.status);
	return payload as T;
}

const roomPath = (roomId: string) => `/api/rooms/${encodeURIComponent(roomId)}`;

export function createRoom(request: CreateRoomRequest): Promise<CreateRoomResponse> {
	return call("POST", "/api/rooms", request);
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

/** Temporary direct entry; the lobby (knock and admission) replaces it. */
export function joinRoom(roomId: string, request: JoinRoomRequest): Promise<JoinRoomResponse> {
	return call("POST", `${roomPath(roomId)}/join`, request);
}
