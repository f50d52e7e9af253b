import type { ApiError } from "@mindmeet/protocol";

/**
 * A failed API call. `serverMessage` is set only for answers whose message is
 * meant for the person (bad input, busy service); everything else is shown as
 * the generic error.
 */
export class ApiRequestError extends Error {
	readonly status: number;
	readonly serverMessage: string | undefined;
	/** The answer's machine-readable `code`, when it has one (e.g. `room-full`): what the UI decides on. */
	readonly code: string | undefined;

	constructor(status: number, serverMessage?: string, code?: string) {
		super(serverMessage ?? `API request failed with status ${status}`);
		this.name = "ApiRequestError";
		this.status = status;
		this.serverMessage = serverMessage;
		this.code = code;
	}
}

/** Statuses whose message tells the person what to do differently (or to wait). */
const statusesWithUserMessage = new Set([400, 409, 429, 503]);

function isApiError(body: unknown): body is ApiError {
	return typeof body === "object" && body !== null && typeof (body as { message?: unknown }).message === "string";
}

export interface CallOptions {
	body?: unknown;
	headers?: Record<string, string>;
}

/** One JSON call to the API; a 204 (or any empty success) resolves to undefined. */
export async function call<T>(method: "GET" | "POST" | "DELETE", path: string, options: CallOptions = {}): Promise<T> {
	const headers: Record<string, string> = { accept: "application/json", ...options.headers };
	const init: RequestInit = { method, headers };
	if (options.body !== undefined) {
		headers["content-type"] = "application/json";
		init.body = JSON.stringify(options.body);
	}
	const response = await fetch(path, init);
	const payload: unknown = await response.json().catch(() => undefined);
	if (!response.ok) {
		const message = statusesWithUserMessage.has(response.status) && isApiError(payload) ? payload.message : undefined;
		const code = isApiError(payload) && typeof payload.code === "string" ? payload.code : undefined;
		throw new ApiRequestError(response.status, message, code);
	}
	return payload as T;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export const roomPath = (roomId: string) => `/api/rooms/${encodeURIComponent(roomId)}`;

/** ws: or wss: to this page's host, whichever matches how the page was loaded. */
export function socketOrigin(): string {
	return `${window.location.protocol === "https:" ? "wss:" : "ws:"}//${window.location.host}`;
}
